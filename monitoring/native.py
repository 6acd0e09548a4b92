"""Run-time configs for the native stack (and for tests on free ports).

    python -m monitoring.native prometheus   --profile fast --dest .data/prometheus/prometheus.yml
    python -m monitoring.native alertmanager --profile fast --dest .data/alertmanager

The processes themselves (and their flags) are defined once, in infra/local/services.py.

Prometheus: the committed monitoring/prometheus/prometheus*.yml use the contract ports; when ports
differ (tests, PROMETHEUS_PORT=...) a config is written with the same generator and the rule
files referenced by absolute path.

Alertmanager: writes <dest>/alertmanager.yml and <dest>/secrets/ (mode 0600) from env vars
SLACK_ALERTS_WEBHOOK_URL, SLACK_ENGINEERING_WEBHOOK_URL, PAGERDUTY_ROUTING_KEY (and
PAGERDUTY_URL); unset ones point at the local capture server (CAPTURE_URL, default
http://127.0.0.1:9911). Nothing secret is ever written into the repository.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from monitoring import alertmanager_config, prometheus_config
from monitoring import profiles
from monitoring.profiles import PROFILES, Profile
from monitoring.rules.catalogue import RULE_FILE
from monitoring.yamlio import dump

MONITORING = Path(__file__).resolve().parent
REPO = MONITORING.parent
DATA = REPO / ".data"

SECRET_ENV = {
    alertmanager_config.SECRET_FILES["slack_alerts"]: "SLACK_ALERTS_WEBHOOK_URL",
    alertmanager_config.SECRET_FILES["slack_engineering"]: "SLACK_ENGINEERING_WEBHOOK_URL",
    alertmanager_config.SECRET_FILES["pagerduty"]: "PAGERDUTY_ROUTING_KEY",
}


def rule_file(profile: str | Profile) -> Path:
    return MONITORING / "prometheus" / "rules" / profiles.get(profile).name / RULE_FILE


def write_prometheus_config(dest: Path, profile: str | Profile = "production", *,
                            targets: dict[str, str | list[str]] | None = None,
                            alertmanager: str | list[str] = prometheus_config.NATIVE_ALERTMANAGER,
                            environment: str = "local", replica: str | None = None) -> Path:
    """targets: job -> host:port(s) (default: the contract ports of every native job);
    alertmanager: one address or every member of a cluster; replica: see prometheus_config.build."""
    p = profiles.get(profile)
    config = prometheus_config.build(
        p, targets=targets if targets is not None else prometheus_config.NATIVE_TARGETS,
        alertmanagers=[alertmanager] if isinstance(alertmanager, str) else list(alertmanager),
        rule_files=[str(rule_file(p))], environment=environment, replica=replica)
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(dump(config, "monitoring/native.py"))
    return dest


def write_alertmanager_config(dest_dir: Path, profile: str | Profile = "production", *,
                              capture_url: str | None = None, env: dict[str, str] | None = None,
                              secrets_path: str | None = None) -> Path:
    """Writes <dest_dir>/alertmanager.yml and <dest_dir>/secrets/*. The config refers to the
    secrets by absolute path: <dest_dir>/secrets, or `secrets_path` when Alertmanager sees the
    folder elsewhere (a container mounting dest_dir at /etc/alertmanager)."""
    env = dict(os.environ if env is None else env)
    capture = (capture_url or env.get("CAPTURE_URL") or alertmanager_config.LOCAL_CAPTURE).rstrip("/")
    dest_dir = Path(dest_dir)
    secrets = dest_dir / "secrets"
    secrets.mkdir(parents=True, exist_ok=True)
    os.chmod(secrets, 0o700)
    local = alertmanager_config.local_secret_values(capture)
    for name, var in SECRET_ENV.items():
        path = secrets / name
        path.write_text(env.get(var) or local[name])
        os.chmod(path, 0o600)
    pagerduty_url = env.get("PAGERDUTY_URL") or f"{capture}/pagerduty/v2/enqueue"
    config = alertmanager_config.build(profile=profiles.get(profile), pagerduty_url=pagerduty_url,
                                       secrets_dir=secrets_path or str(secrets.resolve()))
    path = dest_dir / "alertmanager.yml"
    path.write_text(dump(config, "monitoring/native.py"))
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["prometheus", "alertmanager"])
    parser.add_argument("--profile", choices=sorted(PROFILES), default=os.environ.get("ALERT_PROFILE", "production"))
    parser.add_argument("--dest", type=Path)
    parser.add_argument("--capture-url", help="capture server base URL (default $CAPTURE_URL or :9911)")
    parser.add_argument("--secrets-path", help="where Alertmanager sees <dest>/secrets (e.g. in a container)")
    args = parser.parse_args(argv)
    if args.what == "prometheus":
        print(write_prometheus_config(args.dest or DATA / "prometheus" / "prometheus.yml", args.profile))
    else:
        print(write_alertmanager_config(args.dest or DATA / "alertmanager", args.profile,
                                        capture_url=args.capture_url, secrets_path=args.secrets_path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
