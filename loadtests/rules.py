"""What the harness needs to know about each alerting rule, read from the rule source.

Two sources with one result (`RuleSet`):
- `from_prometheus(groups)`: the rules a live Prometheus actually loaded (`/api/v1/rules`), so a
  modified copy of the rules (the "break a rule on purpose" self-check) is what gets judged;
- `from_rule_files(docs)`: rule-file documents (`{"groups": [...]}`), e.g. what
  `monitoring.rules.catalogue.rule_groups(FAST)` generates, for offline use and unit tests.

Per alert we extract its `for`, its severity and service labels, the range windows its
expression reads (following recording rules it refers to), and the constant thresholds it
compares against. The theoretical detection minimum is built from those (see `theoretical_min`).
"""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|y|w|d|h|m|s)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
# a range selector or a subquery range: [15s], [1h30m], [5m:1m]
_RANGE = re.compile(r"\[((?:\d+(?:\.\d+)?(?:ms|y|w|d|h|m|s))+)(?::[^\]]*)?\]")
# a comparison against a constant arithmetic expression: "> 0.05", "> 14.4 * 0.001", "> (1 - 0.99)"
_COMPARISON = re.compile(r"(?<![=!<>])(>=|<=|>|<|==|!=)\s*(?:bool\s+)?(\(?[\d.\seE+\-*/()]+)")
# multi-window burn-rate rules put each (long, short) pair on its own line between "or" lines
_OR_SPLIT = re.compile(r"\n\s*or\s*\n")
_IDENT = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")


def parse_duration(text: str | float | int | None) -> float:
    """Prometheus duration ('1h30m', '750ms') or a number of seconds -> seconds."""
    if text is None or text == "":
        return 0.0
    if isinstance(text, int | float):
        return float(text)
    pos, total = 0, 0.0
    for m in _DURATION.finditer(text):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _UNIT_SECONDS[m.group(2)]
        pos = m.end()
    if pos != len(text):
        raise ValueError(f"not a Prometheus duration: {text!r}")
    return total


_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}


