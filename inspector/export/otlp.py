"""Stored exchanges as OpenTelemetry spans, sent over OTLP/HTTP (protobuf).

One span per Messages API exchange, named and attributed as the OpenTelemetry GenAI
semantic conventions say (`gen_ai.operation.name` = "chat", `gen_ai.provider.name` =
"anthropic", the request and response models, `gen_ai.usage.*`), with the Claude Code
session as `session.id` and `gen_ai.conversation.id`, so the spans join Claude Code's own
telemetry in the same backend. What no other exporter has, the per-source attribution,
rides along as one span event per source with fixed keys (`claude_inspect.source.name`,
`.tokens`, `.cost_usd`, `.estimated`), never as attribute names made up per source.

Spans are built with the OpenTelemetry SDK and sent by its OTLP/HTTP exporter; both are
imported only when OTLP is used, so every other command starts as fast as before. Start
and end times are the capture's own, not the time of sending. Bodies leave only when the
caller asks (`bodies=True`), and then scrubbed once more as every export is.
"""

from __future__ import annotations

import json
import logging
import socket
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable, Mapping

from inspector import __version__
from inspector.capture.redact import scrub_text

log = logging.getLogger(__name__)

TRACES_PATH = "/v1/traces"
SOURCE_EVENT = "claude_inspect.source"
#: a Claude Code request has a few dozen sources; the SDK keeps 128 events by default
MAX_EVENTS = 2048


def traces_url(endpoint: str) -> str:
    """`URL/v1/traces`, unless the endpoint already names that path."""
    base = endpoint.strip()
    if base.rstrip("/").endswith(TRACES_PATH):
        return base.rstrip("/")
    return base.rstrip("/") + TRACES_PATH


def parse_headers(pairs: Iterable[str]) -> dict[str, str]:
    """`K=V` strings (from `--header` or config) as a dict; ValueError names a bad one."""
    headers: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"header {pair.split('=')[0]!r}: expected KEY=VALUE")
        headers[key.strip().lower()] = value.strip()
    return headers


def _ns(ts: str | None) -> int | None:
    if not ts:
        return None
    try:
        return int(datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp() * 1e9)
    except ValueError:
        return None


def source_figures(tree: Any) -> list[tuple[str, int, float | None, bool]]:
    """(source, tokens, cost_usd, estimated) per source of an attribution tree (a dict
    as stored), in the order the sources first appear. A source is estimated unless every
    leaf of it was counted exactly."""
    found: dict[str, list[Any]] = {}

    def walk(node: Any) -> None:
        if not isinstance(node, dict):
            return
        children = node.get("children") or []
        if children:
            for child in children:
                walk(child)
            return
        meta = node.get("meta") or {}
        name = meta.get("source") or node.get("kind") or "other"
        entry = found.setdefault(str(name), [0, None, False])
        entry[0] += int(node.get("tokens") or 0)
        cost = meta.get("cost_usd")
        if cost is not None:
            entry[1] = (entry[1] or 0.0) + float(cost)
        entry[2] = entry[2] or bool(node.get("estimated", True))

    walk(tree)
    return [(name, tokens, cost, estimated) for name, (tokens, cost, estimated) in found.items()]


def _header(headers: Any, name: str) -> str | None:
    for pair in headers or []:
        if isinstance(pair, (list, tuple)) and len(pair) == 2 and str(pair[0]).lower() == name:
            return str(pair[1])
    return None


