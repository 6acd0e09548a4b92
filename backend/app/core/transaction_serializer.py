"""Transaction events serialized by a short walk instead of sentry-sdk's generic serializer, with
the same output.

sentry-sdk's `serialize` (sentry-sdk 2.75, module sentry_sdk.serializer) is written for anything
(frame locals, request bodies, user data): per value it keeps a memo and a path, asks whether the
path is a databag or a span attribute, and runs its repr hooks. On a sampled cached read that walk
over the transaction's ≈ 65 values was ≈ 0.5 ms of the event loop's ≈ 1.9 ms per sampled request
(docs/benchmarks.md, "Third pass"). A transaction holds none of what the walk is for, so
`TransactionSerializerIntegration` (an event processor) hands the SDK the event as a
`PreparedTransaction`; the serializer calls its `__sentry_repr__` (the SDK's hook for objects that
serialize themselves) *after* the event scrubber has run, and that walks the event by type only:

- the same conversions as the SDK's serializer: datetimes with sentry-sdk's `format_timestamp`,
  mappings to dicts with `str()` keys, the SDK's sequence types to lists, bytes decoded as UTF-8
  with replacement, infinite/NaN floats and unknown objects as their `repr`, `__sentry_repr__`
  objects (our SerializedSpan, app/core/trace_spans.py) as they serialize themselves;
- every AnnotatedValue (e.g. the scrubber's `[Filtered]`) flattened, its metadata in `_meta` at the
  same path, as the SDK does.

Whatever the walk does not reproduce exactly goes to the SDK's serializer unchanged (`_Unsupported`):
databags (`extra`, `breadcrumbs`, a request body), the `max_value_length` and `custom_repr`
options, registered repr processors, nesting deeper than MAX_DEPTH (the SDK marks cycles).
Error events never take this path. tests/test_transaction_serializer.py checks the output
against the SDK's, byte for byte, on real and edge-case events.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sentry_sdk
from sentry_sdk import serializer as sdk_serializer
from sentry_sdk.integrations import Integration
from sentry_sdk.scope import add_global_event_processor
from sentry_sdk.utils import AnnotatedValue, format_timestamp, safe_repr

MAX_DEPTH = 32  # far deeper than any transaction; a cycle reaches it and goes to the SDK's serializer
# Keys whose values sentry-sdk's serializer treats as databags (trimmed by depth and breadth).
DATABAG_KEYS = ("extra", "breadcrumbs")


class _Unsupported(Exception):
    """Something only sentry-sdk's serializer reproduces: it serializes the whole event instead."""


class PreparedTransaction(dict):
    """A transaction event whose serialization is `serialize_transaction` (see the module doc)."""

    def __sentry_repr__(self) -> dict[str, Any]:
        return serialize_transaction(self)


def _sdk_serialize(event: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
    """What sentry-sdk's client calls for every event (client._prepare_event)."""
    return sdk_serializer.serialize(event, max_request_body_size=options.get("max_request_body_size"),
                                    max_value_length=options.get("max_value_length"),
                                    custom_repr=options.get("custom_repr"))


def serialize_transaction(event: Mapping[str, Any]) -> dict[str, Any]:
    plain = dict(event)
    options = sentry_sdk.get_client().options
    if (options.get("max_value_length") is not None or options.get("custom_repr") is not None
            or sdk_serializer.global_repr_processors):
        return _sdk_serialize(plain, options)
    try:
        return _Walk().event(plain)
    except Exception:  # noqa: BLE001 - _Unsupported, or anything the SDK's serializer would handle its own way
        return _sdk_serialize(plain, options)


class _Walk:
    __slots__ = ("meta", "sequences")

    def __init__(self) -> None:
        self.meta: dict[str, Any] = {}
        self.sequences = tuple(sdk_serializer.sequence_types)

    def event(self, event: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in event.items():
            if key in DATABAG_KEYS and value:
                raise _Unsupported(key)
            if key == "request" and isinstance(value, Mapping) and "data" in value:
                raise _Unsupported("request body")
            str_key = str(key)
            out[str_key] = self.value(value, (str_key,))
        if self.meta:
            out["_meta"] = self.meta
        return out

    def annotate(self, path: tuple[str, ...], metadata: dict[str, Any]) -> None:
        node = self.meta
        for segment in path:
            node = node.setdefault(segment, {})
        node.setdefault("", {}).update(metadata)

    def value(self, value: Any, path: tuple[str, ...]) -> Any:
        t = type(value)
        # the exact types nearly every value has, each returned as the SDK's branches would
        if t is str or t is int or t is bool or value is None:
            return value
        if len(path) > MAX_DEPTH:
            raise _Unsupported("depth")
        if t is dict:
            return {k if type(k) is str else str(k): self.value(v, (*path, k if type(k) is str else str(k)))
                    for k, v in value.items()}
        if t is list:
            return [self.value(v, (*path, str(i))) for i, v in enumerate(value)]
        return self.other(value, path)

    def other(self, value: Any, path: tuple[str, ...]) -> Any:
        """Any other value, in the order of the SDK's _serialize_node_impl."""
        if isinstance(value, AnnotatedValue):
            self.annotate(path, value.metadata)
            value = value.value
            if isinstance(value, AnnotatedValue):
                raise _Unsupported("nested annotation")
        if value is None or isinstance(value, (bool, int, float)):
            if isinstance(value, float) and (math.isinf(value) or math.isnan(value)):
                return safe_repr(value)
            return value
        sentry_repr = getattr(type(value), "__sentry_repr__", None)
        if callable(sentry_repr):
            return sentry_repr(value)
        if isinstance(value, datetime):
            return str(format_timestamp(value))
        if isinstance(value, Mapping):
            return {str(k): self.value(v, (*path, str(k))) for k, v in dict(value.items()).items()}
        if not isinstance(value, (str, bytes, bytearray, memoryview)) and isinstance(value, self.sequences):
            return [self.value(v, (*path, str(i))) for i, v in enumerate(value)]
        if isinstance(value, (bytes, bytearray)):
            return value.decode("utf-8", "replace")
        if not isinstance(value, str):
            return safe_repr(value)
        return value


def prepare_transaction(event: Any, hint: Any) -> Any:
    if (type(event) is dict and event.get("type") == "transaction"
            and sentry_sdk.get_client().get_integration(TransactionSerializerIntegration) is not None):
        return PreparedTransaction(event)
    return event


class TransactionSerializerIntegration(Integration):
    """Registers prepare_transaction as an event processor (once per process, as integrations are)."""

    identifier = "app_transaction_serializer"

    @staticmethod
    def setup_once() -> None:
        add_global_event_processor(prepare_transaction)
