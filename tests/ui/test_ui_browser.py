"""What a user does in the browser, local mode (no sign-in), on seeded data."""
from __future__ import annotations

import io
import re
import zipfile

from playwright.sync_api import expect

from tests.ui.conftest import screenshot
from tests.ui.seed import ARTIFACTS, XSS


def open_experiment(page, server, query: str = ""):
    page.goto(f"{server.url}/experiments/{server.seeded.experiment_id}{query}")


def visible_names(page) -> list[str]:
    return page.locator("table.candidates tbody td.name a").all_inner_texts()


def column_values(page, header: str) -> list[str]:
    headers = page.locator("table.candidates thead th").all_inner_texts()
    index = next(i for i, h in enumerate(headers) if h.strip().startswith(header))
    return page.locator(f"table.candidates tbody tr td:nth-child({index + 1})").all_inner_texts()


def test_experiments_list(page, local_server):
    page.goto(local_server.url + "/")
    row = page.locator("tr", has=page.get_by_role("link", name="churn-model"))
    expect(row).to_contain_text("61")  # 60 runs + the escaping probe
    expect(page.get_by_role("link", name="exp " + XSS)).to_be_visible()
    screenshot(page, "01-experiments")


def test_search_by_name(page, local_server):
    open_experiment(page, local_server)
    page.get_by_placeholder("Search candidates by name").fill("run-05")
    page.get_by_role("button", name="Search").click()
    expect(page.locator(".count")).to_contain_text("of 10 candidates")
    assert sorted(visible_names(page)) == [f"run-{i:03d}" for i in range(50, 60)]
    screenshot(page, "02-experiment-search")


def test_filter_good(page, local_server):
    open_experiment(page, local_server)
    page.locator("input[name=filter]").fill("metrics.acc > 0.9 and params.lr = '0.01'")
    page.get_by_role("button", name="Search").click()
    expect(page.locator(".count")).to_contain_text("candidates")
    accs = [float(v) for v in column_values(page, "acc")]
    lrs = column_values(page, "lr")
    assert accs and all(a > 0.9 for a in accs)
    assert set(lrs) == {"0.01"}
    screenshot(page, "03-experiment-filter")


def test_filter_bad_shows_readable_error(page, local_server):
    open_experiment(page, local_server)
    page.locator("input[name=filter]").fill("metrics.acc >")
    page.get_by_role("button", name="Search").click()
    alert = page.locator("#filter-error")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text("This filter cannot be used")
    expect(page.locator("input[name=filter]")).to_have_value("metrics.acc >")
    expect(page.locator("input[name=filter]")).to_have_attribute("aria-invalid", "true")
    screenshot(page, "04-experiment-bad-filter")


def test_sort_by_metric_both_ways(page, local_server):
    open_experiment(page, local_server)
    page.locator("thead th a.sort", has_text="acc").click()
    expect(page.locator("th[aria-sort=descending]")).to_contain_text("acc")
    desc = [float(v) for v in column_values(page, "acc")]
    assert desc == sorted(desc, reverse=True) and len(desc) == 50
    page.locator("thead th a.sort", has_text="acc").click()
    expect(page.locator("th[aria-sort=ascending]")).to_contain_text("acc")
    asc = [float(v) for v in column_values(page, "acc")]
    assert asc == sorted(asc)
    page.locator("thead th a.sort", has_text="Name").click()
    names = visible_names(page)
    assert names == sorted(names)
    screenshot(page, "05-experiment-sorted")


def test_paginate(page, local_server):
    open_experiment(page, local_server, "?sort=name&dir=asc")
    expect(page.locator(".count")).to_contain_text("1–50 of 61")
    first_page = visible_names(page)
    page.get_by_role("link", name="Next ›").click()
    expect(page.locator(".count")).to_contain_text("51–61 of 61")
    second_page = visible_names(page)
    assert len(first_page) == 50 and len(second_page) == 11
    assert not set(first_page) & set(second_page)
    screenshot(page, "06-experiment-page-2")


