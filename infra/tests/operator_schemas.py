"""Structural schemas of the Prometheus Operator objects infra/k8s generates (ServiceMonitor,
PrometheusRule v1; AlertmanagerConfig v1alpha1), for jsonschema.

kubernetes-validate knows only the Kubernetes API, not CRDs, and the operator's CRD files are not
shipped by any package installable here: these schemas are written by hand from the fields the
operator documents in its API types (monitoring.coreos.com v1 and v1alpha1), for the subset of
each object these manifests use plus their siblings. Unknown fields are rejected, as the API
server's structural-schema pruning would silently drop them.
"""

from __future__ import annotations

DURATION = {"type": "string", "pattern": r"^(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?$"}
STR = {"type": "string"}
BOOL = {"type": "boolean"}
STRS = {"type": "array", "items": STR}
LABELS = {"type": "object", "additionalProperties": STR}


def obj(properties: dict, required: tuple[str, ...] = ()) -> dict:
    return {"type": "object", "properties": properties, "required": list(required), "additionalProperties": False}


def arr(items: dict, min_items: int = 0) -> dict:
    return {"type": "array", "items": items, "minItems": min_items}


METADATA = {"type": "object", "required": ["name"],
            "properties": {"name": {"type": "string", "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"},
                           "namespace": STR, "labels": LABELS, "annotations": LABELS}}
SECRET_KEY = obj({"name": STR, "key": STR, "optional": BOOL}, ("key",))
RELABEL = obj({"action": {"enum": ["replace", "Replace", "keep", "drop", "labelmap", "labeldrop", "labelkeep",
                                   "hashmod", "lowercase", "uppercase", "keepequal", "dropequal"]},
               "sourceLabels": STRS, "separator": STR, "targetLabel": STR, "regex": STR, "modulus": {"type": "integer"},
               "replacement": STR})
ENDPOINT = obj({"port": STR, "targetPort": {"type": ["string", "integer"]}, "path": STR, "scheme": {"enum": ["http", "https"]},
                "interval": DURATION, "scrapeTimeout": DURATION, "honorLabels": BOOL, "honorTimestamps": BOOL,
                "relabelings": arr(RELABEL), "metricRelabelings": arr(RELABEL), "params": {"type": "object"}})
LABEL_SELECTOR = obj({"matchLabels": LABELS, "matchExpressions": arr({"type": "object"})})

SERVICE_MONITOR = obj({
    "apiVersion": {"const": "monitoring.coreos.com/v1"}, "kind": {"const": "ServiceMonitor"}, "metadata": METADATA,
    "spec": obj({"selector": LABEL_SELECTOR, "endpoints": arr(ENDPOINT, 1), "jobLabel": STR,
                 "namespaceSelector": obj({"any": BOOL, "matchNames": STRS}),
                 "targetLabels": STRS, "podTargetLabels": STRS, "sampleLimit": {"type": "integer"}},
                ("selector", "endpoints")),
}, ("apiVersion", "kind", "metadata", "spec"))

RULE = {"type": "object", "additionalProperties": False, "required": ["expr"],
        "properties": {"alert": STR, "record": STR, "expr": {"type": ["string", "integer"]}, "for": DURATION,
                       "keep_firing_for": DURATION, "labels": LABELS, "annotations": LABELS},
        "oneOf": [{"required": ["alert"]}, {"required": ["record"]}]}
PROMETHEUS_RULE = obj({
    "apiVersion": {"const": "monitoring.coreos.com/v1"}, "kind": {"const": "PrometheusRule"}, "metadata": METADATA,
    "spec": obj({"groups": arr(obj({"name": {"type": "string", "minLength": 1}, "interval": DURATION,
                                    "query_offset": DURATION, "limit": {"type": "integer"}, "partial_response_strategy": STR,
                                    "labels": LABELS, "rules": arr(RULE, 1)}, ("name", "rules")), 1)}, ("groups",)),
}, ("apiVersion", "kind", "metadata", "spec"))

MATCHER = obj({"name": {"type": "string", "minLength": 1}, "value": STR, "matchType": {"enum": ["=", "!=", "=~", "!~"]},
               "regex": BOOL}, ("name",))
# Child routes are free JSON in the CRD (self-reference); the operator decodes them strictly
# with the same Route type, so they are checked with the same schema here.
ROUTE = {"$id": "route", **obj({"receiver": STR, "groupBy": STRS, "groupWait": DURATION, "groupInterval": DURATION,
                                "repeatInterval": DURATION, "matchers": arr(MATCHER), "continue": BOOL,
                                "routes": arr({"$ref": "route"}), "muteTimeIntervals": STRS,
                                "activeTimeIntervals": STRS})}
