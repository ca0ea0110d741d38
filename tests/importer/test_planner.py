"""The importer's decision for a run already present in the target with no progress entry for
this source URL (e.g. imported before under another spelling of the same server's address)."""
from __future__ import annotations

from sqlalchemy import select, update

from mltracker.service.db.schema import runs, tags
from mltracker.service.importer.planner import Action, plan_run
from tests import factories


def _source_view(conn, run_id: str, **info_changes) -> dict:
    """The run as the source server would describe it, from what the target holds."""
    row = conn.execute(select(runs).where(runs.c.run_uuid == run_id)).one()
    info = {"run_id": run_id, "start_time": row.start_time, "end_time": row.end_time, "status": row.status,
            "lifecycle_stage": row.lifecycle_stage, **info_changes}
    run_tags = conn.execute(select(tags.c.key, tags.c.value).where(tags.c.run_uuid == run_id)).all()
    return {"info": info, "data": {"params": [{"key": "lr", "value": "0.1"}],
                                   "tags": [{"key": k, "value": v} for k, v in run_tags]}}


def _present_run(conn) -> tuple[int, str]:
    experiment_id = factories.experiment(conn)
    return experiment_id, factories.run(conn, experiment_id, "r", params={"lr": "0.1"})


def test_an_identical_run_is_adopted(conn):
    experiment_id, run_id = _present_run(conn)
    decision = plan_run(conn, factories.PROJECT, None, "fp", _source_view(conn, run_id), experiment_id)
    assert decision.action is Action.ADOPT


def test_an_unfinished_copy_is_not_adopted_as_done(conn):
    """An import interrupted mid-run leaves the row RUNNING; the source says FINISHED and deleted."""
    experiment_id, run_id = _present_run(conn)
    source = _source_view(conn, run_id, lifecycle_stage="deleted")
    conn.execute(update(runs).where(runs.c.run_uuid == run_id).values(status="RUNNING", end_time=None))
    decision = plan_run(conn, factories.PROJECT, None, "fp", source, experiment_id)
    assert decision.action is Action.CONFLICT
    assert "status" in decision.reason and "end time" in decision.reason and "lifecycle stage" in decision.reason
