"""The application's Kubernetes objects (base of infra/k8s), from the native stack definition.

Ports, probe paths and environment variable names come from infra/local/services.py (the same
`Service` objects `make up` starts), so the cluster and the native stack cannot drift apart:
- readiness: the backend's own ready URL (`/ready`: fails only while this instance starts,
  drains or cannot serve); never `/health`, which reports Redis as degraded and would pull every
  pod out of rotation for a dependency the API degrades around.
- liveness: the metrics URL of the gunicorn master (`/metrics` on the metrics port), which
  depends on neither PostgreSQL nor Redis: it restarts a container only when its master is gone
  or wedged (gunicorn itself restarts hung workers after its `timeout`).
- the frontend: readiness on its native ready URL (`/`), liveness a TCP check of its port.

Deployment order (see infra/k8s/README.md): the migration Job runs `alembic upgrade head`; the
backend's initContainer waits until the database is at the head revision, so a new pod never
serves code newer than the schema, whatever order `kubectl apply` creates the objects in.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from infra.local.services import Ports, backend_service, frontend_service
from infra.product import PRODUCT

PART_OF = PRODUCT.slug
BACKEND_IMAGE = f"{PRODUCT.slug}-backend"  # overlays set the registry name and tag (kustomize `images`)
FRONTEND_IMAGE = f"{PRODUCT.slug}-frontend"
BACKEND_SECRET = f"{PRODUCT.slug}-backend"  # created by the team, never committed (README)
MIGRATE_JOB = f"{PRODUCT.slug}-migrate"
INGRESS_HOST = f"{PRODUCT.slug}.example.com"  # the overlays set each environment's host
MONITORING_NAMESPACE = "monitoring"  # where kube-prometheus-stack's Prometheus runs
BACKEND_UID = 10001  # backend/Dockerfile `useradd --uid 10001`
FRONTEND_UID = 1000  # the node image's `node` user (frontend/Dockerfile)
PRESTOP_SECONDS = 10  # endpoints and ingress controllers drop the pod before SIGTERM arrives
GRACEFUL_TIMEOUT = 20  # gunicorn_conf.py GRACEFUL_TIMEOUT: in-flight requests after SIGTERM
MULTIPROC_DIR = "/var/run/app/metrics"

PORTS = Ports.contract()  # the contract ports (docs/contracts.md), never a product's offset
BACKEND = backend_service(PORTS, {})
FRONTEND = frontend_service(PORTS)

# Backend settings from the team's Secret (backend/app/core/config.py names); optional ones may be absent.
SECRET_ENV = {"DATABASE_URL": False, "REDIS_URL": False, "SENTRY_DSN": True, "MIXPANEL_TOKEN": True}


def _path(url: str) -> str:
    return urlsplit(url).path or "/"


def _port(url: str) -> int:
    return int(urlsplit(url).port)


def labels(name: str, component: str) -> dict:
    return {"app.kubernetes.io/name": name, "app.kubernetes.io/component": component,
            "app.kubernetes.io/part-of": PART_OF}


def selector(name: str) -> dict:
    return {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": PART_OF}


def _meta(name: str, component: str) -> dict:
    return {"name": name, "labels": labels(name, component)}


def _restricted(uid: int) -> dict:
    """Container securityContext meeting the `restricted` Pod Security Standard."""
    return {"runAsNonRoot": True, "runAsUser": uid, "runAsGroup": uid, "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True, "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"}}


def _http(url: str, **timing: int) -> dict:
    return {"httpGet": {"path": _path(url), "port": _port(url)}, **timing}


def backend_env() -> list[dict]:
    api, metrics = BACKEND.ports
    env = [
        {"name": "GUNICORN_BIND", "value": f"0.0.0.0:{api}"},
        {"name": "METRICS_PORT", "value": str(metrics)},
        {"name": "METRICS_ADDR", "value": "0.0.0.0"},  # the metrics port is fenced by NetworkPolicy
        {"name": "PROMETHEUS_MULTIPROC_DIR", "value": MULTIPROC_DIR},
        {"name": "WEB_CONCURRENCY", "value": "2"},
        {"name": "GRACEFUL_TIMEOUT", "value": str(GRACEFUL_TIMEOUT)},
        {"name": "ENVIRONMENT", "value": "development"},  # each overlay sets its own
        {"name": "FAULT_INJECTION_ENABLED", "value": "false"},  # faults never exist in a cluster
        {"name": "FAULT_STATE_FILE", "value": "/tmp/faults.json"},
        {"name": "COOKIE_SECURE", "value": "true"},
        {"name": "GIT_SHA", "value": "unknown"},  # CI sets the image's commit (overlay patch)
    ]
    for name, optional in SECRET_ENV.items():
        env.append({"name": name, "valueFrom": {"secretKeyRef": {"name": BACKEND_SECRET, "key": name,
                                                                  **({"optional": True} if optional else {})}}})
    return env


def _db_env() -> list[dict]:
    return [{"name": "DATABASE_URL", "valueFrom": {"secretKeyRef": {"name": BACKEND_SECRET, "key": "DATABASE_URL"}}}]


# Waits until `alembic current` reports the head revision (the migration Job has run).
WAIT_FOR_MIGRATIONS = ('head="$(alembic heads | cut -d" " -f1)"; '
                       'until [ "$(alembic current 2>/dev/null | cut -d" " -f1)" = "$head" ]; do '
                       'echo "waiting for the migration Job (alembic upgrade head to $head)"; sleep 3; done')


def backend_deployment() -> dict:
    api, metrics = BACKEND.ports
    ready_url, metrics_url = BACKEND.ready_urls
    assert _port(ready_url) == api and _port(metrics_url) == metrics
    container = {
        "name": "backend",
        "image": BACKEND_IMAGE,
        "command": ["gunicorn", *BACKEND.argv[1:]],  # the native command, from the image's PATH
        "ports": [{"name": "http", "containerPort": api}, {"name": "metrics", "containerPort": metrics}],
        "env": backend_env(),
        "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}},
        "startupProbe": _http(ready_url, periodSeconds=2, failureThreshold=60),
        "readinessProbe": _http(ready_url, periodSeconds=5, timeoutSeconds=2, failureThreshold=2),
        "livenessProbe": _http(metrics_url, periodSeconds=20, timeoutSeconds=5, failureThreshold=3),
        # Sleep first so that endpoints and the ingress stop routing here; then SIGTERM turns
        # /ready false and gunicorn drains in-flight requests for GRACEFUL_TIMEOUT.
        "lifecycle": {"preStop": {"exec": {"command": ["sleep", str(PRESTOP_SECONDS)]}}},
        "securityContext": _restricted(BACKEND_UID),
        "volumeMounts": [{"name": "metrics-multiproc", "mountPath": MULTIPROC_DIR},
                         {"name": "tmp", "mountPath": "/tmp"}],
    }
    wait = {"name": "wait-for-migrations", "image": BACKEND_IMAGE, "command": ["sh", "-c", WAIT_FOR_MIGRATIONS],
            "env": _db_env(), "securityContext": _restricted(BACKEND_UID),
            "resources": {"requests": {"cpu": "50m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}}}
    return _deployment("backend", "api", [container], init=[wait], volumes=[
        {"name": "metrics-multiproc", "emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"}},
        {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}},
    ], grace=PRESTOP_SECONDS + GRACEFUL_TIMEOUT + 10, uid=BACKEND_UID)


def frontend_command() -> list[str]:
    """The native `npx --no-install next start -H 127.0.0.1 -p 3000`, without npx (npm writes
    its cache and logs under $HOME, which a read-only root filesystem refuses) and on 0.0.0.0."""
    argv = FRONTEND.argv
    assert argv[:3] == ["npx", "--no-install", "next"], argv
    out = ["node_modules/.bin/next", *argv[3:]]
    out[out.index("-H") + 1] = "0.0.0.0"
    return out


def frontend_deployment() -> dict:
    (port,) = FRONTEND.ports
    (ready_url,) = FRONTEND.ready_urls
    env = [{"name": "PORT", "value": str(port)}, {"name": "HOSTNAME", "value": "0.0.0.0"},
           {"name": "NEXT_TELEMETRY_DISABLED", "value": "1"},
           {"name": "BACKEND_URL", "value": f"http://backend:{BACKEND.ports[0]}"},
           {"name": "ENVIRONMENT", "value": "development"},
           {"name": "HOME", "value": "/tmp"},  # the root filesystem is read-only
           {"name": "SENTRY_DSN", "valueFrom": {"secretKeyRef": {"name": BACKEND_SECRET, "key": "SENTRY_DSN",
                                                                  "optional": True}}}]
    container = {
        "name": "frontend",
        "image": FRONTEND_IMAGE,
        "command": frontend_command(),
        "ports": [{"name": "http", "containerPort": port}],
        "env": env,
        "resources": {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}},
        "startupProbe": _http(ready_url, periodSeconds=2, failureThreshold=60),
        "readinessProbe": _http(ready_url, periodSeconds=10, timeoutSeconds=3, failureThreshold=3),
        "livenessProbe": {"tcpSocket": {"port": port}, "periodSeconds": 20, "failureThreshold": 3},
        "lifecycle": {"preStop": {"exec": {"command": ["sleep", str(PRESTOP_SECONDS)]}}},
        "securityContext": _restricted(FRONTEND_UID),
        "volumeMounts": [{"name": "next-cache", "mountPath": "/srv/frontend/.next/cache"},
                         {"name": "tmp", "mountPath": "/tmp"}],
    }
    return _deployment("frontend", "web", [container], volumes=[
        {"name": "next-cache", "emptyDir": {"sizeLimit": "256Mi"}}, {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}},
    ], grace=PRESTOP_SECONDS + 20, uid=FRONTEND_UID)


def _deployment(name: str, component: str, containers: list[dict], *, volumes: list[dict], grace: int,
                uid: int, init: list[dict] | None = None) -> dict:
    pod = {"securityContext": {"runAsNonRoot": True, "fsGroup": uid, "seccompProfile": {"type": "RuntimeDefault"}},
           "automountServiceAccountToken": False,
           "terminationGracePeriodSeconds": grace,
           **({"initContainers": init} if init else {}),
           "containers": containers,
           "volumes": volumes,
           "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "kubernetes.io/hostname",
                                          "whenUnsatisfiable": "ScheduleAnyway",
                                          "labelSelector": {"matchLabels": selector(name)}}]}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": _meta(name, component),
            "spec": {"revisionHistoryLimit": 5,  # no `replicas`: the HorizontalPodAutoscaler owns it
                      "selector": {"matchLabels": selector(name)},
                     "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
                     "template": {"metadata": {"labels": labels(name, component)},
                                  "spec": pod}}}


def migration_job() -> dict:
    container = {"name": "migrate", "image": BACKEND_IMAGE, "command": ["alembic", "upgrade", "head"],
                 "env": _db_env(), "securityContext": _restricted(BACKEND_UID),
                 "resources": {"requests": {"cpu": "100m", "memory": "128Mi"},
                               "limits": {"cpu": "1", "memory": "512Mi"}},
                 "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}]}
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": _meta(MIGRATE_JOB, "migration"),
            "spec": {"backoffLimit": 3, "activeDeadlineSeconds": 900, "ttlSecondsAfterFinished": 86400,
                     "template": {"metadata": {"labels": labels(MIGRATE_JOB, "migration")},
                                  "spec": {"restartPolicy": "Never", "automountServiceAccountToken": False,
                                           "securityContext": {"runAsNonRoot": True,
                                                               "seccompProfile": {"type": "RuntimeDefault"}},
                                           "containers": [container],
                                           "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}]}}}}


def services() -> list[dict]:
    api, metrics = BACKEND.ports
    (web,) = FRONTEND.ports
    return [
        {"apiVersion": "v1", "kind": "Service", "metadata": _meta("backend", "api"),
         "spec": {"selector": selector("backend"),
                  "ports": [{"name": "http", "port": api, "targetPort": "http"},
                            {"name": "metrics", "port": metrics, "targetPort": "metrics"}]}},
        {"apiVersion": "v1", "kind": "Service", "metadata": _meta("frontend", "web"),
         "spec": {"selector": selector("frontend"), "ports": [{"name": "http", "port": web, "targetPort": "http"}]}},
    ]


def ingress() -> dict:
    (web,) = FRONTEND.ports
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": _meta(PRODUCT.slug, "web"),
            "spec": {"tls": [{"hosts": [INGRESS_HOST], "secretName": f"{PRODUCT.slug}-tls"}],
                     "rules": [{"host": INGRESS_HOST, "http": {"paths": [
                         {"path": "/", "pathType": "Prefix",
                          "backend": {"service": {"name": "frontend", "port": {"number": web}}}}]}}]}}


def autoscaling() -> list[dict]:
    out = []
    for name, component in (("backend", "api"), ("frontend", "web")):
        out.append({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": _meta(name, component),
                    "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
                             "minReplicas": 2, "maxReplicas": 6,
                             "metrics": [{"type": "Resource", "resource": {
                                 "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}],
                             "behavior": {"scaleDown": {"stabilizationWindowSeconds": 300}}}})
        out.append({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": _meta(name, component),
                    "spec": {"maxUnavailable": 1, "selector": {"matchLabels": selector(name)}}})
    return out


def network_policies() -> list[dict]:
    """Backend: API port from the frontend only; metrics port from the monitoring namespace only.
    Frontend: its port from anywhere (the ingress controller's namespace differs per cluster)."""
    api, metrics = BACKEND.ports
    (web,) = FRONTEND.ports
    monitoring = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": MONITORING_NAMESPACE}}}
    return [
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": _meta("backend", "api"),
         "spec": {"podSelector": {"matchLabels": selector("backend")}, "policyTypes": ["Ingress"],
                  "ingress": [
                      {"from": [{"podSelector": {"matchLabels": selector("frontend")}}],
                       "ports": [{"protocol": "TCP", "port": api}]},
                      {"from": [monitoring], "ports": [{"protocol": "TCP", "port": metrics}]},
                  ]}},
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": _meta("frontend", "web"),
         "spec": {"podSelector": {"matchLabels": selector("frontend")}, "policyTypes": ["Ingress"],
                  "ingress": [{"ports": [{"protocol": "TCP", "port": web}]}]}},
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": _meta(MIGRATE_JOB, "migration"),
         "spec": {"podSelector": {"matchLabels": selector(MIGRATE_JOB)}, "policyTypes": ["Ingress"]}},
    ]
