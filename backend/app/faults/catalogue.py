"""The fault knobs, read from catalogue.json (the one fault catalogue, shared with loadtests/).

The knobs' types and bounds become the `/_faults` request model (unknown knobs and values out of
bounds are a 422) and the fault state every worker reads. Only the "knobs" section matters to the
backend; the scenarios in the same file are for the load harness and the tests.
"""

from __future__ import annotations

import json
from dataclasses import field, make_dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

CATALOGUE_FILE = Path(__file__).with_name("catalogue.json")


def load(path: Path = CATALOGUE_FILE) -> dict[str, Any]:
    with open(path) as fh:
        return json.load(fh)


KNOBS: dict[str, dict[str, Any]] = load()["knobs"]

_PY_TYPES: dict[str, Any] = {"number": float, "integer": int, "boolean": bool, "routes": tuple[str, ...]}


def _request_field(spec: dict[str, Any]) -> tuple[Any, Any]:
    kind = spec["type"]
    if kind == "routes":
        return list[str], Field(default_factory=list, max_length=spec["maxItems"], description=spec["description"])
    bounds = {k: spec[k] for k in ("minimum", "maximum") if k in spec}
    constraints = {"ge": bounds.get("minimum"), "le": bounds.get("maximum")}
    # strict: true/false for booleans, JSON numbers for numbers (not "yes", 1 or "0.5")
    return _PY_TYPES[kind], Field(_PY_TYPES[kind](spec["default"]), description=spec["description"], strict=True,
                                  **{k: v for k, v in constraints.items() if v is not None})


FaultsIn: type[BaseModel] = create_model(
    "FaultsIn", __config__=ConfigDict(extra="forbid"),
    **{name: _request_field(spec) for name, spec in KNOBS.items()},
)


def _state_field(name: str, spec: dict[str, Any]) -> tuple[str, Any, Any]:
    default = spec["default"]
    if spec["type"] == "routes":
        return name, tuple[str, ...], field(default=tuple(default))
    return name, _PY_TYPES[spec["type"]], field(default=_PY_TYPES[spec["type"]](default))


def _affects_requests(self: Any) -> bool:
    return self.error_ratio > 0 or self.latency_ms > 0 or self.n_plus_one > 0


def _to_json(self: Any) -> dict[str, Any]:
    return {name: list(getattr(self, name)) if KNOBS[name]["type"] == "routes" else getattr(self, name)
            for name in KNOBS}


def _from_json(cls: type, data: dict[str, Any]) -> Any:
    """A state from stored JSON; unknown keys are ignored and missing ones take their default."""
    values = {}
    for name, spec in KNOBS.items():
        if name not in data:
            continue
        kind, value = spec["type"], data[name]
        values[name] = tuple(value or ()) if kind == "routes" else _PY_TYPES[kind](value)
    return cls(**values)


FaultState = make_dataclass(
    "FaultState", [_state_field(n, s) for n, s in KNOBS.items()], frozen=True,
    namespace={"affects_requests": property(_affects_requests), "to_json": _to_json,
               "from_json": classmethod(_from_json),
               "__doc__": "The active faults (one attribute per knob of catalogue.json).",
               "__module__": __name__},
)
