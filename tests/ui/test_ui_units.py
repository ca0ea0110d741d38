"""Small pure pieces of the UI: secret key, redirects after sign-in, charts, formatting, links."""
from __future__ import annotations

import os

from flask import Flask

from mltracker.service.settings import Settings
from mltracker.service.ui import charts, formatting
from mltracker.service.ui.links import ci_links
from mltracker.service.ui.security import configure_sessions, load_secret_key, safe_next


def test_secret_key_is_generated_once_into_the_data_dir(tmp_path):
    settings = Settings(data_dir=str(tmp_path / "data"))
    first = load_secret_key(settings)
    assert len(first) >= 40 and load_secret_key(settings) == first
    assert oct(os.stat(tmp_path / "data" / "secret_key").st_mode & 0o777) == "0o600"
    assert load_secret_key(Settings(secret_key="set", data_dir=str(tmp_path))) == "set"


def test_session_cookie_flags(tmp_path):
    app = Flask(__name__)
    configure_sessions(app, Settings(data_dir=str(tmp_path), public_url="https://ml.example.com"))
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["SESSION_COOKIE_HTTPONLY"]
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    app = Flask(__name__)
    configure_sessions(app, Settings(data_dir=str(tmp_path)))
    assert not app.config["SESSION_COOKIE_SECURE"]


def test_only_local_paths_after_sign_in():
    assert safe_next("/projects/5/experiments/1?q=a") == "/projects/5/experiments/1?q=a"
    for evil in ("https://evil.example", "//evil.example/x", "/\\evil.example", "javascript:alert(1)", "", None):
        assert safe_next(evil) == "/"


def test_chart_escapes_labels_and_handles_edge_cases():
    svg = str(charts.line_chart("<b>acc</b>", [charts.Series("<script>x</script>", [(0, 1.0), (1, 2.0)], "#000")]))
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "<polyline" in svg
    assert "<circle" in str(charts.line_chart("m", [charts.Series("one", [(3, 1.0)], "#000")]))
    assert "No points" in str(charts.line_chart("m", []))
    assert "No finite" in str(charts.line_chart("m", [charts.Series("s", [(0, float("inf"))], "#000")]))
    assert charts.nice_ticks(0, 1) == [0, 0.25, 0.5, 0.75, 1.0]


def test_formatting():
    assert formatting.duration_text(0 + 1000, 1000 + 95_000) == "1m 35s"
    assert formatting.duration_text(1000, None) == "—"
    assert formatting.size_text(10 * 1024) == "10.0 KiB" and formatting.size_text(68) == "68 B"
    assert formatting.number_text(0.123456789) == "0.123457" and formatting.number_text(float("nan")) == "NaN"
    assert formatting.ago(1_000, now_ms=1_000 + 3 * 86_400_000) == "3 days ago"


def test_ci_links():
    tags = {"gitlab.CI_PIPELINE_ID": "12", "gitlab.CI_MERGE_REQUEST_IID": "3", "gitlab.CI_COMMIT_SHA": "abcdef0123456789",
            "gitlab.user": "dora", "gitlab.CI_JOB_ID": "not-a-number"}
    local = ci_links(tags, None, None)
    assert local["pipeline"].text == "#12" and local["pipeline"].url is None
    linked = ci_links(tags, "https://gitlab.example.com/", "group/sub/proj")
    assert linked["pipeline"].url == "https://gitlab.example.com/group/sub/proj/-/pipelines/12"
    assert linked["merge_request"].url.endswith("/-/merge_requests/3") and linked["merge_request"].text == "!3"
    assert linked["commit"].text == "abcdef01" and linked["user"].url == "https://gitlab.example.com/dora"
    assert linked["job"].url is None  # not a job id: shown, not linked


def test_value_axis_encloses_the_data_with_round_ends():
    for low, high in [(0.81, 0.93), (0.7, 1.58), (-3.0, 1e6), (0.95, 1.05), (1e-9, 3e-9), (0.0, 1.0)]:
        start, end, ticks = charts.value_axis(low, high)
        assert start <= low and high <= end, (low, high, start, end)
        assert ticks[0] == start and ticks[-1] == end
    assert charts.value_axis(0.81, 0.93) == (0.8, 0.95, [0.8, 0.85, 0.9, 0.95])


def test_dataset_sources_in_words():
    text = formatting.dataset_source_text
    code = '{"tags": {"mlflow.user": "ann", "mlflow.source.name": "train.py", "mlflow.source.type": "LOCAL"}}'
    assert text("code", code) == "code: train.py (LOCAL, ann)"
    assert text("http", '{"url": "https://example.com/iris.csv"}') == "http: https://example.com/iris.csv"
    assert text("huggingface", '{"path": "imdb", "split": "train"}') == "huggingface: imdb"
    assert text("custom", '{"bucket": "b", "n": 3}') == "custom: bucket=b, n=3"
    assert text("s3", "s3://bucket/data.parquet") == "s3: s3://bucket/data.parquet"
    assert text(None, None) == "unknown"


def test_long_keys_break_after_separators_and_stay_escaped():
    assert str(formatting.breakable("val_acc.fold/1")) == "val_<wbr>acc.<wbr>fold/<wbr>1"
    assert str(formatting.breakable("<b>x_y</b>")) == "&lt;b&gt;x_<wbr>y&lt;/<wbr>b&gt;"
