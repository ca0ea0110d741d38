"""Make `import reports` mean the package, not this test directory.

pytest puts `tests/` on sys.path (rootdir conftest, no __init__.py), where `tests/reports/` looks like
a namespace package called `reports`. A regular package anywhere on sys.path wins over namespace
portions, so the repository root only has to be on the path; `pythonpath = ["."]` in pytest's
configuration would do the same for every test directory.
"""
from __future__ import annotations

import sys
from pathlib import Path

REPO = str(Path(__file__).resolve().parents[2])
if REPO not in sys.path:
    sys.path.append(REPO)
if getattr(sys.modules.get("reports"), "__file__", "") is None:  # imported earlier as a namespace
    for name in [m for m in sys.modules if m == "reports" or m.startswith("reports.")]:
        del sys.modules[name]
