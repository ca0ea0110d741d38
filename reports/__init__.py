"""Comparison reports for merge requests: a report model, Markdown/HTML renderers and PNG plots.

Pure rendering: plain data in, text and PNG bytes out; no HTTP, no database, nothing else of ours.
"""
from .direction import Direction
from .inputs import BaselineData, CandidateData, ComparisonRules, ExperimentData
from .model import Cell, Column, Delta, ExperimentReport, MetricChange, Report, Row, Verdict
from .build import build_comparison, build_experiment, build_report
from .markdown import REPORT_MARKER, extract_history, render_compare, render_markdown
from .html import render_html

__all__ = [
    "BaselineData", "CandidateData", "Cell", "ComparisonRules", "Column", "Delta", "Direction", "ExperimentData",
    "ExperimentReport", "MetricChange", "REPORT_MARKER", "Report", "Row", "Verdict",
    "build_comparison", "build_experiment", "build_report", "extract_history",
    "render_compare", "render_html", "render_markdown",
]
