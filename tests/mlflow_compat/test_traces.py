"""MLflow 3 tracing through the stock client: traced functions with nested spans, a stubbed LLM
client traced as autologging does, `mlflow.openai.autolog()` over a local stub transport, search_traces with filters and ordering, assessments, tags,
run links and deletion. Side by side on `mlflow server` and mltracker (SQLite + local folder,
PostgreSQL + S3): every behaviour checked here holds on the reference server too."""
from __future__ import annotations

import time
import uuid

import mlflow
import pytest
from mlflow import MlflowClient
from mlflow.entities import AssessmentSource, SpanType

from tests.e2e.helpers import tracking_uri_env

pytestmark = pytest.mark.e2e


@pytest.fixture
def server(side_by_side):
    with tracking_uri_env(side_by_side.url):
        experiment = mlflow.set_experiment(f"traces-{uuid.uuid4().hex[:8]}")
        yield MlflowClient(side_by_side.url), experiment.experiment_id


def _finish() -> str:
    mlflow.flush_trace_async_logging()
    return mlflow.get_last_active_trace_id()


@mlflow.trace(span_type=SpanType.RETRIEVER)
def _retrieve(question: str) -> list[str]:
    return [f"doc about {question}"]


@mlflow.trace(span_type=SpanType.CHAIN)
def _answer(question: str) -> str:
    docs = _retrieve(question)
    with mlflow.start_span("format", span_type=SpanType.PARSER) as span:
        span.set_inputs({"docs": docs})
        text = f"{question}: {len(docs)} doc(s)"
        span.set_outputs(text)
        span.set_attribute("doc_count", len(docs))
    return text


def test_traced_function_with_nested_spans(server):
    client, experiment_id = server
    assert _answer("why") == "why: 1 doc(s)"
    trace = client.get_trace(_finish())
    assert trace.info.experiment_id == experiment_id
    assert trace.info.state.value == "OK"
    assert trace.info.tags["mlflow.traceName"] == "_answer"
    assert trace.info.request_preview == '{"question": "why"}'
    assert trace.info.response_preview == '"why: 1 doc(s)"'
    assert trace.info.execution_duration is not None and trace.info.execution_duration >= 0
    spans = {s.name: s for s in trace.data.spans}
    assert set(spans) == {"_answer", "_retrieve", "format"}
    root = spans["_answer"]
    assert root.parent_id is None
    assert spans["_retrieve"].parent_id == root.span_id == spans["format"].parent_id
    assert (root.span_type, spans["_retrieve"].span_type, spans["format"].span_type) == (
        SpanType.CHAIN, SpanType.RETRIEVER, SpanType.PARSER)
    assert spans["_retrieve"].inputs == {"question": "why"}
    assert spans["_retrieve"].outputs == ["doc about why"]
    assert spans["format"].inputs == {"docs": ["doc about why"]}
    assert spans["format"].get_attribute("doc_count") == 1
    assert root.start_time_ns <= spans["_retrieve"].start_time_ns <= spans["_retrieve"].end_time_ns <= root.end_time_ns


def test_a_failing_function_leaves_an_error_trace_with_the_exception(server):
    client, _ = server

    @mlflow.trace
    def broken():
        raise ValueError("boom")

    with pytest.raises(ValueError):
        broken()
    trace = client.get_trace(_finish())
    assert trace.info.state.value == "ERROR"
    (span,) = trace.data.spans
    assert span.status.status_code.value == "ERROR"
    assert any(e.name == "exception" and "boom" in str(e.attributes) for e in span.events)


class StubChatClient:
    """A chat-completions client that answers locally, traced as MLflow's LLM autologgers trace
    theirs: a CHAT_MODEL span with the messages, the reply and the token usage."""

    model = "stub-llm-1"

    def complete(self, messages: list[dict]) -> dict:
        with mlflow.start_span("StubChatClient.complete", span_type=SpanType.CHAT_MODEL) as span:
            span.set_inputs({"model": self.model, "messages": messages})
            reply = {"role": "assistant", "content": f"echo: {messages[-1]['content']}"}
            usage = {"input_tokens": 7, "output_tokens": 3, "total_tokens": 10}
            span.set_attributes({"mlflow.chat.tokenUsage": usage, "mlflow.llm.model": self.model})
            span.set_outputs({"choices": [{"message": reply}], "usage": usage})
            return reply


