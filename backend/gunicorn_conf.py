"""Gunicorn for the API: `gunicorn -c gunicorn_conf.py` from backend/.

- uvicorn workers (app/core/gunicorn_worker.py: uvicorn_worker.UvicornWorker, access log off);
  the app is built by the factory app.main:create_app() in each worker.
- API on 127.0.0.1:8000; /metrics on 127.0.0.1:8001 served by this master process from the
  prometheus_client multiprocess directory (never by the workers, never on 8000).
- PROMETHEUS_MULTIPROC_DIR is set here, before any worker imports prometheus_client; it is
  wiped on start, and a dead worker's live gauges/exemplars are removed on child_exit.
- SIGTERM: workers stop accepting, /ready turns false, in-flight requests get graceful_timeout.

Environment: GUNICORN_BIND (127.0.0.1:8000), METRICS_PORT (8001), WEB_CONCURRENCY (2),
GRACEFUL_TIMEOUT (20), PROMETHEUS_MULTIPROC_DIR (<repo>/.data/metrics-multiproc), LOG_LEVEL.
"""

import os
from pathlib import Path

from app.core import product

_REPO = Path(__file__).resolve().parent.parent
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(_REPO / ".data" / "metrics-multiproc"))
MULTIPROC_DIR = os.environ["PROMETHEUS_MULTIPROC_DIR"]
# Loopback only; a container sets METRICS_ADDR=0.0.0.0 so that its Prometheus can scrape it.
METRICS_ADDR = os.environ.get("METRICS_ADDR", "127.0.0.1")
METRICS_PORT = int(os.environ.get("METRICS_PORT", "8001"))

wsgi_app = "app.main:create_app()"
chdir = str(Path(__file__).resolve().parent)
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "app.core.gunicorn_worker.AppUvicornWorker"
graceful_timeout = int(os.environ.get("GRACEFUL_TIMEOUT", "20"))
timeout = 30
keepalive = 5
accesslog = None
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# No server-level X-Forwarded-For handling: the app trusts exactly one proxy hop, by address and
# shared secret (app/core/client_address.py, TRUSTED_PROXY_*).
forwarded_allow_ips = ""
proc_name = f"{product.SLUG}-api"
# gunicorn 27's control socket lives in $HOME and would clash between several instances (tests).
control_socket_disable = True

# gunicorn's own lines (master and workers) in the same JSON shape as the app's.
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "app.core.logging.stdlib_json_formatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stdout"}},
    "root": {"level": "INFO", "handlers": ["console"]},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["console"], "propagate": False},
        "gunicorn.access": {"level": "CRITICAL", "handlers": [], "propagate": False},
    },
}


def on_starting(server):  # noqa: ANN001
    from app.core.metrics_multiprocess_reader import wipe

    wipe(MULTIPROC_DIR)


def when_ready(server):  # noqa: ANN001
    from app.core.metrics_multiprocess_reader import start

    start(METRICS_PORT, METRICS_ADDR, MULTIPROC_DIR, lambda: [os.getpid(), *server.WORKERS.keys()])
    server.log.info("metrics on http://%s:%s/metrics", METRICS_ADDR, METRICS_PORT)


def child_exit(server, worker):  # noqa: ANN001
    from app.core.metrics_multiprocess_reader import process_dead

    process_dead(worker.pid, MULTIPROC_DIR)