def _body(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def _scrubbed_json(value: Any) -> str:
    return scrub_text(json.dumps(value, ensure_ascii=False, default=str))


def is_messages_exchange(ex: Mapping[str, Any]) -> bool:
    path = (ex.get("request") or {}).get("path") or ""
    return path.split("?", 1)[0].rstrip("/").endswith("/v1/messages")


@dataclass
class SpanData:
    """What one span carries, built from a stored exchange (no SDK needed to test it)."""

    name: str
    start_ns: int
    end_ns: int
    attributes: dict[str, Any]
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    error: str | None = None


def span_data(ex: Mapping[str, Any], *, bodies: bool = False) -> SpanData | None:
    """The span for one stored exchange (as `iter_exchanges` gives it with parsed bodies),
    or None when it has no start time."""
    req = ex.get("request") or {}
    resp = ex.get("response") or {}
    usage = ex.get("usage") or {}
    timings = ex.get("timings") or {}
    start = _ns(ex.get("ts"))
    if start is None:
        return None
    total_ms = timings.get("total_ms")
    end = start + int(float(total_ms) * 1e6) if total_ms is not None else start
    request_body = _body(req.get("body"))
    response_body = _body(resp.get("body"))
    model = req.get("model")
    attrs: dict[str, Any] = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "anthropic",
        "server.address": req.get("host") or "",
        "http.request.method": req.get("method") or "POST",
        "url.path": (req.get("path") or "").split("?", 1)[0],
        "claude_inspect.capture_id": ex.get("id") or "",
        "claude_inspect.stream": bool(req.get("stream")),
    }
    if req.get("port"):
        attrs["server.port"] = int(req["port"])
    if model:
        attrs["gen_ai.request.model"] = str(model)
    if isinstance(request_body, dict) and isinstance(request_body.get("max_tokens"), int):
        attrs["gen_ai.request.max_tokens"] = request_body["max_tokens"]
    if isinstance(response_body, dict):
        if response_body.get("model"):
            attrs["gen_ai.response.model"] = str(response_body["model"])
        if response_body.get("id"):
            attrs["gen_ai.response.id"] = str(response_body["id"])
    if resp.get("stop_reason"):
        attrs["gen_ai.response.finish_reasons"] = [str(resp["stop_reason"])]
    status = resp.get("status")
    if status is not None:
        attrs["http.response.status_code"] = int(status)
    fresh = usage.get("input_tokens")
    read = usage.get("cache_read_tokens")
    written = usage.get("cache_creation_tokens")
    if fresh is not None:
        # the conventions' input tokens are the whole prompt, cached parts included
        attrs["gen_ai.usage.input_tokens"] = int(fresh) + int(read or 0) + int(written or 0)
    if usage.get("output_tokens") is not None:
        attrs["gen_ai.usage.output_tokens"] = int(usage["output_tokens"])
    if read is not None:
        attrs["gen_ai.usage.cache_read.input_tokens"] = int(read)
    if written is not None:
        attrs["gen_ai.usage.cache_creation.input_tokens"] = int(written)
    session = req.get("session_id")
    if session:
        attrs["session.id"] = attrs["gen_ai.conversation.id"] = str(session)
    agent = _header(req.get("headers"), "x-claude-code-agent-id")
    if agent:
        attrs["gen_ai.agent.id"] = agent
    for key, name in (("agent_id", "gen_ai.agent.id"), ("parent_id", "claude_inspect.parent_id")):
        if ex.get(key):
            attrs[name] = str(ex[key])
    if ex.get("cost_usd") is not None:
        attrs["claude_inspect.cost_usd"] = float(ex["cost_usd"])
    for key in ("ttfb_ms", "proxy_overhead_ms"):
        if timings.get(key) is not None:
            attrs[f"claude_inspect.{key}"] = float(timings[key])
    if bodies:
        if isinstance(request_body, dict):
            if request_body.get("system") is not None:
                attrs["gen_ai.system_instructions"] = _scrubbed_json(request_body["system"])
            if request_body.get("messages") is not None:
                attrs["gen_ai.input.messages"] = _scrubbed_json(request_body["messages"])
        if isinstance(response_body, dict) and response_body.get("content") is not None:
            attrs["gen_ai.output.messages"] = _scrubbed_json(response_body["content"])
    events = [(SOURCE_EVENT, {
        "claude_inspect.source.name": name,
        "claude_inspect.source.tokens": tokens,
        **({"claude_inspect.source.cost_usd": cost} if cost is not None else {}),
        "claude_inspect.source.estimated": estimated,
    }) for name, tokens, cost, estimated in source_figures(ex.get("attribution"))]
    error = None
    if resp.get("error"):
        error = scrub_text(str(resp["error"]))
    elif status is not None and int(status) >= 400:
        error = f"HTTP {status}"
    if error:
        attrs["error.type"] = str(status) if status and int(status) >= 400 else "capture_error"
    return SpanData(name=f"chat {model}" if model else "chat", start_ns=start, end_ns=end,
                    attributes=attrs, events=events, error=error)


class OtlpSender:
    """Sends spans to one OTLP/HTTP endpoint. `send` blocks until the collector answered
    (or the exporter's own retries gave up) and says whether it took the batch, so the
    caller decides what waits for the next try: nothing is dropped here."""

    def __init__(self, endpoint: str, headers: Mapping[str, str] | None = None, *,
                 timeout: float = 10.0, service: str = "claude-inspect") -> None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import SpanLimits, SpanProcessor, TracerProvider

        self.url = traces_url(endpoint)
        self.last_error: str | None = None
        collected: list[Any] = []
        self._collected = collected

        class Collect(SpanProcessor):
            def on_end(self, span: Any) -> None:
                collected.append(span)

        resource = Resource.create({
            "service.name": service, "service.version": __version__,
            "host.name": socket.gethostname(),
        })
        self._provider = TracerProvider(resource=resource,
                                        span_limits=SpanLimits(max_events=MAX_EVENTS))
        self._provider.add_span_processor(Collect())
        self._tracer = self._provider.get_tracer("claude-inspect", __version__)
        self._exporter = OTLPSpanExporter(endpoint=self.url, headers=dict(headers or {}),
                                          timeout=timeout)

    def spans(self, items: Iterable[SpanData]) -> list[Any]:
        """Finished SDK spans for `items`, ready for `send`."""
        from opentelemetry.trace import SpanKind, Status, StatusCode

        self._collected.clear()
        for item in items:
            span = self._tracer.start_span(item.name, kind=SpanKind.CLIENT,
                                           start_time=item.start_ns,
                                           attributes=item.attributes)
            for name, attributes in item.events:
                span.add_event(name, attributes, timestamp=item.start_ns)
            if item.error:
                span.set_status(Status(StatusCode.ERROR, item.error))
            span.end(end_time=max(item.end_ns, item.start_ns))
        done, self._collected[:] = list(self._collected), []
        return done

    def send(self, spans: list[Any]) -> bool:
        """Export one batch; False (with `last_error` set) if the collector did not take it."""
        from opentelemetry.sdk.trace.export import SpanExportResult

        if not spans:
            return True
        try:
            ok = self._exporter.export(spans) == SpanExportResult.SUCCESS
        except Exception as e:  # the exporter reports most failures as a result
            self.last_error = f"{type(e).__name__}: {e}"
            return False
        self.last_error = None if ok else "the collector did not accept the spans"
        return ok

    def close(self) -> None:
        try:
            self._exporter.shutdown()
        finally:
            self._provider.shutdown()


def quiet_sdk_logs() -> None:
    """The exporter logs every failed try with a traceback; the caller reports failures
    in one line of its own instead."""
    for name in ("opentelemetry.exporter.otlp.proto.http",
                 "opentelemetry.exporter.otlp.proto.http.trace_exporter",
                 "opentelemetry.sdk.trace.export", "opentelemetry.exporter"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