def test_column_chooser(page, local_server):
    open_experiment(page, local_server)
    page.get_by_text("Columns (").click()
    page.locator("input[name=cols][value='param:optimizer']").uncheck()
    page.locator("input[name=cols][value='metric:loss']").uncheck()
    page.get_by_role("button", name="Apply").click()
    headers = " ".join(page.locator("table.candidates thead th").all_inner_texts())
    assert "optimizer" not in headers and "loss" not in headers and "acc" in headers


def test_compare_three(page, local_server):
    open_experiment(page, local_server, "?sort=name&dir=asc")
    for name in ("run-000", "run-001", "run-002"):
        page.get_by_label(f"Select {name}").check()
    page.get_by_role("button", name="Compare 3 candidates").click()
    expect(page.get_by_role("heading", name="Compare 3 candidates")).to_be_visible()
    expect(page.locator(".legend li")).to_have_count(3)
    differing = page.locator("table.compare-params tr.differs th").all_inner_texts()
    assert any("lr" in d for d in differing) and not any("optimizer" in d for d in differing)
    report = page.locator(".mltracker-report")
    expect(report.locator("table.comparison tbody tr")).to_have_count(3)
    expect(report.locator(".delta").first).to_be_visible()
    assert page.locator("#history svg.chart").count() == 2  # acc and loss, three lines each
    assert page.locator("#history svg.chart").first.locator("polyline").count() == 3
    screenshot(page, "07-compare")


def test_open_candidate(page, local_server):
    open_experiment(page, local_server, "?sort=name&dir=asc")
    page.get_by_role("link", name="run-001", exact=True).click()
    expect(page.get_by_role("heading", name=re.compile("run-001"))).to_be_visible()
    details = page.locator("#details")
    expect(details).to_contain_text("alice")
    expect(details).to_contain_text("Duration")
    expect(page.locator("#params")).to_contain_text("optimizer")
    assert page.locator("#metrics svg.chart").count() == 2
    expect(page.locator("#artifacts")).to_contain_text("metrics.json")
    expect(page.locator("#tags")).to_contain_text("team")
    expect(page.locator("#tags details summary")).to_contain_text("System tags")
    screenshot(page, "08-candidate")


def test_artifact_previews(page, local_server):
    run = local_server.seeded.artifact_run
    page.goto(f"{local_server.url}/candidates/{run}/artifacts/metrics.json")
    expect(page.locator("pre.preview")).to_contain_text('"acc": 0.91')
    expect(page.locator("pre.preview")).to_contain_text(XSS)
    screenshot(page, "09-artifact-json")
    page.goto(f"{local_server.url}/candidates/{run}/artifacts/plots/confusion.png")
    image = page.locator("img.preview-image")
    expect(image).to_be_visible()
    assert page.evaluate("document.querySelector('img.preview-image').naturalWidth") == 1
    page.goto(f"{local_server.url}/candidates/{run}/artifacts/model")
    expect(page.locator("table.files")).to_contain_text("conda/")
    expect(page.locator("table.files")).to_contain_text("10.0 KiB")
    screenshot(page, "10-artifact-folder")


def test_download_file_bytes_equal(page, local_server):
    run = local_server.seeded.artifact_run
    page.goto(f"{local_server.url}/candidates/{run}/artifacts/model")
    with page.expect_download() as info:
        page.get_by_label("Download model.pkl").click()
    download = info.value
    assert download.suggested_filename == "model.pkl"
    assert open(download.path(), "rb").read() == ARTIFACTS["model/model.pkl"]


def test_download_folder_as_zip(page, local_server):
    run = local_server.seeded.artifact_run
    page.goto(f"{local_server.url}/candidates/{run}")
    with page.expect_download() as info:
        page.get_by_label("Download folder model as zip").click()
    download = info.value
    assert download.suggested_filename == "model.zip"
    with zipfile.ZipFile(io.BytesIO(open(download.path(), "rb").read())) as archive:
        contents = {name: archive.read(name) for name in archive.namelist()}
    expected = {k[len("model/"):]: v for k, v in ARTIFACTS.items() if k.startswith("model/")}
    assert contents == expected
    with page.expect_download() as info:
        page.get_by_role("link", name="Download all (.zip)").click()
    with zipfile.ZipFile(info.value.path()) as archive:
        assert {n: archive.read(n) for n in archive.namelist()} == ARTIFACTS


