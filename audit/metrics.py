"""Prometheus metrics: durations observed where they happen (the counts are read at scrape time, audit.scrape).

Durations (pipeline steps, model calls) are histograms observed in the process that did the
work; with PROMETHEUS_MULTIPROC_DIR set (an empty directory shared by the web and worker
processes of one machine) a scrape sums them over every process. Low in the audit app:
audit.services observes here, and every app imports audit.services.
"""

from prometheus_client import Histogram

STEP_SECONDS = Histogram(
    "nightshift_step_duration_seconds",
    "Time a pipeline or service step took (the Decision log's duration).",
    ["step"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
MODEL_SECONDS = Histogram(
    "nightshift_model_call_seconds",
    "Latency of calls to the reasoning model.",
    ["model"],
    buckets=(0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30),
)


def step_observe(step: str, duration_ms: float | None, model: str = "") -> None:
    """Record a step's duration (and a model call's latency) for /metrics."""
    if duration_ms is None:
        return
    STEP_SECONDS.labels(step=step).observe(duration_ms / 1000)
    if model:
        MODEL_SECONDS.labels(model=model).observe(duration_ms / 1000)
