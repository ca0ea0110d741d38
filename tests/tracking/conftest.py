"""The tracking write paths commit in transactions of their own (store_batch, single_writes), so
their tests write a run that is committed, in a project of its own."""
from __future__ import annotations

import pytest

from tests import factories


@pytest.fixture
def committed_run(database) -> tuple[int, str]:
    """(project, run id) of a new, running run without data."""
    project = factories.committed_project()
    with database.write() as conn:
        experiment = factories.experiment(conn, "store", project=project)
        run_id = factories.run(conn, experiment, "r", project=project, status=None)
    return project, run_id