def _const(text: str) -> float | None:
    """Evaluate a constant arithmetic expression (numbers, + - * /, parentheses) or return None."""
    text = text.strip()
    # drop unbalanced trailing ')' that belong to the enclosing expression
    while text.count(")") > text.count("("):
        text = text[: text.rindex(")")] + text[text.rindex(")") + 1 :]
    while text and text[-1] in "+-*/(":
        text = text[:-1].strip()
    if not text:
        return None

    def ev(node: ast.AST) -> float:
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return float(node.value)
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](ev(node.left), ev(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -ev(node.operand)
        raise ValueError(node)

    try:
        return ev(ast.parse(text, mode="eval"))
    except (SyntaxError, ValueError, ZeroDivisionError):
        return None


# burn-rate form: "ratio / budget > factor" compares the ratio against budget * factor
_BURN = re.compile(r"/\s*(\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)\s*>\s*(\d+(?:\.\d+)?)")


def thresholds_of(expr: str) -> tuple[float, ...]:
    """Constants the expression compares its value against, in order of appearance.

    `x / 0.001 > 14.4` (a burn rate) yields the ratio threshold 0.0144.
    """
    out = [float(m.group(1)) * float(m.group(2)) for m in _BURN.finditer(expr)]
    expr = _BURN.sub(" ", expr)
    for m in _COMPARISON.finditer(expr):
        value = _const(m.group(2))
        if value is not None:
            out.append(value)
    return tuple(out)


def windows_of(expr: str) -> tuple[float, ...]:
    return tuple(parse_duration(m.group(1)) for m in _RANGE.finditer(expr))


@dataclass(frozen=True)
class AlertRule:
    name: str
    expr: str
    for_s: float
    labels: dict[str, str] = field(default_factory=dict)
    windows: tuple[float, ...] = ()  # every range window read, recording rules followed
    thresholds: tuple[float, ...] = ()
    arms: tuple[tuple[str, tuple[float, ...]], ...] = ()  # top-level `or` branches with their windows

    @property
    def severity(self) -> str:
        return self.labels.get("severity", "")

    @property
    def shortest_window(self) -> float:
        return min(self.windows) if self.windows else 0.0


@dataclass
class RuleSet:
    alerts: dict[str, AlertRule]
    scrape_interval_s: float = 1.0
    eval_interval_s: float = 1.0

    def names(self) -> list[str]:
        return sorted(self.alerts)

    def __getitem__(self, name: str) -> AlertRule:
        return self.alerts[name]

    def __contains__(self, name: object) -> bool:
        return name in self.alerts


def _build(alerts: Iterable[tuple[str, str, float, dict]], records: dict[str, str],
           scrape_interval_s: float, eval_interval_s: float) -> RuleSet:
    def windows(expr: str, seen: frozenset[str] = frozenset()) -> tuple[float, ...]:
        out = list(windows_of(expr))
        for ident in set(_IDENT.findall(expr)):
            if ident in records and ident not in seen:
                out.extend(windows(records[ident], seen | {ident}))
        return tuple(sorted(set(out)))

    rules = {}
    for name, expr, for_s, labels in alerts:
        if name in rules:  # one alert name defined twice: keep the first, the harness reports by name
            continue
        arms = tuple((arm, windows(arm)) for arm in _OR_SPLIT.split(expr)) if _OR_SPLIT.search(expr) else ()
        rules[name] = AlertRule(name, expr, for_s, dict(labels), windows(expr), thresholds_of(expr), arms)
    return RuleSet(rules, scrape_interval_s, eval_interval_s)


def from_rule_files(docs: Iterable[dict], scrape_interval_s: float = 1.0, eval_interval_s: float = 1.0) -> RuleSet:
    """Rule-file documents (`{"groups": [{"rules": [...]}, ...]}`) -> RuleSet."""
    alerts, records = [], {}
    for doc in docs:
        for group in doc.get("groups", []):
            for rule in group.get("rules", []):
                if "record" in rule:
                    # several rules may record one name (e.g. per label set): keep every expression
                    records[rule["record"]] = records.get(rule["record"], "") + "\n" + rule["expr"]
                elif "alert" in rule:
                    alerts.append((rule["alert"], rule["expr"], parse_duration(rule.get("for")), rule.get("labels", {})))
    return _build(alerts, records, scrape_interval_s, eval_interval_s)


def from_prometheus(groups: list[dict], scrape_interval_s: float, eval_interval_s: float) -> RuleSet:
    """The `data.groups` of Prometheus' `/api/v1/rules` -> RuleSet."""
    alerts, records = [], {}
    for group in groups:
        for rule in group.get("rules", []):
            if rule.get("type") == "recording":
                records[rule["name"]] = records.get(rule["name"], "") + "\n" + rule["query"]
            elif rule.get("type") == "alerting":
                alerts.append((rule["name"], rule["query"], float(rule.get("duration", 0)), rule.get("labels", {})))
    return _build(alerts, records, scrape_interval_s, eval_interval_s)


# --- detection latency -----------------------------------------------------------------------

@dataclass(frozen=True)
class Fill:
    """How long the rule's expression needs, after the fault starts, to become true.

    kind:
      "instant" - a gauge or `up` crosses at the first scrape after the fault (0 s);
      "ratio"   - a windowed ratio reaches its threshold when `threshold/level` of the window holds
                  faulty samples (level = the ratio the scenario produces, e.g. 0.3 errors); a
                  quantile q crosses when 1-q of the window is slow (pass threshold=1-q);
                  windows longer than the data Prometheus holds count only the data it holds.
                  Multi-window rules take their smallest threshold with their longest window:
                  a model, good to a scrape interval for the rules here (see the report);
      "age"     - an age threshold (seconds) in the expression itself: it takes that long;
      "count"   - a count over a window (`increase(...) > N`): N faulty events arrive after
                  N / (level x request rate) seconds (level = share of requests that fail);
      "fixed"   - `seconds` given explicitly (with the reason in the scenario).
    `delay`: an injected latency delays every observation of a slowed request by that much.

      "quantile" - a latency quantile: fills like "ratio" (pass threshold=1-q); its level for the
                  margin is the injected `delay` against the rule's latency threshold.
    `delay`: an injected latency delays every observation of a slowed request by that much.

    This model assumes steady traffic. Locust users are a closed loop (they wait for answers), so a
    latency fault also lowers the request rate; the harness therefore judges from what Prometheus
    measured: the start of the unbroken hold of the rule's expression that ended in the firing
    (see verdict.py). The model is the cross-check, and the margin check (`model_margin`).
    """

    kind: str = "instant"
    level: float = 0.0
    seconds: float = 0.0
    threshold: float | None = None  # the ratio to reach, when not the rule's own (quantiles: 1 - q)
    delay: float = 0.0


def fill_seconds(rule: AlertRule, fill: Fill, data_age_s: float | None = None, rps: float | None = None) -> float:
    return fill.delay + _fill(rule, fill, data_age_s, rps)


def _fill(rule: AlertRule, fill: Fill, data_age_s: float | None, rps: float | None) -> float:
    if fill.kind == "instant":
        return 0.0
    if fill.kind == "fixed":
        return fill.seconds
    if fill.kind == "age":  # the age threshold: the smallest constant above 1 (a depth limit is larger)
        return min((t for t in rule.thresholds if t > 1), default=0.0)
    if fill.kind == "count":
        count = max((t for t in rule.thresholds if t >= 1), default=0.0)
        return count / (fill.level * rps) if rps and fill.level else 0.0
    if fill.kind in ("ratio", "quantile"):
        if not fill.level or not rule.windows:
            return 0.0
        arms = [(windows_of_arm, thresholds_of(arm)) for arm, windows_of_arm in rule.arms] or [
            (rule.windows, rule.thresholds)]
        fills = []
        for windows, thresholds in arms:
            threshold = fill.threshold if fill.threshold is not None else min(
                (t for t in thresholds if 0 < t < fill.level), default=0.0)
            frac = min(1.0, threshold / fill.level) if threshold else 0.0
            clipped = [min(w, data_age_s) if data_age_s else w for w in windows] or [0.0]
            fills.append(max(clipped) * frac)
        return min(fills)
    raise ValueError(f"unknown fill kind {fill.kind!r}")


def theoretical_min(rule: AlertRule, fill: Fill, data_age_s: float | None = None, rps: float | None = None,
                    measured_fill_s: float | None = None) -> float:
    """The earliest the rule can fire after the fault begins: its `for` plus the window fill (the
    measured one when given: from the fault to the start of the unbroken hold of the rule's
    expression that ended in the firing; else the model's)."""
    fill_s = measured_fill_s if measured_fill_s is not None else fill_seconds(rule, fill, data_age_s, rps)
    return rule.for_s + fill_s


def acceptance_bound(rule: AlertRule, fill: Fill, rules: RuleSet, data_age_s: float | None = None,
                     rps: float | None = None, measured_fill_s: float | None = None) -> float:
    """Within two evaluation intervals plus one scrape interval of the theoretical minimum."""
    return (theoretical_min(rule, fill, data_age_s, rps, measured_fill_s)
            + 2 * rules.eval_interval_s + rules.scrape_interval_s)


# --- margins: how far past (or below) its threshold a scenario drives a rule ---------------------

# the first comparison against a constant: "x > 0.05", "x / 0.001 > 14.4", "label_replace(x > 15, ...)"
_FIRST_COMPARISON = re.compile(r"(?<![=!<>])(>=|<=|>|<)\s*(?!bool)([\d.\seE+\-*/()]+)")


@dataclass(frozen=True)
class Comparison:
    """The rule's primary comparison `lhs > threshold` (the first one in its expression)."""

    lhs: str
    op: str
    threshold: float


def primary_comparison(expr: str) -> Comparison | None:
    """`lhs op threshold` of the first comparison against a positive constant, or None for rules
    that are binary (`up == 0`, `absent(...)`, `x > 0`) or compare against another series
    (`a > 1.2 * (a offset 1d)`)."""
    m = _FIRST_COMPARISON.search(expr)
    if not m:
        return None
    raw = m.group(2).rstrip()
    if raw and raw[-1] in "+-*/(":  # the right-hand side goes on with a series: not a constant
        return None
    threshold = _const(raw)
    if threshold is None or threshold <= 0:
        return None
    head = expr[: m.start()]
    depth, start = 0, 0
    for i in range(len(head) - 1, -1, -1):  # the innermost unmatched "(" opens the left-hand side
        if head[i] == ")":
            depth += 1
        elif head[i] == "(":
            if depth == 0:
                start = i + 1
                break
            depth -= 1
    lhs = head[start:].strip()
    scaled = re.fullmatch(r"(.*\S)\s*/\s*(\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)", lhs, re.S)
    if scaled:  # a burn rate `ratio / budget > factor` compares the ratio with budget x factor
        lhs, threshold = scaled.group(1), threshold * float(scaled.group(2))
    return Comparison(lhs, m.group(1), threshold) if lhs else None


def model_margin(rule: AlertRule, fill: Fill, rps: float) -> float | None:
    """The level the scenario's fault drives the rule's primary comparison to, divided by its
    threshold, at `rps` backend requests/s of steady traffic. None: the rule is binary (a series
    exists or `up` is 0) and has no margin to speak of."""
    cmp = primary_comparison(rule.expr)
    if cmp is None:
        return None
    if fill.kind == "count":
        return fill.level * rps * rule.shortest_window / cmp.threshold
    if fill.kind == "quantile":
        return fill.delay / cmp.threshold
    if fill.kind == "age":  # the age keeps growing: when the rule fires it is threshold + for
        return (cmp.threshold + rule.for_s) / cmp.threshold
    if fill.kind in ("ratio", "instant", "fixed"):
        return fill.level / cmp.threshold if fill.level else None
    raise ValueError(f"unknown fill kind {fill.kind!r}")


# The whole expression as a formula over its comparisons, for the measured margin: `and` needs
# every side (the smallest level/threshold counts), `or` any arm (the largest counts).
_SET_OP = re.compile(r"\b(and|or|unless)\b")
_MODIFIERS = re.compile(r"^\s*(?:(?:on|ignoring)\s*\([^)]*\)\s*)?(?:group_(?:left|right)\s*(?:\([^)]*\))?\s*)?")


@dataclass(frozen=True)
class Formula:
    op: str  # "and" | "or" | "cmp"
    parts: tuple[Formula, ...] = ()
    cmp: Comparison | None = None

    def leaves(self) -> list[Comparison]:
        return [self.cmp] if self.cmp else [c for p in self.parts for c in p.leaves()]

    def level(self, ratios: dict[Comparison, float]) -> float:
        """level / threshold of the whole rule from each comparison's (missing: 0, cannot hold)."""
        if self.cmp:
            return ratios.get(self.cmp, 0.0)
        values = [p.level(ratios) for p in self.parts]
        return min(values) if self.op == "and" else max(values)


def _split_top(text: str) -> list[tuple[str, str]]:
    """(operator before, part) for the parts of `text` joined by and/or/unless at depth 0."""
    out, depth, last, op = [], 0, 0, ""
    i = 0
    while i < len(text):
        ch = text[i]
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == '"':
            i = text.index('"', i + 1)
        elif depth == 0:
            m = _SET_OP.match(text, i)
            if m and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] in "_:")):
                out.append((op, text[last:i]))
                op, last = m.group(1), m.end()
                i = m.end()
                continue
        i += 1
    out.append((op, text[last:]))
    return out


