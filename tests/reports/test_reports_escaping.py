"""User-controlled strings must stay inert: each case fails if its escaping step were removed."""
import re
import unicodedata

import pytest

from mltracker.reports import BaselineData, CandidateData, ExperimentData, build_report, render_compare, render_markdown
from mltracker.reports.escaping import md_code, md_text, safe_url, sanitize_markdown_line

import report_samples as samples

ZWJ = "\u200d"


def outside_code_spans(markdown: str) -> str:
    return re.sub(r"(?<![\\`])(`+)(?!`)(.+?)(?<!`)\1(?!`)", "", markdown)


def unescaped_pipes(line: str) -> int:
    return len(re.findall(r"(?<!\\)(?:\\\\)*\|", line))


def table_lines(markdown: str) -> list[str]:
    return [line for line in markdown.splitlines() if line.startswith("|")]


def assert_inert(markdown: str) -> None:
    """Properties any rendered comment must have, whatever the input."""
    shown = re.sub(r"\]\([^)\s]*\)", "]()", markdown)  # link targets are attributes, not text
    assert not re.search(r"[@~%]\w", shown), "a GitLab mention/reference survived"
    assert not re.search(r"[#!$&]\d", shown), "an issue/MR/snippet/epic reference survived"
    assert all(not line.lstrip().startswith("/") for line in markdown.splitlines()), "quick action line"
    text = outside_code_spans(markdown)
    for tag in ("<img", "<b>", "</details>", "<details>", "<script"):
        ours = markdown.count(tag) if tag in ("</details>", "<details>") and "Earlier pipelines" in markdown else 0
        assert text.count(tag) == min(ours, 1) if ours else tag not in text, tag
    assert "javascript:" not in markdown
    hidden = {ch for ch in markdown if unicodedata.category(ch) in ("Cc", "Cf") and ch not in ("\n", ZWJ)}
    assert not hidden, f"control or bidi characters: {hidden}"
    assert "&#" not in text.replace("&amp;#", ""), "a numeric entity could spell @ or |"
    widths = {unescaped_pipes(line) for line in table_lines(markdown)}
    assert len(widths) <= 1, f"a table row has extra cells: {widths}"


@pytest.fixture
def hostile_markdown():
    report = build_report([samples.hostile_experiment()])
    history = ["/unassign @bob", "ok</details><details>x", "&#64;carol #12 !3 ~bug"]
    return render_markdown(report, {"exp-x-history.png": "javascript:alert(1)"}, history,
                           pipeline="#7 @dave", pipeline_url="https://gitlab.example.com/p/7")


def test_hostile_report_is_inert(hostile_markdown):
    assert_inert(hostile_markdown)
    text = outside_code_spans(hostile_markdown)
    assert text.count("<details>") == 1 and text.count("</details>") == 1
    assert text.rstrip().endswith("</details>")


def test_hostile_names_are_still_shown(hostile_markdown):
    assert f"@{ZWJ}admin" in hostile_markdown  # readable, just not a mention
    assert "line1 /merge" in hostile_markdown  # the newline became a space
    assert "https://gitlab.example.com/jobs/1%29%20%5Bx%5D%28https://evil.example" in hostile_markdown


@pytest.mark.parametrize("payload", [
    "@alice", "@alice@example.com", "#1", "!2", "~bug", '~"needs review"', "%v1.0", "$3", "&4",
    "a|b", "a\\|b", "`tick`", "``double``", "[x](https://evil.example)", "![i](https://e.vil/p.png)",
    "<img src=x onerror=alert(1)>", "</details>", "x\n/close", "x\r\n/label ~bug", "x\u2028/merge",
    "&#64;alice", "&#x40;alice", "&#124;", "*bold* _it_", "$`\\color{red}x`$", "{+ added +}",
    "\u202egnp.exe", "a" * 500,
])
@pytest.mark.parametrize("where", ["run name", "param", "metric", "experiment", "baseline label"])
def test_payload_everywhere(payload, where):
    name = payload if where == "run name" else "run"
    metric = payload if where == "metric" else "acc"
    cand = CandidateData("r1", name, metrics={metric: 0.9}, params={"p": payload if where == "param" else "1"})
    base = CandidateData("r0", "base", metrics={metric: 0.8}, params={"p": "0"})
    exp = ExperimentData(payload if where == "experiment" else "exp", [cand],
                         BaselineData(payload if where == "baseline label" else "main", base), rules=samples.RULES)
    markdown = render_markdown(build_report([exp]))
    assert_inert(markdown)
    assert "a" * 100 not in markdown  # long values are truncated
    assert_inert(render_compare(base, cand, rules=samples.RULES))


def test_md_text_escapes_markdown_and_html():
    assert md_text("a|b") == "a\\|b"
    assert md_text("[x](y)") == "\\[x\\](y)"
    assert md_text("`x`") == "\\`x\\`"
    assert md_text("<b>&") == "&lt;b&gt;&amp;"
    assert md_text("@al") == f"@{ZWJ}al"
    assert md_text("1\n/merge") == "1 /merge"
    assert md_text("x" * 50, 10) == "x" * 9 + "…"


def test_md_code_picks_a_longer_fence():
    assert md_code("a`b") == "``a`b``"
    assert md_code("`x`") == "`` `x` ``"
    assert md_code("a\nb") == "`a b`"


@pytest.mark.parametrize("url, expected", [
    ("https://gitlab.example.com/g/p/-/jobs/1", "https://gitlab.example.com/g/p/-/jobs/1"),
    ("/uploads/abc/plot.png", "/uploads/abc/plot.png"),
    ("https://x.example/a) [b](c", "https://x.example/a%29%20%5Bb%5D%28c"),
    ("https://x.example/a|b", "https://x.example/a%7Cb"),
    ("javascript:alert(1)", None), ("JAVASCRIPT:alert(1)", None), ("data:text/html,x", None),
    ("//evil.example/x", None), ("relative/path", None), ("", None), (None, None),
])
def test_safe_url(url, expected):
    assert safe_url(url) == expected


def test_history_lines_keep_our_markdown_but_nothing_else():
    ours = "**Pipeline [#\u200d9](https://g.example/p/9)** · best candidate `a<b` improves `acc` 1 → 2 (+100.0%) over `main`"
    assert sanitize_markdown_line(ours) == ours
    assert sanitize_markdown_line("x</details>") == "x&lt;/details&gt;"
    assert sanitize_markdown_line("&#64;al &lt;") == f"&amp;#{ZWJ}64;al &lt;"
    assert sanitize_markdown_line("a\n/merge") == "a /merge"
    assert sanitize_markdown_line("@bob `@bob`") == f"@{ZWJ}bob `@{ZWJ}bob`"
