"""The link table's queries (candidates of a pipeline, of an MR, the baseline on a ref),
on SQLite and PostgreSQL."""
from __future__ import annotations

import time

import pytest

from mltracker.service.linking import (
    JobLink,
    latest_pipeline_on_ref,
    latest_pipeline_runs_on_ref,
    link_of_run,
    links_of_runs,
    record_link,
    runs_of_merge_request,
    runs_of_pipeline,
)
from mltracker.service.tracking import experiments as exps
from mltracker.service.tracking import runs as run_store
from tests.conftest import migrated_database

PROJECT, OTHER_PROJECT = 501, 502


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path):
    with migrated_database(request.param, tmp_path) as database:
        yield database


def _run(conn, project, experiment, link: JobLink | None, start: int) -> str:
    run_id = run_store.create_run(conn, project, experiment, "u", start, [], None)
    record_link(conn, project, run_id, link)
    return run_id


def _link(job, pipeline, ref="main", mr=None) -> JobLink:
    return JobLink(job_id=job, pipeline_id=pipeline, commit_sha=f"{pipeline:040x}", ref=ref,
                   merge_request_iid=mr, user="alice")


def test_link_queries(db):
    t = int(time.time() * 1000)
    with db.write() as conn:
        exp = exps.create_experiment(conn, PROJECT, "train")
        other_exp = exps.create_experiment(conn, PROJECT, "other")
        foreign_exp = exps.create_experiment(conn, OTHER_PROJECT, "train")
        main_old = [_run(conn, PROJECT, exp, _link(1, 100), t + i) for i in range(2)]
        main_new = [_run(conn, PROJECT, exp, _link(2, 110), t + 10 + i) for i in range(3)]
        main_other_exp = _run(conn, PROJECT, other_exp, _link(3, 120), t + 20)
        mr_first = _run(conn, PROJECT, exp, _link(4, 130, ref="feat", mr=9), t + 30)
        mr_second = [_run(conn, PROJECT, exp, _link(5, 140, ref="feat", mr=9), t + 40 + i) for i in range(2)]
        unlinked = _run(conn, PROJECT, exp, None, t + 50)
        foreign = _run(conn, OTHER_PROJECT, foreign_exp, _link(6, 150), t + 60)
        deleted = _run(conn, PROJECT, exp, _link(7, 110), t + 70)
        run_store.set_lifecycle(conn, PROJECT, deleted, exps.DELETED)

    with db.read() as conn:
        assert runs_of_pipeline(conn, PROJECT, 110) == main_new
        assert runs_of_pipeline(conn, PROJECT, 110, experiment_id=other_exp) == []
        assert runs_of_pipeline(conn, PROJECT, 150) == []  # another project's pipeline
        assert runs_of_pipeline(conn, OTHER_PROJECT, 150) == [foreign]
        assert runs_of_merge_request(conn, PROJECT, 9) == [mr_first, *mr_second]
        assert runs_of_merge_request(conn, PROJECT, 9, experiment_id=other_exp) == []
        assert latest_pipeline_on_ref(conn, PROJECT, exp, "main") == 110
        assert latest_pipeline_runs_on_ref(conn, PROJECT, exp, "main") == main_new
        assert latest_pipeline_runs_on_ref(conn, PROJECT, exp, "main", exclude_pipeline_id=110) == main_old
        assert latest_pipeline_runs_on_ref(conn, PROJECT, other_exp, "main") == [main_other_exp]
        assert latest_pipeline_runs_on_ref(conn, PROJECT, exp, "feat") == mr_second
        assert latest_pipeline_runs_on_ref(conn, PROJECT, exp, "nope") == []
        link = link_of_run(conn, mr_first)
        assert (link.job_id, link.pipeline_id, link.merge_request_iid, link.ref, link.project_id) == (4, 130, 9, "feat", PROJECT)
        assert link_of_run(conn, unlinked) is None
        assert set(links_of_runs(conn, [unlinked, *main_old])) == set(main_old)


def test_relinking_rewrites_the_row(db):
    with db.write() as conn:
        exp = exps.create_experiment(conn, PROJECT, "relink")
        run_id = _run(conn, PROJECT, exp, _link(1, 100), 1)
        record_link(conn, PROJECT, run_id, _link(1, 100, mr=4))
    with db.read() as conn:
        assert link_of_run(conn, run_id).merge_request_iid == 4
        assert runs_of_merge_request(conn, PROJECT, 4) == [run_id]
