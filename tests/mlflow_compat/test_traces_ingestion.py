"""Span ingestion and the trace endpoints beyond what the 3.x client's happy path sends: OTLP JSON
and compressed bodies from any exporter, refusals in MLflow's error format, the 2.x start/end pair,
the traces.json download, and project scoping. Against a live mltracker on both storage
configurations; traces are then read back through the stock client."""
from __future__ import annotations

import gzip
import json
import os
import time
import uuid
import zlib

import pytest
import requests
from mlflow import MlflowClient
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tests.e2e.helpers import tracking_uri_env

pytestmark = pytest.mark.e2e


def _ids() -> tuple[str, str, str]:
    return os.urandom(16).hex(), os.urandom(8).hex(), os.urandom(8).hex()


def _otlp_json(trace_hex: str, spans: list[dict]) -> dict:
    return {"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "checkout"}}]},
        "scopeSpans": [{"spans": [{"traceId": trace_hex, **s} for s in spans]}],
    }]}


@pytest.fixture
def experiment(mltracker):
    with tracking_uri_env(mltracker.url):
        client = MlflowClient(mltracker.url)
        yield mltracker.url, client, client.create_experiment(f"ingest-{uuid.uuid4().hex[:8]}")


def _post(url: str, experiment_id: str, body: bytes, content_type: str, **headers) -> requests.Response:
    return requests.post(f"{url}/v1/traces", data=body, timeout=30,
                         headers={"Content-Type": content_type, "x-mlflow-experiment-id": experiment_id, **headers})


def test_otlp_json_spans_from_any_exporter_become_a_trace(experiment):
    url, client, experiment_id = experiment
    trace_hex, root_id, child_id = _ids()
    now = time.time_ns()
    payload = _otlp_json(trace_hex, [
        {"spanId": root_id, "name": "checkout", "startTimeUnixNano": str(now), "endTimeUnixNano": str(now + 5_000_000),
         "status": {"code": 2, "message": "card declined"},
         "attributes": [{"key": "mlflow.spanInputs", "value": {"stringValue": "{\"cart\": 3}"}},
                        {"key": "http.status", "value": {"intValue": "402"}}]},
        {"spanId": child_id, "parentSpanId": root_id, "name": "charge", "startTimeUnixNano": str(now + 1_000_000),
         "endTimeUnixNano": str(now + 4_000_000), "kind": 3},
    ])
    response = _post(url, experiment_id, json.dumps(payload).encode(), "application/json")
    assert response.status_code == 200, response.text
    trace = client.get_trace(f"tr-{trace_hex}")
    assert trace.info.experiment_id == experiment_id
    assert trace.info.state.value == "ERROR"
    assert trace.info.execution_duration == 5
    assert trace.info.request_time == now // 1_000_000
    assert trace.info.tags["service.name"] == "checkout"
    assert trace.info.tags["mlflow.trace.spansLocation"] == "TRACKING_STORE"
    spans = {s.name: s for s in trace.data.spans}
    assert spans["charge"].parent_id == spans["checkout"].span_id == root_id
    assert spans["checkout"].get_attribute("http.status") == 402
    assert spans["checkout"].status.description == "card declined"


def test_compressed_protobuf_spans_are_accepted_and_a_resend_changes_nothing(experiment):
    url, client, experiment_id = experiment
    trace_hex, root_id, _ = _ids()
    request = ExportTraceServiceRequest()
    span = request.resource_spans.add().scope_spans.add().spans.add()
    span.trace_id, span.span_id, span.name = bytes.fromhex(trace_hex), bytes.fromhex(root_id), "root"
    span.start_time_unix_nano, span.end_time_unix_nano = 1_700_000_000_000_000_000, 1_700_000_000_250_000_000
    body = request.SerializeToString()
    for encoded, encoding in ((gzip.compress(body), "gzip"), (zlib.compress(body), "deflate")):
        response = _post(url, experiment_id, encoded, "application/x-protobuf", **{"Content-Encoding": encoding})
        assert response.status_code == 200, response.text
        assert response.headers["Content-Type"] == "application/x-protobuf"
    trace = client.get_trace(f"tr-{trace_hex}")
    assert [s.name for s in trace.data.spans] == ["root"]
    assert (trace.info.request_time, trace.info.execution_duration) == (1_700_000_000_000, 250)


