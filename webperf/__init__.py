"""`make bench-frontend`: Lighthouse and first-load JS of the production frontend, with Sentry and
with Sentry compiled out, side by side (python -m webperf --help)."""
