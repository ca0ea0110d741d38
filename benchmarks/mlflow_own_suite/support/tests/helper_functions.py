"""The few helpers MLflow's server tests import from `tests.helper_functions`, written for this runner."""
from __future__ import annotations

import os
import random
import signal
import string

from own_target import free_port

LOCALHOST = "127.0.0.1"


def get_safe_port() -> int:
    return free_port()


def random_str(size: int = 10) -> str:
    return "".join(random.choices(string.ascii_letters, k=size))


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    parent = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if parent == pid:
                found.append(int(entry))
    return found


def kill_process_tree(pid: int) -> None:
    """SIGTERM to `pid` and its descendants, nothing else (a server started without a session of its
    own shares the test process's group: killing the group would end the test run itself)."""
    pending, tree = [pid], []
    while pending:
        current = pending.pop()
        tree.append(current)
        pending.extend(_children(current))
    for member in reversed(tree):
        try:
            os.kill(member, signal.SIGTERM)
        except ProcessLookupError:
            pass