def test_a_stubbed_llm_client_traced_like_autologging(server):
    client, experiment_id = server
    llm = StubChatClient()

    @mlflow.trace(name="agent", span_type=SpanType.AGENT)
    def agent(question: str) -> str:
        return llm.complete([{"role": "user", "content": question}])["content"]

    with mlflow.start_run() as run:
        assert agent("hello") == "echo: hello"
    trace_id = _finish()
    trace = client.get_trace(trace_id)
    assert trace.info.request_metadata["mlflow.sourceRun"] == run.info.run_id
    chat = next(s for s in trace.data.spans if s.span_type == SpanType.CHAT_MODEL)
    assert chat.inputs["messages"] == [{"role": "user", "content": "hello"}]
    assert chat.outputs["choices"][0]["message"]["content"] == "echo: hello"
    assert chat.get_attribute("mlflow.chat.tokenUsage") == {"input_tokens": 7, "output_tokens": 3, "total_tokens": 10}
    found = mlflow.search_traces(locations=[experiment_id], run_id=run.info.run_id, return_type="list")
    assert [t.info.trace_id for t in found] == [trace_id]
    assert {s.name for s in found[0].data.spans} == {"agent", "StubChatClient.complete"}


@pytest.fixture
def five_traces(server):
    """Five traces of known name, state, duration and tags, oldest first."""
    client, experiment_id = server
    ids = []
    for index, (name, fail, sleep) in enumerate(
        [("alpha", False, 0.0), ("beta", True, 0.05), ("alpha", False, 0.12), ("gamma", False, 0.0),
         ("beta", False, 0.02)]
    ):
        @mlflow.trace(name=name)
        def step(i=index, fail=fail, sleep=sleep):
            time.sleep(sleep)
            mlflow.update_current_trace(tags={"position": str(i), "parity": "even" if i % 2 == 0 else "odd"},
                                        metadata={"batch": "b1"})
            with mlflow.start_span(f"inner-{i}"):
                pass
            if fail:
                raise RuntimeError("failed step")
            return i

        try:
            step()
        except RuntimeError:
            pass
        ids.append(_finish())
        time.sleep(0.01)
    return client, experiment_id, ids


def _search(experiment_id, **kwargs) -> list[str]:
    return [t.info.trace_id for t in mlflow.search_traces(locations=[experiment_id], return_type="list",
                                                          include_spans=False, **kwargs)]


def test_search_traces_filters(five_traces):
    _, experiment_id, ids = five_traces
    newest_first = ids[::-1]
    assert _search(experiment_id) == newest_first
    assert _search(experiment_id, filter_string="trace.status = 'ERROR'") == [ids[1]]
    assert _search(experiment_id, filter_string="trace.status = 'OK'") == [i for i in newest_first if i != ids[1]]
    assert _search(experiment_id, filter_string="tag.parity = 'even'") == [ids[4], ids[2], ids[0]]
    assert _search(experiment_id, filter_string="tags.position != '2' AND tag.parity = 'even'") == [ids[4], ids[0]]
    assert _search(experiment_id, filter_string="trace.name = 'alpha'") == [ids[2], ids[0]]
    assert _search(experiment_id, filter_string="trace.name LIKE '%mma'") == [ids[3]]
    assert _search(experiment_id, filter_string="trace.request_id IN ('%s', '%s')" % (ids[1], ids[3])) == [ids[3], ids[1]]
    assert _search(experiment_id, filter_string="metadata.batch = 'b1'") == newest_first
    assert _search(experiment_id, filter_string="metadata.batch = 'b2'") == []
    assert _search(experiment_id, filter_string="span.name = 'inner-3'") == [ids[3]]
    assert _search(experiment_id, filter_string="span.name LIKE 'inner-%' AND trace.name = 'beta'") == [ids[4], ids[1]]
    assert _search(experiment_id, filter_string="trace.execution_time_ms > 100") == [ids[2]]
    third = mlflow.get_trace(ids[2]).info.request_time
    assert _search(experiment_id, filter_string=f"trace.timestamp_ms >= {third}") == [ids[4], ids[3], ids[2]]
    assert _search(experiment_id, filter_string=f"trace.timestamp_ms < {third} AND trace.status = 'OK'") == [ids[0]]


def test_search_traces_order_and_pages(five_traces):
    _, experiment_id, ids = five_traces
    assert _search(experiment_id, order_by=["timestamp_ms ASC"]) == ids
    assert _search(experiment_id, order_by=["execution_time_ms DESC"])[0] == ids[2]
    assert _search(experiment_id, order_by=["timestamp_ms ASC"], max_results=2) == ids[:2]
    client = MlflowClient()
    first = client.search_traces(locations=[experiment_id], max_results=2, order_by=["timestamp_ms ASC"],
                                 include_spans=False)
    assert [t.info.trace_id for t in first] == ids[:2] and first.token
    second = client.search_traces(locations=[experiment_id], max_results=2, order_by=["timestamp_ms ASC"],
                                  page_token=first.token, include_spans=False)
    assert [t.info.trace_id for t in second] == ids[2:4]
    last = client.search_traces(locations=[experiment_id], max_results=2, order_by=["timestamp_ms ASC"],
                                page_token=second.token, include_spans=False)
    assert [t.info.trace_id for t in last] == ids[4:] and not last.token


