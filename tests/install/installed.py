"""mltracker as a user installs it: a wheel built from this tree, installed (not editable) into a
fresh virtual environment whose dependencies come from a cached environment.

The dependency environment is keyed by a hash of pyproject's runtime dependencies and the Python
version, so it is built once (pip may use its own cache) and reused until the dependencies change;
every run then builds a new wheel and installs only that, with --no-deps, into a new venv that sees
the cached dependencies through a .pth file.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tomllib
import uuid
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("MLTRACKER_INSTALL_TEST_CACHE", REPO / ".cache" / "install-test"))
BUILD_REQUIREMENTS = ["setuptools>=68", "wheel"]
# What a build reads from the tree: the package folders and the packaging files.
SOURCES = ("service", "bot", "reports", "setup.py", "pyproject.toml", "README.md")


@dataclass(frozen=True)
class Installed:
    venv: Path
    wheel: Path

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    @property
    def mltracker(self) -> Path:
        return self.venv / "bin" / "mltracker"


def _run(args: list, **kwargs) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(a) for a in args], capture_output=True, text=True, **kwargs)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, args))} failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    return proc


def runtime_dependencies() -> list[str]:
    with open(REPO / "pyproject.toml", "rb") as handle:
        return list(tomllib.load(handle)["project"]["dependencies"])


def _base_python() -> str:
    """The interpreter beneath any venv the tests run in, so the new venvs inherit nothing."""
    return getattr(sys, "_base_executable", None) or sys.executable


def dependency_venv() -> Path:
    """The cached environment holding the runtime dependencies (and the build backend)."""
    requirements = runtime_dependencies() + BUILD_REQUIREMENTS
    key = hashlib.sha256(json.dumps([sys.version_info[:2], sorted(requirements)]).encode()).hexdigest()[:16]
    target = CACHE / f"deps-{key}"
    if (target / "ready").exists():
        return target
    CACHE.mkdir(parents=True, exist_ok=True)
    building = CACHE / f"building-{uuid.uuid4().hex[:8]}"
    try:
        _run([_base_python(), "-m", "venv", building])
        _run([building / "bin" / "python", "-m", "pip", "install", "--quiet", *requirements], timeout=1800)
        (building / "ready").write_text("\n".join(requirements) + "\n")
        # Built aside and renamed when complete, so a half-built one is never used. Its scripts
        # name the old folder; only `python -m …` is used from it, which does not.
        try:
            building.rename(target)
        except OSError:  # another run finished first
            pass
    finally:
        shutil.rmtree(building, ignore_errors=True)
    for stale in CACHE.glob("deps-*"):  # environments for dependencies this tree no longer has
        if stale != target:
            shutil.rmtree(stale, ignore_errors=True)
    return target


def _site_packages(venv: Path) -> Path:
    found = list((venv / "lib").glob("python3*/site-packages"))
    assert len(found) == 1, found
    return found[0]


def build_wheel(deps: Path, workdir: Path) -> Path:
    """A wheel of the current tree, built from a clean copy (no stale build/ folder can leak in)."""
    source = workdir / "source"
    source.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in SOURCES:
        path = REPO / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=ignore)
        else:
            shutil.copy2(path, source / name)
    out = workdir / "dist"
    _run([deps / "bin" / "python", "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
          "--wheel-dir", out, source], timeout=600)
    wheels = list(out.glob("mltracker-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def install_fresh(workdir: Path) -> Installed:
    deps = dependency_venv()
    wheel = build_wheel(deps, workdir)
    venv = workdir / "venv"
    _run([_base_python(), "-m", "venv", "--without-pip", venv])
    (_site_packages(venv) / "_cached_dependencies.pth").write_text(str(_site_packages(deps)) + "\n")
    _run([deps / "bin" / "python", "-m", "pip", "--python", venv / "bin" / "python", "install", "--quiet",
          "--no-deps", "--force-reinstall", "--no-index", wheel], timeout=600)
    return Installed(venv, wheel)
