"""The production install path: a wheel installed (not editable) into a fresh venv, run from an
unrelated empty folder, serves the API, every UI page and every asset those pages reference."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import requests

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.conftest import free_port, fresh_pg_database, wait_for_http  # noqa: E402
from tests.e2e.helpers import run_script  # noqa: E402
from tests.install.installed import install_fresh  # noqa: E402

ASSET = re.compile(r'<(?:link|script|img)\b[^>]*?\b(?:href|src)="([^"]+)"', re.IGNORECASE)


def project_version() -> str:
    with open(REPO / "pyproject.toml", "rb") as handle:
        return tomllib.load(handle)["project"]["version"]


def user_shell_env() -> dict:
    """A user's shell: nothing of the tests' settings, no path into this repository."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("MLTRACKER_", "MLFLOW_")) and k not in ("PYTHONPATH", "PYTHONHOME")}


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    return install_fresh(tmp_path_factory.mktemp("install"))


@pytest.fixture
def elsewhere(tmp_path):
    """An empty folder that is neither the repository nor inside it."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    return folder


def test_the_installed_package_is_the_wheel_not_this_tree(installed, elsewhere):
    where = subprocess.run(
        [installed.python, "-c", "import mltracker.service as m; print(m.__file__)"],
        cwd=elsewhere, env=user_shell_env(), capture_output=True, text=True, check=True,
    ).stdout.strip()
    assert Path(where).is_relative_to(installed.venv), where


def test_version(installed, elsewhere):
    proc = subprocess.run([installed.mltracker, "--version"], cwd=elsewhere, env=user_shell_env(),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"mltracker {project_version()}"


def test_worker_help_names_the_settings_it_needs(installed, elsewhere):
    proc = subprocess.run([installed.mltracker, "worker", "--help"], cwd=elsewhere, env=user_shell_env(),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    for setting in ("MLTRACKER_BACKEND_STORE_URI", "MLTRACKER_ARTIFACTS_DESTINATION", "MLTRACKER_GITLAB_URL",
                    "MLTRACKER_GITLAB_TOKEN", "MLTRACKER_PUBLIC_URL"):
        assert setting in proc.stdout, setting


@pytest.fixture
def served(installed, elsewhere):
    """`mltracker serve` of the installed wheel on SQLite, started from the empty folder."""
    port = free_port()
    log_path = elsewhere.parent / "serve.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [installed.mltracker, "serve", "--port", str(port), "--workers", "1",
             "--backend-store-uri", f"sqlite:///{elsewhere}/mltracker.db", "--artifacts-destination", str(elsewhere / "artifacts")],
            cwd=elsewhere, env=user_shell_env(), stdout=log, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_for_http(url + "/health", proc=proc)
        except Exception:
            raise AssertionError(f"mltracker serve did not start:\n{log_path.read_text(errors='replace')}") from None
        yield url, log_path
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


def referenced_assets(page_url: str, html: str) -> set[str]:
    origin = urlsplit(page_url).netloc
    found = {urljoin(page_url, ref) for ref in ASSET.findall(html)}
    return {url for url in found if urlsplit(url).netloc == origin}


def test_serves_every_page_and_asset(served, elsewhere):
    url, log_path = served
    summary = run_script(sys.executable, Path(__file__).with_name("log_runs.py"), url, elsewhere)
    first, second = summary["run_ids"]
    pages = [
        "/",
        f"/experiments/{summary['experiment_id']}",
        f"/candidates/{first}",
        f"/compare?run={first}&run={second}",
        f"/candidates/{first}/artifacts/",
        f"/candidates/{first}/artifacts/notes.txt",
        "/models",
        f"/models/{summary['model']}",
        f"/models/{summary['model']}/versions/{summary['version']}",
    ]
    assets: set[str] = set()
    failures = []
    for path in pages:
        response = requests.get(url + path, headers={"Accept": "text/html"}, timeout=30)
        if response.status_code != 200:
            failures.append(f"{path}: {response.status_code}")
            continue
        assert "text/html" in response.headers["Content-Type"], path
        assets |= referenced_assets(url + path, response.text)
    assert {"ui.css", "ui.js", "favicon.svg"} <= {a.rsplit("/", 1)[-1] for a in assets}, assets
    for asset in sorted(assets):
        status = requests.get(asset, timeout=30).status_code
        if status != 200:
            failures.append(f"{asset}: {status}")
    assert not failures, "\n".join(failures) + "\n--- server log\n" + log_path.read_text(errors="replace")[-5000:]


def test_db_upgrade_on_a_fresh_postgresql_database(installed, elsewhere):
    with fresh_pg_database() as pg_url:
        proc = subprocess.run(
            [installed.mltracker, "db", "upgrade", "--backend-store-uri", pg_url],
            cwd=elsewhere, env=user_shell_env(), capture_output=True, text=True, timeout=300,
        )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("database at revision ")