def test_search_traces_with_spans_loads_every_span(five_traces):
    _, experiment_id, ids = five_traces
    found = mlflow.search_traces(locations=[experiment_id], return_type="list", order_by=["timestamp_ms ASC"])
    assert [t.info.trace_id for t in found] == ids
    assert [sorted(s.name for s in t.data.spans) for t in found] == [
        sorted([name, f"inner-{i}"]) for i, name in enumerate(["alpha", "beta", "alpha", "gamma", "beta"])
    ]


def test_search_traces_refuses_a_bad_filter(server):
    _, experiment_id = server
    with pytest.raises(mlflow.exceptions.MlflowException) as failure:
        _search(experiment_id, filter_string="trace.status = ")
    assert failure.value.error_code == "INVALID_PARAMETER_VALUE"


def test_trace_tags_set_and_delete(server):
    client, _ = server
    _answer("tags")
    trace_id = _finish()
    client.set_trace_tag(trace_id, "reviewed", "yes")
    assert client.get_trace(trace_id).info.tags["reviewed"] == "yes"
    client.delete_trace_tag(trace_id, "reviewed")
    assert "reviewed" not in client.get_trace(trace_id).info.tags
    with pytest.raises(mlflow.exceptions.MlflowException) as failure:
        client.delete_trace_tag(trace_id, "reviewed")
    assert failure.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_delete_traces_by_ids_and_by_time(five_traces):
    client, experiment_id, ids = five_traces
    assert client.delete_traces(experiment_id, trace_ids=[ids[0], ids[1]]) == 2
    assert _search(experiment_id) == ids[:1:-1]
    with pytest.raises(mlflow.exceptions.MlflowException):
        client.get_trace(ids[0])
    cutoff = client.get_trace(ids[3]).info.request_time
    assert client.delete_traces(experiment_id, max_timestamp_millis=cutoff, max_traces=1) == 1
    assert _search(experiment_id) == [ids[4], ids[3]]
    assert client.delete_traces(experiment_id, max_timestamp_millis=cutoff) == 1
    assert _search(experiment_id) == [ids[4]]


def test_link_traces_to_a_run(server):
    client, experiment_id = server
    _answer("linked")
    trace_id = _finish()
    run_id = client.create_run(experiment_id).info.run_id
    client.link_traces_to_run([trace_id], run_id)
    found = mlflow.search_traces(locations=[experiment_id], run_id=run_id, return_type="list", include_spans=False)
    assert [t.info.trace_id for t in found] == [trace_id]
    client.link_traces_to_run(["tr-" + "0" * 32, trace_id], run_id)  # an unknown id is passed over
    found = mlflow.search_traces(locations=[experiment_id], run_id=run_id, return_type="list", include_spans=False)
    assert [t.info.trace_id for t in found] == [trace_id]


