"""OpenTelemetry tracing, off unless an OTLP endpoint is configured.

`WEALTHGATE_OTEL_EXPORTER_OTLP_ENDPOINT` (or the standard `OTEL_EXPORTER_OTLP_ENDPOINT`) is the collector's
base URL, e.g. `http://otel-collector:4318`; spans go to `<base>/v1/traces` over OTLP/HTTP (protobuf), in
batches from a background thread. Each request is one server span named `<METHOD> <route template>`, with
the route, the status code and the server's request id, and a parent taken from an incoming `traceparent`.
The SDK's own variables still apply (`OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER`,
`OTEL_EXPORTER_OTLP_HEADERS`, ...).

Off, the SDK is never imported (about 0.3 s of start-up per worker saved; hence the imports inside the
functions below) and the request middleware pays one `None` check. The tracer provider belongs to the
application, not to the process-global slot, so each application shuts its own down with its lifespan.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TYPE_CHECKING

from wealthgate import __version__

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter
    from opentelemetry.trace import Span

TRACES_PATH = "/v1/traces"


def traces_url(endpoint: str) -> str:
    """The signal URL from the collector's base URL (the exporter takes the full URL as an argument)."""
    base = endpoint.rstrip("/")
    return base if base.endswith(TRACES_PATH) else base + TRACES_PATH


def exporter(endpoint: str) -> SpanExporter:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter  # noqa: PLC0415

    return OTLPSpanExporter(endpoint=traces_url(endpoint))


class RequestTracing:
    """A server span per request, from an application's own tracer provider."""

    def __init__(self, provider: TracerProvider) -> None:
        from opentelemetry import propagate  # noqa: PLC0415  (optional: see the module's docstring)
        from opentelemetry.trace import SpanKind, Status, StatusCode  # noqa: PLC0415

        self.provider = provider
        self._tracer = provider.get_tracer("wealthgate", __version__)
        self._extract = propagate.extract
        self._server = SpanKind.SERVER
        self._error = Status(StatusCode.ERROR)

    def start(
        self, method: str, path: str, headers: Iterable[tuple[bytes, bytes]], request_id: str | None
    ) -> Span:
        """The span of a request that has just arrived (named by its route once routing is done)."""
        carrier = {name.decode("latin-1"): value.decode("latin-1") for name, value in headers}
        attributes = {"http.request.method": method, "url.path": path}
        if request_id:
            attributes["wealthgate.request_id"] = request_id
        return self._tracer.start_span(
            method, context=self._extract(carrier), kind=self._server, attributes=attributes
        )

    def end(self, span: Span, method: str, route: str, status: int, error: BaseException | None) -> None:
        span.update_name(f"{method} {route}")
        span.set_attribute("http.route", route)
        span.set_attribute("http.response.status_code", status)
        if error is not None:
            span.record_exception(error)
        if status >= 500 or error is not None:
            span.set_status(self._error)
        span.end()

    def shutdown(self) -> None:
        """Export the spans still batched and stop the exporter's thread."""
        self.provider.shutdown()


def install(endpoint: str | None) -> RequestTracing | None:
    """Tracing exporting to `endpoint`, or None when it is off."""
    if not endpoint:
        return None
    from opentelemetry.sdk.resources import Resource  # noqa: PLC0415
    from opentelemetry.sdk.trace import TracerProvider  # noqa: PLC0415
    from opentelemetry.sdk.trace.export import BatchSpanProcessor  # noqa: PLC0415

    attributes = {"service.version": __version__}
    if not os.environ.get("OTEL_SERVICE_NAME"):
        attributes["service.name"] = "wealthgate"
    provider = TracerProvider(resource=Resource.create(attributes))
    provider.add_span_processor(BatchSpanProcessor(exporter(endpoint)))
    return RequestTracing(provider)
