"""The UI's HTML rendering of the same model: escaped, truncated with a tooltip, coloured by direction."""
from mltracker.reports import CandidateData, ExperimentData, build_report, render_html

import report_samples as samples


def test_hostile_strings_are_escaped():
    html = render_html(build_report([samples.hostile_experiment()]), {"exp-x-history.png": "javascript:alert(1)"})
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "</details>" not in html and "<b>" not in html
    assert "javascript:" not in html
    assert 'href="https://gitlab.example.com/jobs/1%29%20%5Bx%5D%28https://evil.example"' in html


def test_long_values_are_truncated_with_the_full_value_as_tooltip():
    long_name = "<i>" + "x" * 60
    run = CandidateData("r", long_name, metrics={"acc": 1.0})
    html = render_html(build_report([ExperimentData("e", [run], rules=samples.RULES)]))
    assert f'<span title="&lt;i&gt;{"x" * 60}">&lt;i&gt;{"x" * 36}…</span>' in html


def test_changes_are_classed_and_coloured_by_direction():
    html = render_html(build_report([samples.pipeline_experiment()]))
    assert '<span class="delta better" style="color:#0072B2">▲ +0.019 (+2.1%)</span>' in html
    assert '<span class="delta worse" style="color:#D55E00">▲ +0.021 (+7.0%)</span>' in html
    assert '<td class="metric best"><strong>0.931</strong>' in html
    assert '<td class="metric missing">—</td>' in html
