"""Spotlight's envelope stream, collected for the session: the test kit's collector (infra/testkit/spotlight.py)."""

from infra.testkit.spotlight import Envelope, SentryEvent, SpotlightCollector  # noqa: F401
