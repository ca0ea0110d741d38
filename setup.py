"""Maps the top-level folders onto one installed namespace: `service/` → `mltracker.service`, etc.

pyproject.toml cannot express "every sub-package of these folders, renamed", so the list is computed
here; everything else about the package is in pyproject.toml.
"""
from pathlib import Path

from setuptools import find_packages, setup

ROOTS = ("service", "bot", "reports")
HERE = Path(__file__).parent


def _data_files(root: str) -> list[str]:
    """Every file under a root that is not a module of a package, relative to the root.

    Python files in folders without `__init__.py` (Alembic's migrations) are data too.
    """
    def is_data(path: Path) -> bool:
        if "__pycache__" in path.parts or path.suffix in {".pyc", ".pyo"}:
            return False
        return path.suffix != ".py" or not (path.parent / "__init__.py").exists()

    base = HERE / root
    return sorted(str(p.relative_to(base)) for p in base.rglob("*") if p.is_file() and is_data(p))


setup(
    packages=[f"mltracker.{name}" for name in find_packages(include=[f"{r}" for r in ROOTS] + [f"{r}.*" for r in ROOTS])],
    package_dir={f"mltracker.{root}": root for root in ROOTS},
    package_data={f"mltracker.{root}": _data_files(root) for root in ROOTS},
)
