"""OTLP/HTTP trace export requests (https://opentelemetry.io/docs/specs/otlp/#otlphttp), protobuf or
JSON, gzip/deflate or not, into `SpanRecord`s (a stored span goes back out as MLflow shows it in
service/api/trace_json.py).

A span keeps the OTLP `Span` message it arrived in, so nothing the client sent is lost; only the
fields that searches and trace info need are read out here.
"""
from __future__ import annotations

import base64
import json
import zlib

from google.protobuf import json_format
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span as OtlpSpan

from mltracker.service.errors import invalid
from mltracker.service.traces.model import SpanRecord, mlflow_trace_id

PROTOBUF, JSON = "application/x-protobuf", "application/json"
INT64_MAX = 2**63 - 1
STATUS_NAMES = {0: "UNSET", 1: "OK", 2: "ERROR"}
SPAN_TYPE, INPUTS, OUTPUTS = "mlflow.spanType", "mlflow.spanInputs", "mlflow.spanOutputs"
TRACE_TAG_PREFIX = "mlflow.traceTag."
_HEX_ID_FIELDS = ("traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id")


def decode_export_request(body: bytes, content_type: str | None, content_encoding: str | None,
                          max_size: int) -> list[SpanRecord]:
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type not in (PROTOBUF, JSON):
        raise invalid(f"Invalid Content-Type: {content_type}. Expected: {PROTOBUF} or {JSON}")
    if content_encoding:
        body = _decompress(body, content_encoding.strip().lower(), max_size)
    message = ExportTraceServiceRequest()
    try:
        if media_type == JSON:
            json_format.ParseDict(_hex_ids_to_base64(json.loads(body)), message, ignore_unknown_fields=True)
        else:
            message.ParseFromString(body)
    except (DecodeError, json_format.ParseError, ValueError, TypeError, AttributeError, RecursionError):
        raise invalid("Invalid OpenTelemetry format") from None
    if not message.resource_spans:
        raise invalid("Invalid OpenTelemetry format - no spans found")
    records = []
    for resource_spans in message.resource_spans:
        resource_tags = _resource_tags(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            records.extend(_record(span, resource_tags) for span in scope_spans.spans)
    return records


def _decompress(body: bytes, encoding: str, max_size: int) -> bytes:
    """gzip or deflate (zlib-wrapped or raw), stopping at max_size bytes of output."""
    if encoding == "gzip":
        attempts = [zlib.MAX_WBITS | 16]
    elif encoding == "deflate":
        attempts = [zlib.MAX_WBITS, -zlib.MAX_WBITS]
    else:
        raise invalid(f"Unsupported Content-Encoding: {encoding}")
    for wbits in attempts:
        inflater = zlib.decompressobj(wbits)
        try:
            out = inflater.decompress(body, max_size + 1)
        except zlib.error:
            continue
        if len(out) > max_size or inflater.unconsumed_tail:
            raise invalid(f"The decompressed request body is larger than this server accepts ({max_size} bytes).")
        return out
    raise invalid(f"Failed to decompress {encoding} payload")


def _hex_ids_to_base64(data):
    """OTLP JSON writes ids as hex; protobuf's JSON mapping of `bytes` expects base64."""
    if not isinstance(data, dict):
        raise ValueError("not an object")
    for resource_spans in data.get("resourceSpans") or data.get("resource_spans") or []:
        for scope_spans in resource_spans.get("scopeSpans") or resource_spans.get("scope_spans") or []:
            for span in scope_spans.get("spans") or []:
                for item in [span, *(span.get("links") or [])]:
                    for field in _HEX_ID_FIELDS:
                        if isinstance(item.get(field), str) and item[field]:
                            item[field] = base64.b64encode(bytes.fromhex(item[field])).decode("ascii")
    return data


def _resource_tags(attributes) -> dict[str, str]:
    """Resource attributes become trace tags, as mlflow server keeps them (not the SDK's own, nor
    anything in the reserved mlflow.* namespace)."""
    tags = {}
    for attribute in attributes:
        if attribute.key.startswith(("telemetry.sdk.", "mlflow.")):
            continue
        value = decode_any_value(attribute.value)
        tags[attribute.key] = value if isinstance(value, str) else json.dumps(value)
    return tags


def _record(span: OtlpSpan, resource_tags: dict[str, str]) -> SpanRecord:
    if len(span.trace_id) != 16:
        raise invalid("Invalid OpenTelemetry span: trace_id must be 16 bytes")
    if len(span.span_id) != 8:
        raise invalid("Invalid OpenTelemetry span: span_id must be 8 bytes")
    if span.parent_span_id and len(span.parent_span_id) != 8:
        raise invalid("Invalid OpenTelemetry span: parent_span_id must be 8 bytes")
    if span.start_time_unix_nano > INT64_MAX or span.end_time_unix_nano > INT64_MAX:
        raise invalid("Invalid OpenTelemetry span: time out of range")
    is_root = not span.parent_span_id
    span_type = inputs = outputs = None
    trace_tags = dict(resource_tags) if is_root else {}
    for attribute in span.attributes:
        key = attribute.key
        if key == SPAN_TYPE:
            span_type = _as_text(decode_any_value(attribute.value))
        elif is_root and key == INPUTS:
            inputs = json.dumps(decode_any_value(attribute.value), ensure_ascii=False)
        elif is_root and key == OUTPUTS:
            outputs = json.dumps(decode_any_value(attribute.value), ensure_ascii=False)
        elif is_root and key.startswith(TRACE_TAG_PREFIX):
            trace_tags[key[len(TRACE_TAG_PREFIX):]] = _as_text(decode_any_value(attribute.value))
    return SpanRecord(
        trace_id=mlflow_trace_id(span.trace_id.hex()),
        span_id=span.span_id.hex(),
        parent_span_id=span.parent_span_id.hex() or None,
        name=span.name,
        span_type=span_type[:500] if span_type else None,
        status=STATUS_NAMES.get(span.status.code, "UNSET"),
        start_time_ns=span.start_time_unix_nano,
        end_time_ns=span.end_time_unix_nano or None,
        content=span.SerializeToString(),
        inputs=inputs,
        outputs=outputs,
        trace_tags=trace_tags,
    )


def _as_text(value) -> str | None:
    """An attribute as the JSON text MLflow keeps (a string that holds JSON stays as it is)."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def decode_any_value(value):
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [decode_any_value(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: decode_any_value(kv.value) for kv in value.kvlist_value.values}
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value).decode("ascii")
    return getattr(value, kind)


def parse_span(content: bytes) -> OtlpSpan:
    return OtlpSpan.FromString(content)
