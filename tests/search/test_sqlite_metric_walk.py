"""On SQLite, a search ordered by a metric can walk that metric's index (service/search/
sqlite_metric_walk.py): every page it gives must be the page the scan gives, for every filter of
the search tables and every metric ordering, and it is taken only within its bound."""
from __future__ import annotations

import pytest

from mltracker.service.search import sqlite_metric_walk
from mltracker.service.search.order_by import run_ordering, parse_run_order_by
from tests.search.conftest import RUNS
from tests.search.test_search_runs_db import FILTERS, ORDERS, search

METRIC_ORDERS = [order for order, _ in ORDERS if order and order[0].startswith("metrics.")]

pytestmark = pytest.mark.parametrize("search_db", ["sqlite"], indirect=True)


def all_pages(sample_conn, exp_ids, filter_string, order_by, size):
    pages, token = [], None
    while True:
        page, token = search(sample_conn, exp_ids, filter_string, order_by, max_results=size, token=token)
        pages.append(page)
        if token is None or len(pages) > 20:
            return pages


@pytest.mark.parametrize("order_by", METRIC_ORDERS)
@pytest.mark.parametrize("filter_string", [None, *(f for f, _ in FILTERS)])
def test_walked_pages_are_the_scanned_pages(sample_conn, exp_ids, monkeypatch, filter_string, order_by):
    taken = []
    walk_query = sqlite_metric_walk.walk_query

    def recording(*args, **kwargs):
        query = walk_query(*args, **kwargs)
        taken.append(query is not None)
        return query

    monkeypatch.setattr(sqlite_metric_walk, "walk_query", recording)
    walked = [all_pages(sample_conn, exp_ids, filter_string, order_by, size) for size in (1, 2)]
    assert taken[0], "the first page of one run is within the walk's bound"
    monkeypatch.setattr(sqlite_metric_walk, "WALK_BOUND", 0)  # never walks
    taken.clear()
    scanned = [all_pages(sample_conn, exp_ids, filter_string, order_by, size) for size in (1, 2)]
    assert not any(taken)
    assert walked == scanned


def test_the_walk_is_refused_when_the_key_has_more_entries_than_its_bound(sample_conn, exp_ids, monkeypatch):
    in_scope = sum(1 for r in RUNS if r["experiment"] == "alpha-exp" and r["lifecycle_stage"] == "active")
    entries = sum(1 for r in RUNS if "acc" in r["metrics"])
    assert in_scope < entries <= 2 * in_scope  # the sample data sits between the two bounds below

    def walk():
        ordering = run_ordering(parse_run_order_by(["metrics.acc DESC"]), "sqlite")
        return sqlite_metric_walk.walk_query(sample_conn, ordering, [exp_ids["alpha-exp"]], ["active"], [], "acc", 1)

    assert walk() is not None
    monkeypatch.setattr(sqlite_metric_walk, "WALK_BOUND", 1)
    assert walk() is None
