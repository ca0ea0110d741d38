""" Did you mean …?" after an unknown field, as graphql-core (behind MLflow's server) words it:
options within a Damerau–Levenshtein distance of 40 % of the name's length, closest first."""
from __future__ import annotations

import re

MAX_SUGGESTIONS = 5


def did_you_mean(name: str, options) -> str:
    found = suggestions(name, options)[:MAX_SUGGESTIONS]
    if not found:
        return ""
    quoted = [f"'{s}'" for s in found]
    if len(quoted) == 1:
        return f" Did you mean {quoted[0]}?"
    if len(quoted) == 2:
        return f" Did you mean {quoted[0]} or {quoted[1]}?"
    return f" Did you mean {', '.join(quoted[:-1])}, or {quoted[-1]}?"


def suggestions(name: str, options) -> list[str]:
    threshold = int(len(name) * 0.4) + 1
    scored = {}
    for option in options:
        d = distance(name, option, threshold)
        if d is not None:
            scored[option] = d
    return sorted(scored, key=lambda o: (scored[o], _natural(o)))


def distance(a: str, b: str, threshold: int) -> int | None:
    if a == b:
        return 0
    a, b = a.lower(), b.lower()
    if a == b:
        return 1  # a change of case counts as one edit
    if len(a) < len(b):
        a, b = b, a
    if len(a) - len(b) > threshold:
        return None
    rows = [list(range(len(b) + 1))]
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            row[j] = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], rows[-2][j - 2] + 1)
        if min(row) > threshold:
            return None
        rows = rows[-1:] + [row]
    found = rows[-1][len(b)]
    return found if found <= threshold else None


def _natural(text: str) -> list:
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", text) if part]
