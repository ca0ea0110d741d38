"""The traces pages over HTTP on both storage configurations: an experiment's and a candidate's
traces, the failing-examples view the merge-request report links to, and one trace's page."""
from __future__ import annotations

import uuid

import pytest
import requests

from tests.genai.genai_seed import seed_genai

pytestmark = pytest.mark.e2e
HTML = {"Accept": "text/html"}


@pytest.fixture
def seeded(mltracker):
    return seed_genai(mltracker.url, f"trace-pages-{uuid.uuid4().hex[:8]}")


def _get(url: str) -> str:
    response = requests.get(url, headers=HTML, timeout=60)
    assert response.status_code == 200, response.text[:500]
    return response.text


def test_failing_examples_are_the_traces_a_scorer_failed(mltracker, seeded):
    candidate = f"{mltracker.url}/projects/0/candidates/{seeded.run_id}/traces"
    everything = _get(candidate)
    assert everything.count('class="name mono"') == 3
    failing = _get(candidate + "?assessment=failing")
    assert failing.count('class="name mono"') == 1
    assert "Colour of the sky?" in failing and "Capital of France?" not in failing
    assert "Failing examples" in _get(f"{mltracker.url}/projects/0/candidates/{seeded.run_id}")


def test_experiment_traces_filter_with_the_mlflow_grammar(mltracker, seeded):
    traces = f"{mltracker.url}/projects/0/experiments/{seeded.experiment_id}/traces"
    assert _get(traces).count('class="name mono"') == 4
    only_nested = _get(traces + "?filter=span.name+%3D+%27generate%27")
    assert only_nested.count('class="name mono"') == 1 and seeded.nested_trace_id in only_nested
    refused = _get(traces + "?filter=colour+%3D+%27red%27")
    assert "This filter cannot be used" in refused


def test_a_trace_page_shows_its_span_tree_and_escapes_what_it_shows(mltracker, seeded):
    page = _get(f"{mltracker.url}/projects/0/traces/{seeded.nested_trace_id}")
    for name in ("pipeline", "retrieve", "generate"):
        assert f'<span class="span-name mono">{name}</span>' in page
    assert page.index(">pipeline<") < page.index(">retrieve<") < page.index(">generate<")
    assert "--depth: 1" in page and "--depth: 0" in page
    assert "&lt;b&gt;forty-two&lt;/b&gt;" in page and "<b>forty-two</b>" not in page
    missing = requests.get(f"{mltracker.url}/projects/0/traces/tr-{'0' * 32}", headers=HTML, timeout=30)
    assert missing.status_code == 404
