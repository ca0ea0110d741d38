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


def kill_process_tree(pid: int) -> None:
    try:
        os.killpg(os.getpgid(pid), signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
