"""Comment commands: a pure parser from a note's text to what the bot should do.

A note addresses the bot when a line starts with `@<bot-username>` outside every block GitLab's
quick-action parser skips (see command_lines). Bare `/commands` are GitLab quick actions and never
ours. Whatever the user typed is shown back only through reports.escaping.
"""
from __future__ import annotations

import difflib
import re
import shlex
from dataclasses import dataclass

from mltracker.bot.command_lines import plain_lines
from mltracker.reports.escaping import md_code

COMMANDS = ("promote", "compare", "help")


@dataclass(frozen=True)
class Promote:
    candidate: str
    model: str | None = None
    alias: str | None = None
    force: bool = False


@dataclass(frozen=True)
class Compare:
    first: str
    second: str


@dataclass(frozen=True)
class Help:
    pass


@dataclass(frozen=True)
class Reply:
    """The note was for the bot but cannot be run: answer with this text (usage, did-you-mean)."""

    text: str


@dataclass(frozen=True)
class Ignore:
    pass


Command = Promote | Compare | Help
ParseResult = Promote | Compare | Help | Reply | Ignore

USAGE = {
    "promote": "@{bot} promote <candidate> [to <model>] [--alias <alias>] [--force]",
    "compare": "@{bot} compare <candidate-a> <candidate-b>",
    "help": "@{bot} help",
}
_ALIAS_RE = re.compile(r"^[\w\-]{1,255}$")
_MODEL_RE = re.compile(r"^[^/:]{1,256}$")


def help_text(bot: str) -> str:
    lines = [f"Commands for @{bot} (write them at the start of a comment line):", ""]
    lines += [f"- `{USAGE[name].format(bot=bot)}`" for name in COMMANDS]
    lines += [
        "",
        "A candidate is a run name, a run id, or a unique prefix of a run id; "
        "this merge request's candidates are searched first.",
    ]
    return "\n".join(lines)


def parse(note: str, bot_username: str) -> ParseResult:
    line = _addressed_line(note, bot_username)
    if line is None:
        return Ignore()
    try:
        words = shlex.split(line)
    except ValueError:
        words = line.split()
    if not words:
        return Help()
    name, args = words[0].lower(), words[1:]
    if name == "help":
        return Help()
    if name == "promote":
        return _parse_promote(args, bot_username)
    if name == "compare":
        if len(args) != 2:
            return _usage("compare", bot_username, "needs exactly two candidates")
        return Compare(args[0], args[1])
    suggestion = difflib.get_close_matches(name, COMMANDS, n=1, cutoff=0.5)
    hint = f" Did you mean `{suggestion[0]}`?" if suggestion else ""
    return Reply(f"Unknown command {_code_safe(name)}.{hint}\n\n{help_text(bot_username)}")


def _addressed_line(note: str, bot: str) -> str | None:
    mention = re.compile(rf"^ {{0,3}}@{re.escape(bot)}(?![\w.\-])(.*)$", re.IGNORECASE)
    for line in plain_lines(note):
        match = mention.match(line)
        if match:
            return match.group(1).strip()
    return None


def _parse_promote(args: list[str], bot: str) -> ParseResult:
    alias, force, rest = None, False, []
    index = 0
    while index < len(args):
        arg = args[index]
        if arg in ("--alias", "-a"):
            if index + 1 >= len(args):
                return _usage("promote", bot, "`--alias` needs a value")
            alias = args[index + 1]
            index += 2
            continue
        if arg.startswith("--alias="):
            alias = arg.split("=", 1)[1]
        elif arg == "--force":
            force = True
        elif arg.startswith("--"):
            return _usage("promote", bot, f"unknown option {_code_safe(arg)}")
        else:
            rest.append(arg)
        index += 1
    if not rest:
        return _usage("promote", bot, "which candidate?")
    candidate, model = rest[0], None
    if len(rest) == 3 and rest[1].lower() == "to":
        model = rest[2]
    elif len(rest) != 1:
        return _usage("promote", bot, "expected `<candidate> [to <model>]`")
    if alias is not None and not _ALIAS_RE.match(alias):
        return _usage("promote", bot, "an alias may only contain letters, digits, `_` and `-`")
    if model is not None and not _MODEL_RE.match(model):
        return _usage("promote", bot, "a model name cannot contain `/` or `:`")
    return Promote(candidate=candidate, model=model, alias=alias, force=force)


def _usage(command: str, bot: str, problem: str) -> Reply:
    return Reply(f"Cannot run `{command}`: {problem}.\n\nUsage: `{USAGE[command].format(bot=bot)}`")


def _code_safe(text: str) -> str:
    return md_code(text, max_len=100)
