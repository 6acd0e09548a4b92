"""The OpenTelemetry reference variant, for the benchmark only (INSTRUMENTATION=otel,
bench/app_factory.py): the bare app with OpenTelemetry's own FastAPI, asyncpg and Redis
auto-instrumentation, a 10% trace-ID-ratio sampler (parent-based, the SDK's default shape), and
the SDK's BatchSpanProcessor exporting over OTLP/HTTP (protobuf) to the benchmark's loopback sink
(BENCH_SINK_URL), so sampled spans are really serialised and sent rather than dropped in-process.
Never used in production: a reference row of `make bench` (docs/benchmarks.md).
"""

from __future__ import annotations

import os

from fastapi import FastAPI

TRACES_RATIO = 0.1


def instrument_with_opentelemetry(app: FastAPI) -> None:
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

    sink = os.environ.get("BENCH_SINK_URL", "http://127.0.0.1:9/stream")
    provider = TracerProvider(resource=Resource.create({"service.name": "bench-otel"}),
                              sampler=ParentBased(TraceIdRatioBased(TRACES_RATIO)))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=sink.rsplit("/", 1)[0] + "/v1/traces",
                                                                    timeout=2)))
    trace.set_tracer_provider(provider)
    AsyncPGInstrumentor().instrument(tracer_provider=provider)
    RedisInstrumentor().instrument(tracer_provider=provider)
    FastAPIInstrumentor.instrument_app(app, tracer_provider=provider)
