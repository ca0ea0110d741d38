"""Table-driven tests of the comment-command parser."""
import pytest

from mltracker.bot.commands import Compare, Help, Ignore, Promote, Reply, help_text, parse

BOT = "mltracker-bot"

CASES = [
    # (note text, expected result or the Reply type with a fragment it must contain)
    ("@mltracker-bot promote lr-0.01", Promote("lr-0.01")),
    ("@mltracker-bot promote lr-0.01 to churn", Promote("lr-0.01", model="churn")),
    ("@mltracker-bot promote lr-0.01 to churn --alias champion", Promote("lr-0.01", "churn", "champion")),
    ("@mltracker-bot promote lr-0.01 --alias champion to churn", Promote("lr-0.01", "churn", "champion")),
    ("@mltracker-bot promote lr-0.01 --alias=champion", Promote("lr-0.01", alias="champion")),
    ("@mltracker-bot promote 3f2a9c --force", Promote("3f2a9c", force=True)),
    ("@MLTRACKER-BOT Promote lr-0.01 TO churn", Promote("lr-0.01", model="churn")),
    ("  @mltracker-bot promote lr-0.01  ", Promote("lr-0.01")),
    ('@mltracker-bot promote "my run" to churn', Promote("my run", model="churn")),
    ("Looks good!\n@mltracker-bot promote lr-0.01\nthanks", Promote("lr-0.01")),
    ("@mltracker-bot compare a b", Compare("a", "b")),
    ("@mltracker-bot compare lr-0.01 'lr 0.1'", Compare("lr-0.01", "lr 0.1")),
    ("@mltracker-bot help", Help()),
    ("@mltracker-bot", Help()),
    ("@mltracker-bot HELP me", Help()),
    ("@mltracker-bot promote", (Reply, "which candidate?")),
    ("@mltracker-bot promote a b", (Reply, "expected `<candidate> [to <model>]`")),
    ("@mltracker-bot promote a to", (Reply, "expected")),
    ("@mltracker-bot promote a --alias", (Reply, "`--alias` needs a value")),
    ("@mltracker-bot promote a --alias bad!alias", (Reply, "an alias may only contain")),
    ("@mltracker-bot promote a to bad/model", (Reply, "cannot contain `/`")),
    ("@mltracker-bot promote a --stage prod", (Reply, "unknown option `--stage`")),
    ("@mltracker-bot promote a --x@all", (Reply, "unknown option `--x@\u200dall`")),
    ("@mltracker-bot compare a", (Reply, "needs exactly two candidates")),
    ("@mltracker-bot compare a b c", (Reply, "needs exactly two candidates")),
    ("@mltracker-bot promte a", (Reply, "Did you mean `promote`?")),
    ("@mltracker-bot comapre a b", (Reply, "Did you mean `compare`?")),
    ("@mltracker-bot deploy a", (Reply, "Unknown command `deploy`")),
    ("@mltracker-bot delete `rm -rf`", (Reply, "Unknown command `delete`")),
    # not for us
    ("/promote lr-0.01", Ignore()),
    ("promote lr-0.01", Ignore()),
    ("thanks @mltracker-bot promote lr-0.01", Ignore()),
    ("@mltracker-botty promote a", Ignore()),
    ("@mltracker-bot.x promote a", Ignore()),
    ("> @mltracker-bot promote a", Ignore()),
    ("```\n@mltracker-bot promote a\n```", Ignore()),
    # every block GitLab's quick-action parser skips (lib/gitlab/quick_actions/extractor.rb), and
    # what a reader sees as code, a quote or hidden text
    ("````\n```\n@mltracker-bot promote a\n````", Ignore()),
    ("~~~\n@mltracker-bot promote a\n~~~", Ignore()),
    ("```\n@mltracker-bot promote a", Ignore()),  # an unclosed fence runs to the end
    ("    @mltracker-bot promote a", Ignore()),
    ("\t@mltracker-bot promote a", Ignore()),
    ("text\n\n    @mltracker-bot promote a", Ignore()),
    ("<!-- @mltracker-bot promote a -->", Ignore()),
    ("<!--\n@mltracker-bot promote a\n-->", Ignore()),
    ("hidden: <!--\n@mltracker-bot promote a\n-->", Ignore()),
    ("<!-- x -->@mltracker-bot promote a", Ignore()),
    ("<details>\n@mltracker-bot promote a\n</details>", Ignore()),
    ("<details>\n<summary>more</summary>\n\n@mltracker-bot promote a\n\n</details>", Ignore()),
    ("<details><summary>x</summary>\n@mltracker-bot promote a\n</details>", Ignore()),
    ("<div>\n<details>\n</details>\n@mltracker-bot promote a\n</div>", Ignore()),
    (">>>\n@mltracker-bot promote a\n>>>", Ignore()),
    (">>>\nquoted\n\n@mltracker-bot promote a\n>>>", Ignore()),
    (">  @mltracker-bot promote a", Ignore()),
    ("> quoted\n@mltracker-bot promote a", Ignore()),  # lazy continuation of the quote
    ("`\n@mltracker-bot promote a\n`", Ignore()),  # a code span over several lines
    ("``x\n@mltracker-bot promote a ``", Ignore()),
    # ... and commands after those blocks still count
    ("```\ncode\n```\n@mltracker-bot promote a", Promote("a")),
    ("    code\n\n@mltracker-bot promote a", Promote("a")),
    ("<!-- hidden -->\n@mltracker-bot promote a", Promote("a")),
    ("<details>\nx\n</details>\n@mltracker-bot promote a", Promote("a")),
    (">>>\nquoted\n>>>\n@mltracker-bot promote a", Promote("a")),
    ("> quoted\n\n@mltracker-bot promote a", Promote("a")),
    ("a ` lone backtick\n@mltracker-bot promote a", Promote("a")),
    ("<https://gitlab.example.com>\n@mltracker-bot promote a", Promote("a")),
    ("<br>\n@mltracker-bot promote a", Promote("a")),
    ("   @mltracker-bot promote a", Promote("a")),
    ("\r\n@mltracker-bot promote a\r\n", Promote("a")),
    ("", Ignore()),
    ("@someone-else promote a", Ignore()),
]


@pytest.mark.parametrize("note,expected", CASES, ids=[repr(c[0])[:50] for c in CASES])
def test_parse(note, expected):
    result = parse(note, BOT)
    if isinstance(expected, tuple):
        kind, fragment = expected
        assert isinstance(result, kind), result
        assert fragment in result.text
    else:
        assert result == expected


def test_help_lists_every_command_addressed_to_the_bot():
    text = help_text(BOT)
    for command in ("promote", "compare", "help"):
        assert f"@{BOT} {command}" in text


def test_unknown_command_reply_includes_help():
    result = parse("@mltracker-bot frobnicate", BOT)
    assert isinstance(result, Reply)
    assert help_text(BOT) in result.text


def test_unknown_command_text_cannot_break_out_of_code_span():
    result = parse("@mltracker-bot fr`ob", BOT)
    assert isinstance(result, Reply)
    assert "``fr`ob``" in result.text
