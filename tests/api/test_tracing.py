"""OpenTelemetry tracing: off by default (no provider, nothing imported for it); with an OTLP endpoint, one
server span per request named by its route template, carrying the status and the request id, with the
caller's `traceparent` as its parent. Spans are caught by the SDK's in-memory exporter: no network."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from tests.conftest import Keys
from wealthgate.api.app import create_app
from wealthgate.observability import tracing
from wealthgate.settings import Settings

PARENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{PARENT_TRACE}-00f067aa0ba902b7-01"


def test_tracing_is_off_by_default(tmp_path: Path) -> None:
    app = create_app(Settings(home=tmp_path))
    assert app.state.tracing is None
    assert tracing.install(None) is None


def test_the_exporter_speaks_otlp_http_to_the_collectors_traces_path() -> None:
    made = tracing.exporter("http://otel-collector:4318/")
    assert isinstance(made, OTLPSpanExporter)
    assert made._endpoint == "http://otel-collector:4318/v1/traces"
    assert tracing.traces_url("http://c:4318/v1/traces") == "http://c:4318/v1/traces"


def test_a_span_per_request_named_by_its_route(
    settings: Settings, keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    caught = InMemorySpanExporter()
    monkeypatch.setattr(tracing, "exporter", lambda endpoint: caught)
    traced = settings.model_copy(update={"otel_exporter_otlp_endpoint": "http://collector.invalid:4318"})
    with TestClient(create_app(traced), raise_server_exceptions=False) as api:
        ok = api.get("/clients/1/context", headers={**Keys.auth(keys.agent), "traceparent": TRACEPARENT})
        missing = api.get("/clients/999999/context", headers=Keys.auth(keys.agent))
        api.app.state.tracing.provider.force_flush()  # type: ignore[attr-defined]
        spans = {span.attributes["wealthgate.request_id"]: span for span in caught.get_finished_spans()}

    assert ok.status_code == 200
    span = spans[ok.headers["x-request-id"]]
    assert span.name == "GET /clients/{client_id}/context"
    assert span.kind == SpanKind.SERVER
    assert span.attributes["http.route"] == "/clients/{client_id}/context"
    assert span.attributes["http.response.status_code"] == 200
    assert span.attributes["http.request.method"] == "GET"
    assert format(span.context.trace_id, "032x") == PARENT_TRACE  # joined the caller's trace
    assert span.resource.attributes["service.name"] == "wealthgate"

    other = spans[missing.headers["x-request-id"]]
    assert other.attributes["http.response.status_code"] == 404
    assert format(other.context.trace_id, "032x") != PARENT_TRACE
    assert other.status.status_code == StatusCode.UNSET


def test_the_frameworks_own_telemetry_stays_off_when_opentelemetry_is_set_up_globally(
    settings: Settings, keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FastAPI traces requests by itself once a global OpenTelemetry provider exists (an operator's
    `opentelemetry-instrument`, FASTAPI_OTEL_AUTO_CONFIGURE): a second server span for each request, beside
    wealthgate's own (`Observe`), and its own metrics. wealthgate turns it off: one span per request."""
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    global_spans = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(global_spans))
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: provider)
    monkeypatch.setenv("FASTAPI_OTEL_AUTO_CONFIGURE", "true")
    with TestClient(create_app(settings), raise_server_exceptions=False) as api:
        assert api.get("/clients/1/context", headers=Keys.auth(keys.agent)).status_code == 200
        assert api.get("/healthz").status_code == 200
    assert global_spans.get_finished_spans() == ()
