"""search_experiment_ids against real SQLite and PostgreSQL databases holding the sample data.

Project 1: Default (created 1000, updated 5000), alpha-exp (2000, 4000), Beta-exp (2000, 3000),
gamma (deleted, 4000, 4000); project 2: other-project. Ids grow in that order.
"""
from __future__ import annotations

import pytest

from mltracker.service.errors import MlflowError
from mltracker.service.search.experiments import search_experiment_ids


def search(sample_conn, filter_string=None, order_by=None, view="ACTIVE_ONLY", max_results=1000, token=None, project=1):
    return search_experiment_ids(
        sample_conn,
        project_id=project,
        filter_string=filter_string,
        view_type=view,
        max_results=max_results,
        order_by=order_by,
        page_token=token,
    )


def names(exp_ids, found):
    by_id = {v: k for k, v in exp_ids.items()}
    return [by_id[i] for i in found]


FILTERS = [
    (None, "ACTIVE_ONLY", {"Default", "alpha-exp", "Beta-exp"}),
    (None, "DELETED_ONLY", {"gamma"}),
    (None, "ALL", {"Default", "alpha-exp", "Beta-exp", "gamma"}),
    ("name = 'alpha-exp'", "ACTIVE_ONLY", {"alpha-exp"}),
    ("attribute.name != 'Default'", "ACTIVE_ONLY", {"alpha-exp", "Beta-exp"}),
    ("name LIKE '%exp'", "ACTIVE_ONLY", {"alpha-exp", "Beta-exp"}),
    ("name LIKE 'b%'", "ACTIVE_ONLY", set()),
    ("name ILIKE 'b%'", "ACTIVE_ONLY", {"Beta-exp"}),
    ("name LIKE '_eta-exp'", "ACTIVE_ONLY", {"Beta-exp"}),
    ("tags.owner = 'Ann'", "ACTIVE_ONLY", {"alpha-exp"}),  # other-project is another project
    ("tags.owner ILIKE 'ann'", "ACTIVE_ONLY", {"alpha-exp"}),
    ("tags.owner ILIKE 'ann'", "ALL", {"alpha-exp", "gamma"}),
    ("tags.owner IS NULL", "ACTIVE_ONLY", {"Default"}),
    ("tags.owner IS NOT NULL", "ACTIVE_ONLY", {"alpha-exp", "Beta-exp"}),
    ("tag.owner != 'bob'", "ACTIVE_ONLY", {"alpha-exp"}),
    ("tags.note LIKE '100%'", "ACTIVE_ONLY", {"Beta-exp"}),
    ("tags.note LIKE '%\\%%'", "ACTIVE_ONLY", set()),  # no escapes: needs a literal backslash
    ("creation_time >= 2000", "ACTIVE_ONLY", {"alpha-exp", "Beta-exp"}),
    ("creation_time = 1000", "ACTIVE_ONLY", {"Default"}),
    ("last_update_time < 4000", "ACTIVE_ONLY", {"Beta-exp"}),
    ("last_update_time != 4000", "ALL", {"Default", "Beta-exp"}),
    ("tags.owner IS NOT NULL AND creation_time > 1500 AND name ILIKE '%ALPHA%'", "ACTIVE_ONLY", {"alpha-exp"}),
]


@pytest.mark.parametrize("filter_string, view, expected", FILTERS)
def test_filters(sample_conn, exp_ids, filter_string, view, expected):
    found, token = search(sample_conn, filter_string, view=view)
    assert set(names(exp_ids, found)) == expected
    assert token is None


@pytest.mark.parametrize("filter_string, view, expected", FILTERS)
def test_filter_table_agrees_with_mlflow(sample_experiments, filter_string, view, expected):
    from mlflow.entities import Experiment, ExperimentTag
    from mlflow.utils.search_utils import SearchExperimentsUtils

    stages = {"ACTIVE_ONLY": {"active"}, "DELETED_ONLY": {"deleted"}, "ALL": {"active", "deleted"}}[view]
    experiments = [
        Experiment(name, name, "", stage, [ExperimentTag(k, v) for k, v in tags.items()], created, updated)
        for name, (project, stage, created, updated, tags) in sample_experiments.items()
        if project == 1 and stage in stages
    ]
    found = SearchExperimentsUtils.filter(experiments, filter_string)
    assert {e.name for e in found} == expected


