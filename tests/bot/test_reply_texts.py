"""Every text the comment runner writes keeps a hostile name inert (fast, without a server; the e2e
test renders the same through GitLab's stand-in)."""
from types import SimpleNamespace

import pytest

from mltracker.bot.commands import Reply, parse
from mltracker.bot.runners.comment import promoted_text, refusal
from mltracker.service.report_data.links import Links
from tests.bot.test_comment_commands_e2e import assert_inert

NAMES = [
    "tick`@all` [x](javascript:alert(1))",
    "nl\n/close\n/label ~bug\n@all",
    "<img src=x onerror=alert(1)> ~label #1 !1 %1 $1 &1",
    "```\n/close\n```",
    "    /close",
    "\u202e/close",
]
LINKS = Links("http://mltracker.test", 7, "http://gitlab.example.com/g/p")


@pytest.mark.parametrize("name", NAMES)
def test_promoted_reply(name):
    result = SimpleNamespace(name=name, version=3, alias="champion")
    text = promoted_text(name, "0123abcd", result, LINKS)
    assert_inert(text)
    assert "](http://mltracker.test/projects/7/candidates/0123abcd)" in text


@pytest.mark.parametrize("name", NAMES)
def test_refusals(name):
    text = refusal(f"Unknown candidate: {name!r}\n{name}")
    assert_inert(text)
    assert text.count("```") == 2  # one block, never closed early


@pytest.mark.parametrize("word", ["`@all`", "/close", "~bug", "[x](javascript:alert(1))", "<img/src=x/onerror=y>"])
def test_usage_replies(word):
    for note in (f"@bot {word}", f"@bot promote a --{word}"):
        result = parse(note, "bot")
        assert isinstance(result, Reply)
        assert_inert(result.text)
