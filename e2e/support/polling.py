"""Poll with a deadline instead of sleeping and hoping: the test kit's wait_until, under the name the journeys use."""

from infra.testkit import wait_until as eventually  # noqa: F401
