"""The UI's trace lists on SQLite and PostgreSQL: pages of 50 newest first, a candidate's own traces,
and "failing examples" (a feedback of false or "no", or a scorer error; not a passing or numeric
one, not an expectation, not an assessment overridden since)."""
from __future__ import annotations

import uuid

from mltracker.service.traces import assessments
from mltracker.service.traces.model import TraceInfo
from mltracker.service.traces.store import link_runs, start_trace
from mltracker.service.ui.trace_queries import PAGE_SIZE, trace_page
from tests import factories
from tests.factories import PROJECT


def _feedback(name: str, value=None, error=None) -> dict:
    body = {"value": value} if error is None else {"error": {"error_code": "SCORER_ERROR", "error_message": error}}
    return {"assessment_name": name, "feedback": body, "source": {"source_type": "CODE", "source_id": name}}


def test_pages_run_filter_and_failing_examples(conn):
    project = PROJECT
    kinds = {
        "passes": [_feedback("exact", True), _feedback("score", 0)],
        "false": [_feedback("exact", False)],
        "no": [_feedback("rating", "No")],
        "error": [_feedback("exact", error="boom")],
        "expectation-only": [{"assessment_name": "expected", "expectation": {"value": False},
                              "source": {"source_type": "HUMAN", "source_id": "me"}}],
    }
    experiment = factories.experiment(conn, "trace-lists")
    run_id = factories.run(conn, experiment, "scored")
    ids = {}
    for index in range(PAGE_SIZE + 5):
        trace_id = f"tr-{uuid.uuid4().hex}"
        start_trace(conn, project, TraceInfo(trace_id=trace_id, experiment_id=experiment,
                                             request_time_ms=1_700_000_000_000 + index,
                                             execution_duration_ms=5, state="OK"))
        ids[index] = trace_id
    for offset, (kind, items) in enumerate(kinds.items()):
        for item in items:
            assessments.create(conn, project, ids[offset], item)
    overridden = assessments.create(conn, project, ids[10], _feedback("exact", False))
    assessments.create(conn, project, ids[10],
                       {**_feedback("exact", True), "overrides": overridden.assessment_id})
    link_runs(conn, [ids[1], ids[2], ids[3]], run_id)

    first = trace_page(conn, project, experiment_id=experiment)
    second = trace_page(conn, project, experiment_id=experiment, page_token=first.next_token)
    failing = trace_page(conn, project, experiment_id=experiment, failing_only=True)
    of_run = trace_page(conn, project, run_id=run_id)
    failing_of_run = trace_page(conn, project, run_id=run_id, failing_only=True,
                                filter_string="trace.status = 'OK'")
    elsewhere = trace_page(conn, project + 1, experiment_id=experiment)

    assert [t.trace_id for t in first.traces] == [ids[i] for i in range(PAGE_SIZE + 4, 4, -1)]
    assert [t.trace_id for t in second.traces] == [ids[i] for i in range(4, -1, -1)] and second.next_token is None
    assert {t.trace_id for t in failing.traces} == {ids[1], ids[2], ids[3]}
    assert {t.trace_id for t in of_run.traces} == {ids[1], ids[2], ids[3]}
    assert len(failing_of_run.traces) == 3
    assert elsewhere.traces == []
