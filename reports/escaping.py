"""Make user-controlled strings inert in GitLab-flavoured Markdown and in plot labels.

Everything a user can name (runs, params, tags, metric keys) goes through here before it reaches a
comment: no table breakage, no links or HTML, no @-mentions or other GitLab references (which would
notify people or cross-link issues), no line a quick action could start (the bot's notes run them).
"""
from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote, urlsplit

ELLIPSIS = "…"
ZWJ = "\u200d"

# GitLab references: @user, ~label, %milestone, #1 issue, !1 MR, $1 snippet, &1 epic. A zero-width joiner
# between the sigil and the name keeps the text readable but stops the reference parser.
_REFERENCE = re.compile(r'([@~%])(?=[\w"])|([#!$&])(?=\d)')
_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_\[\]|~$={}^:])")
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def clean(text: object, max_len: int | None = None) -> str:
    """One line of printable text: line breaks become spaces, control/format characters (bidi
    overrides, zero-width characters) are dropped, and long text is cut with an ellipsis."""
    out = []
    for ch in str(text):
        category = unicodedata.category(ch)
        if ch in "\r\n\t\v\f" or category in ("Zl", "Zp"):
            out.append(" ")
        elif category not in ("Cc", "Cf", "Cs", "Co", "Cn"):
            out.append(ch)
    result = "".join(out)
    return truncate(result, max_len) if max_len else result


def truncate(text: str, max_len: int) -> str:
    return text if len(text) <= max_len else text[: max_len - 1].rstrip() + ELLIPSIS


def neutralize_references(text: str) -> str:
    return _REFERENCE.sub(lambda m: m.group(0) + ZWJ, text)


def md_text(text: object, max_len: int | None = None) -> str:
    """Literal inline text, safe in a table cell, a link label, a heading or a list item."""
    safe = neutralize_references(clean(text, max_len))
    safe = "".join(_HTML.get(ch, ch) for ch in safe)
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", safe)


def md_code(text: object, max_len: int | None = None) -> str:
    """Inline code span: shown verbatim, never parsed as Markdown, HTML or a reference.

    Not for table cells (a `|` would still split the cell there); use md_text in tables."""
    content = neutralize_references(clean(text, max_len)) or " "
    longest = max((len(run) for run in re.findall(r"`+", content)), default=0)
    fence = "`" * (longest + 1)
    if content.startswith("`") or content.endswith("`") or content.strip() == "":
        content = f" {content} "
    return f"{fence}{content}{fence}"


def code_block(text: object, max_len: int = 4000) -> str:
    """A fenced code block showing `text` verbatim over several lines.

    The fence is always exactly three backticks: GitLab's quick-action parser only skips blocks
    fenced that way (lib/gitlab/quick_actions/extractor.rb). So no backtick run inside may close the
    block early, and no line inside may start a quick action even where the fence went unrecognised."""
    lines = []
    for line in truncate(str(text), max_len).replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = re.sub(r"`{3,}", lambda m: "'" * len(m.group(0)), clean(line))
        if line.lstrip().startswith("/"):
            line = ZWJ + line
        lines.append(neutralize_references(line))
    return "```\n" + "\n".join(lines) + "\n```"


def safe_url(url: str | None) -> str | None:
    """http(s) or site-relative (`/uploads/...`) URLs, percent-encoded so they cannot end a Markdown
    link early or break a table; anything else (javascript:, data:, //host) is dropped."""
    if not url:
        return None
    url = clean(url).strip()
    parts = urlsplit(url)
    if parts.scheme:
        if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
            return None
    elif not url.startswith("/") or url.startswith("//"):
        return None
    return quote(url, safe="/:?#=&%+,;@!$'*~.-_")


# Our own Markdown (an earlier verdict line) may be shown again in the history; keep its code spans
# and links but make sure it stays one inert line.
_CODE_SPAN = re.compile(r"(`+)(.+?)(?<!`)\1(?!`)")


def sanitize_markdown_line(line: str, max_len: int = 400) -> str:
    line = clean(line, max_len).strip()
    pieces, last = [], 0
    for match in _CODE_SPAN.finditer(line):
        pieces.append(_inert_markdown(line[last:match.start()]))
        pieces.append(match.group(1) + neutralize_references(match.group(2)) + match.group(1))
        last = match.end()
    pieces.append(_inert_markdown(line[last:]))
    return "".join(pieces)


def _inert_markdown(text: str) -> str:
    # Keep entities we emit ourselves; any other `&` could spell a character like &#64; (@).
    text = re.sub(r"&(?!(?:amp|lt|gt);)", "&amp;", text)
    return neutralize_references(text).replace("<", "&lt;").replace(">", "&gt;")