def _wrapped(text: str) -> str | None:
    """The inside of `( ... )` when the parentheses enclose all of `text`."""
    text = text.strip()
    if not text.startswith("("):
        return None
    depth = 0
    for i, ch in enumerate(text):
        depth += ch == "("
        depth -= ch == ")"
        if depth == 0:
            return text[1:i] if i == len(text) - 1 else None
    return None


def formula_of(expr: str) -> Formula | None:
    """The rule's comparisons combined as its expression combines them, or None when a part is
    binary (`== 0`, `absent`, `x > 0`), compares two series, or uses `unless`."""
    parts = _split_top(expr)
    if len(parts) > 1:
        if any(op == "unless" for op, _ in parts):
            return None
        groups: list[list[Formula]] = [[]]  # and binds tighter than or
        for op, text in parts:
            sub = formula_of(_MODIFIERS.sub("", text, count=1))
            if sub is None:
                return None
            if op == "or":
                groups.append([])
            groups[-1].append(sub)
        arms = [g[0] if len(g) == 1 else Formula("and", tuple(g)) for g in groups]
        return arms[0] if len(arms) == 1 else Formula("or", tuple(arms))
    inner = _wrapped(expr)
    if inner is not None:
        return formula_of(inner)
    cmp = primary_comparison(expr)
    return Formula("cmp", cmp=cmp) if cmp else None
