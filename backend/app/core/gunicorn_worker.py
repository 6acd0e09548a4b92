"""uvicorn_worker.UvicornWorker with uvicorn's own access log off (the observability middleware
writes the one access line per request), uvicorn's proxy headers off (the app decides which
proxy to believe: app/core/client_address.py; uvicorn would trust any X-Forwarded-For from
forwarded_allow_ips) and uvicorn's graceful shutdown bounded by gunicorn's graceful_timeout, so
SIGTERM drains in-flight requests before the worker exits."""

from typing import Any

from uvicorn_worker import UvicornWorker


class AppUvicornWorker(UvicornWorker):
    CONFIG_KWARGS: dict[str, Any] = {"loop": "auto", "http": "auto", "access_log": False, "server_header": False,
                                       "proxy_headers": False}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.config.timeout_graceful_shutdown = max(1, int(self.cfg.graceful_timeout) - 1)
