"""prometheus.yml from one definition: the native stack (production or fast profile),
docker-compose (adds cAdvisor, service hostnames) and tests (any ports) all come from `build()`.

Native scrape interval: 15s in production, 1s in the fast profile (tests and the alert
harness). Rule files are looked up relative to the config file (prometheus/rules/<profile>/).
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.product import PRODUCT
from monitoring.profiles import Profile
from monitoring.rules.catalogue import RULE_FILE


@dataclass(frozen=True)
class Job:
    name: str
    service: str
    metrics_path: str = "/metrics"


JOBS = [
    Job("backend", PRODUCT.service),
    Job("nextjs", "frontend", "/api/metrics"),
    Job("node-exporter", "node"),
    Job("prometheus", "prometheus"),
    Job("alertmanager", "alertmanager"),
    Job("cadvisor", "cadvisor"),
    Job("postgres-exporter", "postgres"),
    Job("redis-exporter", "redis"),
    Job("haproxy", "balancer"),  # the HA topology's HAProxy (its built-in prometheus-exporter)
]
JOBS_BY_NAME = {j.name: j for j in JOBS}

# contracts.md ports; every server binds 127.0.0.1.
# (moved by the product's port_offset, product.toml [runtime]; infra/tests checks them against
# infra/local/services.py PORTS).
NATIVE_TARGETS = {
    "backend": f"127.0.0.1:{PRODUCT.port(8001)}",
    "nextjs": f"127.0.0.1:{PRODUCT.port(3000)}",
    "node-exporter": f"127.0.0.1:{PRODUCT.port(9100)}",
    "prometheus": f"127.0.0.1:{PRODUCT.port(9090)}",
    "alertmanager": f"127.0.0.1:{PRODUCT.port(9093)}",
    "postgres-exporter": f"127.0.0.1:{PRODUCT.port(9187)}",
    "redis-exporter": f"127.0.0.1:{PRODUCT.port(9121)}",
}
NATIVE_ALERTMANAGER = f"127.0.0.1:{PRODUCT.port(9093)}"

# docker-compose service names (the root docker-compose.yml).
DOCKER_TARGETS = {
    "backend": "backend:8001",
    "nextjs": "frontend:3000",
    "node-exporter": "node-exporter:9100",
    "prometheus": "localhost:9090",
    "alertmanager": "alertmanager:9093",
    "cadvisor": "cadvisor:8080",
    "postgres-exporter": "postgres-exporter:9187",
    "redis-exporter": "redis-exporter:9121",
}
DOCKER_ALERTMANAGER = "alertmanager:9093"


def build(
    profile: Profile,
    *,
    targets: dict[str, str | list[str]],
    alertmanagers: list[str],
    rule_files: list[str] | None = None,
    environment: str = "local",
    replica: str | None = None,
) -> dict:
    """targets: job name (see JOBS) -> host:port (or several: one per instance, the HA topology's
    backends). rule_files default to the profile's committed rules.

    replica: one of a pair of identical Prometheus servers (the HA topology). It becomes the
    external label `replica`, which is dropped from the alerts sent to Alertmanager: both replicas
    then send the very same label set, and the Alertmanager cluster deduplicates them into one
    notification."""
    scrape_configs = []
    for job_name, address in targets.items():
        job = JOBS_BY_NAME[job_name]
        scrape = {"job_name": job.name}
        if job.metrics_path != "/metrics":
            scrape["metrics_path"] = job.metrics_path
        addresses = [address] if isinstance(address, str) else list(address)
        scrape["static_configs"] = [{"targets": addresses, "labels": {"service": job.service}}]
        scrape_configs.append(scrape)
    external_labels = {"cluster": PRODUCT.slug, "environment": environment, "alert_profile": profile.name}
    alerting: dict = {"alertmanagers": [{"static_configs": [{"targets": alertmanagers}]}]}
    if replica is not None:
        external_labels["replica"] = replica
        alerting = {"alert_relabel_configs": [{"action": "labeldrop", "regex": "replica"}], **alerting}
    return {
        "global": {
            "scrape_interval": profile.scrape_interval,
            "scrape_timeout": profile.scrape_timeout,
            "evaluation_interval": profile.evaluation_interval,
            # Added to every alert sent to Alertmanager and to remote-write/federation.
            "external_labels": external_labels,
        },
        "rule_files": rule_files if rule_files is not None else [f"rules/{profile.name}/{RULE_FILE}"],
        "alerting": alerting,
        "scrape_configs": scrape_configs,
    }


def native(profile: Profile) -> dict:
    return build(profile, targets=NATIVE_TARGETS, alertmanagers=[NATIVE_ALERTMANAGER])


def docker(profile: Profile) -> dict:
    return build(profile, targets=DOCKER_TARGETS, alertmanagers=[DOCKER_ALERTMANAGER], environment="docker")