def test_promote(page, local_server):
    run = local_server.seeded.artifact_run  # its artifacts hold model/MLmodel
    page.goto(f"{local_server.url}/candidates/{run}")
    form = page.locator("form#promote")
    expect(form.locator("input[name=source]")).to_have_count(1)
    expect(form).to_contain_text("artifact folder 'model/'")
    form.locator("input[name=model]").fill("churn-classifier")
    form.locator("input[name=alias]").fill("champion")
    screenshot(page, "11-promote-form", full_page=False)
    form.get_by_role("button", name="Promote").click()
    expect(page.get_by_role("heading", name="churn-classifier")).to_be_visible()
    expect(page.locator(".alert-success")).to_contain_text("version 1")
    expect(page.locator("#details")).to_contain_text("run-001")
    expect(page.locator("#details")).to_contain_text("/artifacts/model")
    expect(page.locator(".page-header")).to_contain_text("@champion")
    screenshot(page, "12-model-version")
    page.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name="churn-classifier").click()
    expect(page.locator("table")).to_contain_text("run-001")
    expect(page.locator("table")).to_contain_text("@champion")
    screenshot(page, "12-model")
    page.get_by_role("navigation", name="Project").get_by_role("link", name="Models").click()
    expect(page.get_by_role("link", name="churn-classifier")).to_be_visible()
    screenshot(page, "13-models")
    page.goto(f"{local_server.url}/candidates/{run}")
    expect(page.locator("#models")).to_contain_text("churn-classifier version 1")


def test_escaping_everywhere(page, local_server):
    seeded = local_server.seeded
    urls = [
        "/",
        f"/experiments/{seeded.experiment_id}?sort=created&dir=asc",
        f"/experiments/{seeded.xss_experiment_id}",
        f"/candidates/{seeded.xss_run}",
        f"/candidates/{seeded.xss_run}/artifacts/",
        f"/compare?run={seeded.xss_run}&run={seeded.runs['run-001']}",
        f"/experiments/{seeded.experiment_id}?q=" + XSS,
    ]
    for url in urls:
        page.goto(local_server.url + url)
        assert page.locator("script:not([src])").count() == 0, url
        assert XSS in page.locator("body").inner_text(), url
    page.goto(f"{local_server.url}/experiments/{seeded.experiment_id}?filter=" + XSS)
    expect(page.locator("input[name=filter]")).to_have_value(XSS)
    expect(page.locator("#filter-error")).to_be_visible()
    assert page.locator("script:not([src])").count() == 0
    screenshot(page, "14-escaping")
    assert not page.dialogs


def test_error_pages_say_what_to_do(page, local_server):
    page.goto(local_server.url + "/candidates/0123456789abcdef0123456789abcdef")
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    expect(page.get_by_role("link", name="Go to the experiments")).to_be_visible()
    page.goto(local_server.url + "/no/such/page")
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    screenshot(page, "15-not-found")
    page.goto(local_server.url + "/compare")
    expect(page.get_by_role("heading", name="Pick candidates to compare")).to_be_visible()


def test_keyboard_navigation(page, local_server):
    open_experiment(page, local_server)
    page.keyboard.press("Tab")
    expect(page.locator(".skip-link")).to_be_focused()
    page.keyboard.press("Enter")
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.closest('td.name') !== null"):
            break
    else:
        raise AssertionError("the candidate links are not reachable by keyboard")
    page.keyboard.press("Enter")
    expect(page.locator("#details")).to_be_visible()


def test_narrow_screen(browser, local_server):
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=1)
    page = context.new_page()
    page.goto(f"{local_server.url}/experiments/{local_server.seeded.experiment_id}")
    # The table scrolls inside its own box; the page itself does not scroll sideways.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    screenshot(page, "16-narrow-experiment")
    page.goto(f"{local_server.url}/candidates/{local_server.seeded.artifact_run}")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    screenshot(page, "17-narrow-candidate")
    context.close()
