"""Which lines of a comment are plain Markdown text a command may start on.

GitLab's quick-action parser (`lib/gitlab/quick_actions/extractor.rb`) only acts on a line that is
not inside a fenced code block, an inline code span running over several lines, an HTML block
(`<details>` … `</details>`) or a `>>>` multi-line quote. The bot skips those and, because a reader
sees them as code, quotes or hidden text too, also: 4-space or tab indented code, HTML comments, `>`
quotes together with their lazy continuation lines, and anything indented four or more columns.
Where a block is never closed, it runs to the end of the comment (as CommonMark renders it).
"""
from __future__ import annotations

import re
from typing import Iterator

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_MULTILINE_QUOTE = re.compile(r"^ {0,3}>>>")
_QUOTE = re.compile(r"^ {0,3}>")
_HTML_START = re.compile(r"^ {0,3}</?[A-Za-z][A-Za-z0-9-]*(?:\s|/?>|$)")
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)\b[^>]*?(/?)>")
_VOID_TAGS = frozenset(
    "area base br col embed hr img input link meta param source track wbr".split()
)


def plain_lines(note: str) -> Iterator[str]:
    """Yield, in order, the lines of `note` that lie outside every skipped block."""
    lines = (note or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    # Text between blocks, as paragraphs; None marks where a block (or a blank line) ended one.
    text: list[str | None] = []
    index = 0
    while index < len(lines):
        skip_to = _block_end(lines, index)
        if skip_to is not None:
            text.append(None)
            index = skip_to + 1
            continue
        text.append(lines[index] if lines[index].strip() else None)
        index += 1
    for line, in_code_span in zip(text, _starts_in_code_span(text)):
        if line is not None and not in_code_span and _indent(line) < 4:
            yield line


def _block_end(lines: list[str], start: int) -> int | None:
    """The index of the last line of the skipped block opening at `start`, or None."""
    line = lines[start]
    fence = _FENCE.match(line)
    if fence:
        char, length = fence.group(1)[0], len(fence.group(1))
        closing = re.compile(rf"^ {{0,3}}{re.escape(char)}{{{length},}}\s*$")
        return _first(lines, start + 1, closing.match)
    if _MULTILINE_QUOTE.match(line):
        return _first(lines, start + 1, lambda text: text.strip() == ">>>")
    if "<!--" in line and "-->" not in line.split("<!--", 1)[1]:
        return _first(lines, start + 1, lambda text: "-->" in text)
    if line.lstrip().startswith("<!--"):
        return start
    if _HTML_START.match(line):
        return _html_block_end(lines, start)
    if _QUOTE.match(line):
        end = start
        while end + 1 < len(lines) and lines[end + 1].strip():
            end += 1  # lazy continuation: still part of the quote when rendered
        return end
    return None


def _html_block_end(lines: list[str], start: int) -> int:
    depth = 0
    for index in range(start, len(lines)):
        for closing, name, self_closing in _TAG.findall(lines[index]):
            if name.lower() in _VOID_TAGS or self_closing:
                continue
            depth += -1 if closing else 1
        if depth <= 0:
            return index
    return len(lines) - 1


def _first(lines: list[str], start: int, predicate) -> int:
    for index in range(start, len(lines)):
        if predicate(lines[index]):
            return index
    return len(lines) - 1


def _indent(line: str) -> int:
    width = 0
    for ch in line:
        if ch == " ":
            width += 1
        elif ch == "\t":
            width += 4 - width % 4
        else:
            break
    return width


def _starts_in_code_span(lines: list[str | None]) -> list[bool]:
    """For each line, whether it starts inside a code span opened on an earlier line of the same
    paragraph. A backtick run opens a span only if a later run of the same length closes it
    (CommonMark's rule); an unclosed run is literal text."""
    inside = [False] * len(lines)
    start = 0
    while start < len(lines):
        if lines[start] is None:
            start += 1
            continue
        end = start
        while end + 1 < len(lines) and lines[end + 1] is not None:
            end += 1
        _mark_paragraph(lines, start, end, inside)
        start = end + 1
    return inside


def _mark_paragraph(lines: list[str | None], start: int, end: int, inside: list[bool]) -> None:
    offsets, text = [], ""
    for index in range(start, end + 1):
        offsets.append(len(text))
        text += lines[index] + "\n"
    runs = [(m.start(), m.end()) for m in re.finditer(r"`+", text)]
    spans, i = [], 0
    while i < len(runs):
        length = runs[i][1] - runs[i][0]
        closer = next((j for j in range(i + 1, len(runs)) if runs[j][1] - runs[j][0] == length), None)
        if closer is None:
            i += 1
            continue
        spans.append((runs[i][1], runs[closer][0]))
        i = closer + 1
    for position, offset in enumerate(offsets):
        inside[start + position] = any(open_end <= offset < close_start for open_end, close_start in spans)
