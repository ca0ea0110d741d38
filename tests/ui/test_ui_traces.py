"""The traces tab of an experiment and of a candidate, and a trace's span tree, in headless
Chromium; the data is an `mlflow.genai.evaluate` run and a traced function, logged with the stock
client."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
from playwright.sync_api import expect

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.conftest import run_mltracker  # noqa: E402
from tests.genai.genai_seed import seed_genai  # noqa: E402
from tests.ui.conftest import screenshot  # noqa: E402  (browser and page are this folder's fixtures)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("traces-pages")
    with run_mltracker(tmp, f"sqlite:///{tmp}/mltracker.db", str(tmp / "artifacts"), workers=1) as live:
        live.seeded = seed_genai(live.url, "support-bot")
        yield live


def test_traces_tab_failing_examples_and_span_tree(page, server):
    seeded = server.seeded
    page.goto(f"{server.url}/projects/0/experiments/{seeded.experiment_id}")
    page.get_by_role("link", name="Traces", exact=True).click()
    expect(page.get_by_role("heading", name="Traces of support-bot")).to_be_visible()
    expect(page.locator("table.traces tbody tr")).to_have_count(4)
    screenshot(page, "traces-experiment")

    page.goto(f"{server.url}/projects/0/candidates/{seeded.run_id}")
    page.locator("nav.tabs").get_by_role("link", name="Failing examples").click()
    rows = page.locator("table.traces tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Colour of the sky?")
    expect(rows.first.locator(".assessment.failed")).to_contain_text("exact_match: false")
    screenshot(page, "traces-candidate-failing")

    rows.first.locator("td.name a").click()
    expect(page.locator("#assessments")).to_contain_text("exact_match")
    expect(page.locator("#assessments .assessment.failed")).to_have_count(1)
    screenshot(page, "trace-evaluation")

    page.goto(f"{server.url}/projects/0/traces/{seeded.nested_trace_id}")
    tree = page.locator(".span-tree > li")
    expect(tree).to_have_count(3)
    expect(tree.nth(0)).to_contain_text("pipeline")
    expect(tree.nth(2)).to_contain_text("generate")
    tree.nth(2).locator("summary").first.click()
    expect(tree.nth(2).locator(".span-body")).to_contain_text("<b>forty-two</b>")  # as text, never markup
    expect(tree.nth(2).locator(".span-body")).to_contain_text("Answer with doc about the answer")
    screenshot(page, "trace-span-tree")