def test_experiment_id_filters(sample_conn, exp_ids):
    alpha, beta = exp_ids["alpha-exp"], exp_ids["Beta-exp"]
    assert names(exp_ids, search(sample_conn, f"experiment_id = '{alpha}'")[0]) == ["alpha-exp"]
    assert set(names(exp_ids, search(sample_conn, f"experiment_id != '{alpha}'")[0])) == {"Default", "Beta-exp"}
    found = search(sample_conn, f"experiment_id IN ('{alpha}', '{beta}')")[0]
    assert set(names(exp_ids, found)) == {"alpha-exp", "Beta-exp"}
    assert names(exp_ids, search(sample_conn, f"experiment_id NOT IN ('{alpha}', '{beta}')")[0]) == ["Default"]
    other = exp_ids["other-project"]
    assert search(sample_conn, f"experiment_id = '{other}'")[0] == []


ORDERS = [
    (None, ["alpha-exp", "Beta-exp", "Default"]),  # creation_time DESC, experiment_id ASC
    ([], ["alpha-exp", "Beta-exp", "Default"]),
    (["name"], ["Beta-exp", "Default", "alpha-exp"]),  # byte order
    (["name DESC"], ["alpha-exp", "Default", "Beta-exp"]),
    (["last_update_time"], ["Beta-exp", "alpha-exp", "Default"]),
    (["creation_time"], ["Default", "Beta-exp", "alpha-exp"]),  # tie: experiment_id DESC
    (["creation_time", "experiment_id"], ["Default", "alpha-exp", "Beta-exp"]),
    (["experiment_id DESC"], ["Beta-exp", "alpha-exp", "Default"]),
    (["attribute.last_update_time DESC"], ["Default", "alpha-exp", "Beta-exp"]),
]


@pytest.mark.parametrize("order_by, expected", ORDERS)
def test_order_by(sample_conn, exp_ids, order_by, expected):
    assert names(exp_ids, search(sample_conn, order_by=order_by)[0]) == expected


@pytest.mark.parametrize("order_by", [None, ["name"], ["creation_time"]])
@pytest.mark.parametrize("page_size", [1, 2])
def test_paging_covers_everything_once(sample_conn, order_by, page_size):
    everything, _ = search(sample_conn, order_by=order_by, view="ALL")
    pages, token = [], None
    while True:
        page, token = search(sample_conn, order_by=order_by, view="ALL", max_results=page_size, token=token)
        pages.append(page)
        if token is None:
            break
        assert len(pages) <= len(everything)
    assert [e for page in pages for e in page] == everything
    assert all(len(page) == page_size for page in pages[:-1])


def test_projects_are_separate(sample_conn, exp_ids):
    assert names(exp_ids, search(sample_conn, project=2)[0]) == ["other-project"]
    assert search(sample_conn, project=3) == ([], None)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(filter_string="tags.owner > 'a'"), "Invalid comparator for tag: >"),
        (dict(filter_string="name IS NULL"), "IS NULL / IS NOT NULL is only supported for tags, not for attribute 'name'"),
        (dict(order_by=["tags.owner"]), "Invalid order_by entity: tag"),
        (dict(max_results=None), "Invalid value None for parameter 'max_results' supplied. It must be a positive integer"),
        (dict(max_results=50001), "Invalid value 50001 for parameter 'max_results' supplied. It must be at most 50000"),
        (dict(token="e30="), "Invalid page token, parsed value={}"),
    ],
)
def test_bad_requests(sample_conn, kwargs, message):
    with pytest.raises(MlflowError) as info:
        search(sample_conn, **kwargs)
    assert info.value.message == message
