"""The app the benchmark starts: `uvicorn bench.app_factory:create_app --factory`.

INSTRUMENTATION (an environment variable of the benchmark only, never a setting of the app):
"full" (default) is the app as deployed; "off" the bare app without Sentry, the request
middleware and DB metrics (the baseline); "seed" the bare app with the seed's three
@app.middleware("http") layers (bench/seed_style.py); "otel" the bare app with OpenTelemetry
auto-instrumentation (bench/otel_style.py); "handwired" the bare app with the common hand-wired
stack (bench/handwired_style.py). In "full" mode the BENCH_SENTRY_* variables of
bench/sentry_overrides.py change the app's Sentry options for a side-by-side variant, and
BENCH_METRICS_UNBATCHED=1 writes the request metrics one by one, as before app/core/metrics_batch.py,
and BENCH_FINISH_INLINE=1 finishes every sampled transaction before the next request, as before
app/core/idle_queue.py.
"""

from __future__ import annotations

import os

from fastapi import FastAPI

from app.api.main import build_app
from app.core import metrics, metrics_batch
from app.core.config import get_settings
from bench.handwired_style import init_default_sentry, install_handwired_stack
from bench.otel_style import instrument_with_opentelemetry
from bench.sentry_overrides import install as install_sentry_overrides
from bench.seed_style import install_seed_middleware

MODES = ("full", "off", "seed", "otel", "handwired")


def create_app() -> FastAPI:
    mode = os.environ.get("INSTRUMENTATION", "full")
    if mode not in MODES:
        raise ValueError(f"INSTRUMENTATION={mode!r}: expected one of {', '.join(MODES)}")
    if mode == "handwired":
        init_default_sentry()
    elif mode == "full":
        install_sentry_overrides()  # BENCH_SENTRY_* knobs for old-vs-new variants (bench/sentry_overrides.py)
        if os.environ.get("BENCH_METRICS_UNBATCHED"):
            metrics.batch = metrics_batch.Direct()
    app = build_app(get_settings(), observability=mode == "full")
    if mode == "full" and os.environ.get("BENCH_FINISH_INLINE"):
        app.state.idle.max_pending = 0  # every deferred finish runs at once
    if mode == "seed":
        install_seed_middleware(app)
    elif mode == "otel":
        instrument_with_opentelemetry(app)
    elif mode == "handwired":
        install_handwired_stack(app)
    return app