def test_assessments_feedback_and_expectations(server):
    client, _ = server
    _answer("judge me")
    trace_id = _finish()
    human = AssessmentSource(source_type="HUMAN", source_id="reviewer@example.com")
    feedback = mlflow.log_feedback(trace_id=trace_id, name="correct", value=True, rationale="looks right",
                                   source=human, metadata={"round": "1"})
    expectation = mlflow.log_expectation(trace_id=trace_id, name="expected_answer",
                                         value={"answer": "judge me: 1 doc(s)"}, source=human)
    got = mlflow.get_assessment(trace_id, feedback.assessment_id)
    assert (got.name, got.value, got.rationale, got.source.source_id, got.metadata) == (
        "correct", True, "looks right", "reviewer@example.com", {"round": "1"})
    assert mlflow.get_assessment(trace_id, expectation.assessment_id).value == {"answer": "judge me: 1 doc(s)"}
    updated = mlflow.update_assessment(
        trace_id, feedback.assessment_id,
        mlflow.entities.Feedback(name="correct", value=False, rationale="second look", metadata={"round": "2"}),
    )
    assert (updated.value, updated.rationale, updated.metadata) == (False, "second look", {"round": "2"})
    assert mlflow.get_assessment(trace_id, feedback.assessment_id).value is False
    by_name = {a.name: a for a in client.get_trace(trace_id).info.assessments}
    assert set(by_name) == {"correct", "expected_answer"}
    assert by_name["correct"].value is False and by_name["correct"].valid
    mlflow.delete_assessment(trace_id, feedback.assessment_id)
    assert [a.name for a in client.get_trace(trace_id).info.assessments] == ["expected_answer"]
    with pytest.raises(mlflow.exceptions.MlflowException) as failure:
        mlflow.get_assessment(trace_id, feedback.assessment_id)
    assert failure.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_an_override_invalidates_the_original_until_deleted(server):
    client, _ = server
    _answer("override")
    trace_id = _finish()
    original = mlflow.log_feedback(trace_id=trace_id, name="quality", value=0.4,
                                   source=AssessmentSource(source_type="LLM_JUDGE", source_id="judge"))
    correction = mlflow.override_feedback(trace_id=trace_id, assessment_id=original.assessment_id, value=0.9,
                                          rationale="judge was wrong",
                                          source=AssessmentSource(source_type="HUMAN", source_id="me"))
    assert correction.overrides == original.assessment_id
    assert mlflow.get_assessment(trace_id, original.assessment_id).valid is False
    mlflow.delete_assessment(trace_id, correction.assessment_id)
    assert mlflow.get_assessment(trace_id, original.assessment_id).valid is True


def test_trace_data_kept_as_an_artifact_is_read_back(server):
    """A client whose spans did not reach the server (older clients, or log_spans failing) uploads the
    trace data as traces.json under the trace's mlflow.artifactLocation; get_trace reads it there."""
    from mlflow.entities import TraceInfo, TraceLocation, TraceState
    from mlflow.tracing.client import TracingClient

    client, experiment_id = server
    _answer("as artifact")
    data = client.get_trace(_finish()).data
    trace_id = f"tr-{uuid.uuid4().hex}"
    tracing = TracingClient()
    returned = tracing.start_trace(TraceInfo(
        trace_id=trace_id, trace_location=TraceLocation.from_experiment_id(experiment_id),
        request_time=int(time.time() * 1000), execution_duration=5, state=TraceState.OK,
    ))
    assert "mlflow.trace.spansLocation" not in returned.tags
    assert returned.tags["mlflow.artifactLocation"].endswith(f"/traces/{trace_id}/artifacts")
    tracing._upload_trace_data(returned, data)
    assert sorted(s.name for s in client.get_trace(trace_id).data.spans) == ["_answer", "_retrieve", "format"]


def _stub_openai_client():
    """The real `openai` client whose HTTP transport answers locally (no network), as a chat
    completions endpoint would: the reply echoes the last message, with token usage."""
    import json

    import openai

    try:  # openai 3.x sends through httpx2, earlier releases through httpx
        import httpx2 as transport_lib
    except ImportError:
        import httpx as transport_lib

    def answer(request):
        body = json.loads(request.content)
        return transport_lib.Response(200, json={
            "id": "chatcmpl-stub", "object": "chat.completion", "created": 1, "model": body["model"],
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": "echo: " + body["messages"][-1]["content"]}}],
            "usage": {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10},
        })

    return openai.OpenAI(api_key="stub", base_url="http://llm.invalid/v1",
                         http_client=transport_lib.Client(transport=transport_lib.MockTransport(answer)))


def test_openai_autologging_traces_reach_the_server(server):
    client, experiment_id = server
    llm = _stub_openai_client()
    mlflow.openai.autolog()
    try:
        with mlflow.start_run() as run:
            reply = llm.chat.completions.create(model="stub-llm", messages=[{"role": "user", "content": "hi"}])
        assert reply.choices[0].message.content == "echo: hi"
        trace_id = _finish()
    finally:
        mlflow.openai.autolog(disable=True)
    trace = client.get_trace(trace_id)
    assert trace.info.experiment_id == experiment_id
    assert trace.info.request_metadata["mlflow.sourceRun"] == run.info.run_id
    (span,) = trace.data.spans
    assert span.span_type == SpanType.CHAT_MODEL
    assert span.inputs["messages"] == [{"role": "user", "content": "hi"}]
    assert span.outputs["choices"][0]["message"]["content"] == "echo: hi"
    assert span.get_attribute("mlflow.chat.tokenUsage") == {"input_tokens": 7, "output_tokens": 3, "total_tokens": 10}
    found = mlflow.search_traces(locations=[experiment_id], filter_string="span.name = 'Completions'",
                                 return_type="list")
    assert [t.info.trace_id for t in found] == [trace_id]
