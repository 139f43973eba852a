"""Seeing the service run: structured logs (`logs`), Prometheus metrics (`metrics`), OpenTelemetry tracing
(`tracing`, optional) and readiness (`readiness`). No web framework here: the API wires these in through
its `Observe` middleware, its lifespan and the `/healthz`, `/readyz` and `/metrics` routes
(docs/observability.md).

`AUTH_FAILURES` and `RATE_LIMIT_REFUSALS` are the counters the authentication and limits code increment."""

from wealthgate.observability.metrics import AUTH_FAILURES, RATE_LIMIT_REFUSALS

__all__ = ["AUTH_FAILURES", "RATE_LIMIT_REFUSALS"]