KEY_VALUE = obj({"key": {"type": "string", "minLength": 1}, "value": STR}, ("key", "value"))
SLACK = obj({"sendResolved": BOOL, "apiURL": SECRET_KEY, "channel": STR, "username": STR, "color": STR, "title": STR,
             "titleLink": STR, "pretext": STR, "text": STR, "footer": STR, "fallback": STR, "iconEmoji": STR,
             "iconURL": STR, "imageURL": STR, "thumbURL": STR, "linkNames": BOOL, "mrkdwnIn": STRS,
             "shortFields": BOOL, "callbackId": STR})
PAGERDUTY = obj({"sendResolved": BOOL, "routingKey": SECRET_KEY, "serviceKey": SECRET_KEY, "url": STR, "client": STR,
                 "clientURL": STR, "description": STR, "severity": STR, "class": STR, "group": STR, "component": STR,
                 "details": arr(KEY_VALUE), "source": STR,
                 "pagerDutyLinkConfigs": arr(obj({"href": STR, "alt": STR})),
                 "pagerDutyImageConfigs": arr(obj({"src": STR, "href": STR, "alt": STR}))})
TIME_INTERVAL = obj({
    "times": arr(obj({"startTime": {"type": "string", "pattern": r"^((([01][0-9])|(2[0-3])):[0-5][0-9])$|(^24:00$)"},
                      "endTime": {"type": "string", "pattern": r"^((([01][0-9])|(2[0-3])):[0-5][0-9])$|(^24:00$)"}})),
    "weekdays": arr({"type": "string", "pattern": r"^(?i:(sun|mon|tues|wednes|thurs|fri|satur)day)"
                                                 r"(?::(?i:(sun|mon|tues|wednes|thurs|fri|satur)day))?$"}),
    "daysOfMonth": arr(obj({"start": {"type": "integer"}, "end": {"type": "integer"}})),
    "months": STRS, "years": STRS})
ALERTMANAGER_CONFIG = obj({
    "apiVersion": {"const": "monitoring.coreos.com/v1alpha1"}, "kind": {"const": "AlertmanagerConfig"},
    "metadata": METADATA,
    "spec": obj({"route": ROUTE,
                 "receivers": arr(obj({"name": {"type": "string", "minLength": 1}, "slackConfigs": arr(SLACK),
                                       "pagerdutyConfigs": arr(PAGERDUTY)}, ("name",))),
                 "inhibitRules": arr(obj({"sourceMatch": arr(MATCHER), "targetMatch": arr(MATCHER), "equal": STRS})),
                 "muteTimeIntervals": arr(obj({"name": STR, "timeIntervals": arr(TIME_INTERVAL)}, ("name",)))}),
}, ("apiVersion", "kind", "metadata", "spec"))

# Prometheus (v1): the fields infra/k8s/monitoring.py prometheus_spec() sets, plus close siblings.
NS_SELECTOR = obj({"matchLabels": LABELS, "matchExpressions": arr({"type": "object"})})
RESOURCES = obj({"requests": LABELS, "limits": LABELS})
PROMETHEUS = obj({
    "apiVersion": {"const": "monitoring.coreos.com/v1"}, "kind": {"const": "Prometheus"}, "metadata": METADATA,
    "spec": obj({
        "replicas": {"type": "integer", "minimum": 0}, "shards": {"type": "integer"}, "serviceAccountName": STR,
        "enableFeatures": arr({"type": "string", "minLength": 1}), "retention": DURATION, "retentionSize": STR,
        "scrapeInterval": DURATION, "scrapeTimeout": DURATION, "evaluationInterval": DURATION,
        "externalLabels": LABELS, "replicaExternalLabelName": STR, "prometheusExternalLabelName": STR,
        "serviceMonitorSelector": NS_SELECTOR, "serviceMonitorNamespaceSelector": NS_SELECTOR,
        "podMonitorSelector": NS_SELECTOR, "podMonitorNamespaceSelector": NS_SELECTOR,
        "ruleSelector": NS_SELECTOR, "ruleNamespaceSelector": NS_SELECTOR,
        "alerting": obj({"alertmanagers": arr(obj({"namespace": STR, "name": STR, "port": {"type": ["string", "integer"]},
                                                    "scheme": STR, "pathPrefix": STR, "apiVersion": STR},
                                                   ("name", "port")), 1)}, ("alertmanagers",)),
        "securityContext": {"type": "object"}, "resources": RESOURCES, "storage": {"type": "object"},
        "enforcedNamespaceLabel": STR, "excludedFromEnforcement": arr({"type": "object"}),
    }),
}, ("apiVersion", "kind", "metadata", "spec"))

SCHEMAS = {
    ("monitoring.coreos.com/v1", "Prometheus"): PROMETHEUS,
    ("monitoring.coreos.com/v1", "ServiceMonitor"): SERVICE_MONITOR,
    ("monitoring.coreos.com/v1", "PrometheusRule"): PROMETHEUS_RULE,
    ("monitoring.coreos.com/v1alpha1", "AlertmanagerConfig"): ALERTMANAGER_CONFIG,
}