@pytest.mark.parametrize("body, content_type, headers, status", [
    (b"\x0a\x05garbage", "application/x-protobuf", {}, 400),
    (b"{not json", "application/json", {}, 400),
    (b"{}", "application/json", {}, 400),
    (b"anything", "text/plain", {}, 400),
    (b"not gzip", "application/x-protobuf", {"Content-Encoding": "gzip"}, 400),
    (b"x", "application/x-protobuf", {"Content-Encoding": "br"}, 400),
])
def test_otlp_refusals_are_mlflow_errors(experiment, body, content_type, headers, status):
    url, _, experiment_id = experiment
    response = _post(url, experiment_id, body, content_type, **headers)
    assert response.status_code == status
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_otlp_needs_the_experiment_header_and_a_real_experiment(experiment):
    url, _, _ = experiment
    trace_hex, root_id, _ = _ids()
    body = json.dumps(_otlp_json(trace_hex, [{"spanId": root_id, "name": "r", "startTimeUnixNano": "1"}])).encode()
    response = requests.post(f"{url}/v1/traces", data=body, headers={"Content-Type": "application/json"}, timeout=30)
    assert response.status_code == 400 and response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    response = _post(url, "987654321", body, "application/json")
    assert response.status_code == 404 and response.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def test_a_gzip_bomb_stops_at_the_body_limit(experiment):
    url, _, experiment_id = experiment
    bomb = gzip.compress(b"\0" * (64 * 1024 * 1024))
    response = _post(url, experiment_id, bomb, "application/x-protobuf", **{"Content-Encoding": "gzip"})
    assert response.status_code == 400
    assert "larger than this server accepts" in response.json()["message"]


def test_legacy_start_and_end_trace(experiment):
    url, client, experiment_id = experiment
    start = requests.post(f"{url}/api/2.0/mlflow/traces", timeout=30, json={
        "experiment_id": experiment_id, "timestamp_ms": 1000,
        "request_metadata": [{"key": "origin", "value": "v2"}], "tags": [{"key": "t", "value": "1"}],
    })
    assert start.status_code == 200, start.text
    info = start.json()["trace_info"]
    assert (info["status"], info["timestamp_ms"], info["experiment_id"]) == ("IN_PROGRESS", 1000, experiment_id)
    request_id = info["request_id"]
    end = requests.patch(f"{url}/api/2.0/mlflow/traces/{request_id}", timeout=30, json={
        "timestamp_ms": 1750, "status": "OK", "tags": [{"key": "t", "value": "2"}],
    })
    assert end.status_code == 200, end.text
    assert (end.json()["trace_info"]["status"], end.json()["trace_info"]["execution_time_ms"]) == ("OK", 750)
    got = client._tracing_client.get_trace_info(request_id)
    assert (got.state.value, got.execution_duration, got.tags["t"], got.trace_metadata["origin"]) == ("OK", 750, "2", "v2")
    legacy = requests.get(f"{url}/api/2.0/mlflow/traces/{request_id}/info", timeout=30).json()["trace_info"]
    assert legacy["request_id"] == request_id and legacy["execution_time_ms"] == 750
    found = requests.get(f"{url}/api/2.0/mlflow/traces", timeout=30,
                         params={"experiment_ids": [experiment_id], "filter": "tag.t = '2'"}).json()
    assert [t["request_id"] for t in found["traces"]] == [request_id]
    assert {"key": "origin", "value": "v2"} in found["traces"][0]["request_metadata"]


def test_trace_data_download_is_mlflow_traces_json(experiment):
    url, client, experiment_id = experiment
    trace_hex, root_id, _ = _ids()
    payload = _otlp_json(trace_hex, [{"spanId": root_id, "name": "root", "startTimeUnixNano": "1000000",
                                      "endTimeUnixNano": "3000000",
                                      "attributes": [{"key": "k", "value": {"arrayValue": {"values": [{"intValue": "1"}]}}}]}])
    assert _post(url, experiment_id, json.dumps(payload).encode(), "application/json").status_code == 200
    response = requests.get(f"{url}/ajax-api/2.0/mlflow/get-trace-artifact", params={"request_id": f"tr-{trace_hex}"},
                            timeout=30)
    assert response.status_code == 200
    assert "filename=traces.json" in response.headers["Content-Disposition"]
    (span,) = response.json()["spans"]
    assert (span["name"], span["attributes"]["k"], span["start_time_unix_nano"]) == ("root", "[1]", 1000000)
    from mlflow.entities.trace_data import TraceData

    assert TraceData.from_dict(response.json()).spans[0].get_attribute("k") == [1]
    missing = requests.get(f"{url}/ajax-api/2.0/mlflow/get-trace-artifact", params={"request_id": "tr-nope"}, timeout=30)
    assert missing.status_code == 404 and missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def test_server_managed_tags_cannot_be_changed(experiment):
    url, client, experiment_id = experiment
    trace_hex, root_id, _ = _ids()
    payload = _otlp_json(trace_hex, [{"spanId": root_id, "name": "root", "startTimeUnixNano": "1"}])
    assert _post(url, experiment_id, json.dumps(payload).encode(), "application/json").status_code == 200
    response = requests.patch(f"{url}/api/2.0/mlflow/traces/tr-{trace_hex}/tags", timeout=30,
                              json={"key": "mlflow.trace.spansLocation", "value": "ARTIFACT_REPO"})
    assert response.status_code == 400 and response.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_traces_belong_to_their_project(mltracker):
    """The same server serves /projects/<id>/…: a trace logged in one project is not found in another."""
    project_url = f"{mltracker.url}/projects/4242"
    with tracking_uri_env(project_url):
        client = MlflowClient(project_url)
        experiment_id = client.create_experiment(f"scoped-{uuid.uuid4().hex[:8]}")
        trace_hex, root_id, _ = _ids()
        payload = _otlp_json(trace_hex, [{"spanId": root_id, "name": "root", "startTimeUnixNano": "1"}])
        assert _post(project_url, experiment_id, json.dumps(payload).encode(), "application/json").status_code == 200
        assert client.get_trace(f"tr-{trace_hex}").info.experiment_id == experiment_id
    other = requests.get(f"{mltracker.url}/projects/4343/api/3.0/mlflow/traces/tr-{trace_hex}", timeout=30)
    assert other.status_code == 404 and other.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    # Spans of that trace sent to another project do not join it.
    with tracking_uri_env(f"{mltracker.url}/projects/4343"):
        elsewhere = MlflowClient(f"{mltracker.url}/projects/4343").create_experiment("elsewhere")
    response = _post(f"{mltracker.url}/projects/4343", elsewhere, json.dumps(payload).encode(), "application/json")
    assert response.status_code == 400 or response.status_code == 409


def test_the_run_header_links_finished_traces_to_the_run(experiment):
    url, client, experiment_id = experiment
    run_id = client.create_run(experiment_id).info.run_id
    trace_hex, root_id, child_id = _ids()
    payload = _otlp_json(trace_hex, [{"spanId": root_id, "name": "root", "startTimeUnixNano": "1"},
                                     {"spanId": child_id, "parentSpanId": root_id, "name": "c", "startTimeUnixNano": "2"}])
    body = json.dumps(payload).encode()
    assert _post(url, experiment_id, body, "application/json", **{"x-mlflow-run-id": run_id}).status_code == 200
    found = client.search_traces(locations=[experiment_id], filter_string=f"trace.run_id = '{run_id}'",
                                 include_spans=False)
    assert [t.info.trace_id for t in found] == [f"tr-{trace_hex}"]
    other_hex, other_root, _ = _ids()
    other = json.dumps(_otlp_json(other_hex, [{"spanId": other_root, "name": "r", "startTimeUnixNano": "1"}])).encode()
    response = _post(url, experiment_id, other, "application/json", **{"x-mlflow-run-id": "f" * 32})
    assert response.status_code == 200  # an unknown run: the spans are kept, no link is made
    assert client.get_trace(f"tr-{other_hex}").info.trace_id == f"tr-{other_hex}"


@pytest.mark.parametrize("method, path, body, message", [
    ("post", "/api/3.0/mlflow/traces/search", {"locations": [{"mlflow_experiment": {"experiment_id": "{e}"}}],
                                               "max_results": 501}, "at most 500"),
    ("post", "/api/3.0/mlflow/traces/search", {"locations": [{"mlflow_experiment": {"experiment_id": "{e}"}}],
                                               "filter": "feedback.x RLIKE 'y'"}, "Invalid"),
    ("post", "/api/2.0/mlflow/traces/delete-traces", {"experiment_id": "{e}"}, "must be specified"),
    ("post", "/api/2.0/mlflow/traces/delete-traces", {"experiment_id": "{e}", "max_timestamp_millis": 1,
                                                      "request_ids": ["tr-1"]}, "Only one of"),
    ("post", "/api/3.0/mlflow/traces/batchGetInfos", {"trace_ids": [f"tr-{i}" for i in range(101)]}, "At most 100"),
    ("post", "/api/3.0/mlflow/traces", {"trace": {"trace_info": {"trace_id": "tr-x", "request_time": "yesterday",
                                        "trace_location": {"mlflow_experiment": {"experiment_id": "{e}"}}}}},
     "RFC 3339"),
])
def test_trace_endpoint_refusals(experiment, method, path, body, message):
    url, _, experiment_id = experiment
    payload = json.loads(json.dumps(body).replace("{e}", experiment_id))
    response = getattr(requests, method)(f"{url}{path}", json=payload, timeout=30)
    assert response.status_code == 400, response.text
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert message in response.json()["message"]
