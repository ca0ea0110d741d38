"""Run MLflow's own server tests against `mlflow server` and `mltracker serve`, side by side.

    python benchmarks/mlflow_own_suite/run.py --mlflow-tests DIR [--targets mlflow,mltracker-sqlite]
        [--build DIR] [-- extra pytest args]

DIR holds MLflow's test files as MLflow ships them (DIR/tests/tracking/test_*.py); nothing of
MLflow's is kept in this repository. The runner copies them next to this folder's support files,
adapts the two places where a test starts a server process itself (so that process is the server
under test), runs pytest once per target and prints, per file, how many tests pass on each, then
every test that passes on mlflow but not on mltracker. README.md says where the files come from.
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
TEST_FILES = ["test_rest_tracking.py", "test_model_registry.py", "test_mlflow_artifacts.py",
              "test_client_webhooks.py"]

# (file, text MLflow has, text the runner puts instead): the tests' own server launches.
ADAPTATIONS = [
    ("test_mlflow_artifacts.py", "\nimport requests\n", "\nimport requests\n\nimport own_target\n"),
    ("test_mlflow_artifacts.py",
     "def _launch_server(host, port, backend_store_uri, default_artifact_root, artifacts_destination):\n",
     "def _launch_server(host, port, backend_store_uri, default_artifact_root, artifacts_destination):\n"
     "    if own_target.is_mltracker():\n"
     "        with own_target.launch_mltracker(port, artifacts_destination) as (process, _):\n"
     "            yield process\n"
     "        return\n"),
    ("test_rest_tracking.py", "\nimport requests\n", "\nimport requests\n\nimport own_target\n"),
    # Newer than the installed client: without it the file does not import (litellm-only tests).
    ("test_rest_tracking.py", "from mlflow.utils.providers import _PROVIDER_BACKEND_AVAILABLE\n",
     "try:\n    from mlflow.utils.providers import _PROVIDER_BACKEND_AVAILABLE\n"
     "except ImportError:\n    _PROVIDER_BACKEND_AVAILABLE = False\n"),
    ("test_rest_tracking.py",
     '            sys.executable,\n            "-m",\n            "mlflow",\n            "server",\n',
     "            *own_target.server_argv(),\n"),
]


def build(mlflow_tests: Path, build_dir: Path) -> None:
    if build_dir.exists():
        shutil.rmtree(build_dir)
    shutil.copytree(HERE / "support", build_dir)
    for package in ("tests", "tests/integration", "tests/tracking"):
        (build_dir / package / "__init__.py").touch()
    for name in TEST_FILES:
        shutil.copy(mlflow_tests / "tests" / "tracking" / name, build_dir / "tests" / "tracking" / name)
    for name, original, adapted in ADAPTATIONS:
        path = build_dir / "tests" / "tracking" / name
        text = path.read_text()
        if text.count(original) != 1:
            raise SystemExit(f"{name}: expected exactly one {original!r} (a different MLflow version?)")
        path.write_text(text.replace(original, adapted))
    (build_dir / "pytest.ini").write_text("[pytest]\ntimeout = 600\n")


def run_target(build_dir: Path, target: str, extra: list[str]) -> Path:
    report = build_dir / f"junit-{target}.xml"
    # The client's waits, shortened alike for every target: a failing call fails in seconds instead
    # of retrying for minutes (HTTP backoff; the async trace exporter's 500 s retry window).
    env = {**os.environ, "OWN_TARGET": target, "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
           "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "4",
           "MLFLOW_ASYNC_TRACE_LOGGING_RETRY_TIMEOUT": "30"}
    # Tests that start `mlflow server` by its command name find this environment's.
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    paths = [a for a in extra if a.startswith("tests/")] or ["tests/tracking"]
    options = [a for a in extra if not a.startswith("tests/")]
    # The report path goes through the environment: a command line naming "mlflow" is fair game
    # for a `pkill -f mlflow` aimed at stray mlflow servers on a shared machine.
    env["PYTEST_ADDOPTS"] = shlex.join([f"--junitxml={report}", *options])
    cmd = [sys.executable, "-m", "pytest", *paths, "-p", "no:cacheprovider", "-q", "-rN",
           "-o", "junit_family=xunit1"]
    print(f"== {target}: PYTEST_ADDOPTS={env['PYTEST_ADDOPTS']!r} {' '.join(cmd)}", flush=True)
    subprocess.run(cmd, cwd=build_dir, env=env)
    return report


def outcomes(report: Path) -> dict[str, str]:
    results = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        name = f"{case.get('file') or case.get('classname')}::{case.get('name')}"
        kinds = {child.tag for child in case}
        if "failure" in kinds or "error" in kinds:
            outcome = "failed"
        elif "skipped" in kinds:
            message = next(c for c in case if c.tag == "skipped").get("type", "")
            outcome = "xfailed" if "xfail" in message else "skipped"
        else:
            outcome = "passed"
        results[name] = outcome
    return results


def summarize(results: dict[str, dict[str, str]], targets: list[str]) -> str:
    lines = ["| file | " + " | ".join(targets) + " |", "|---|" + "---|" * len(targets)]
    per_file = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for target in targets:
        for name, outcome in results[target].items():
            file = next((f for f in TEST_FILES if f[:-3] in name), name.split("::")[0])
            per_file[file][target][1] += 1
            per_file[file][target][0] += outcome == "passed"
    totals = defaultdict(lambda: [0, 0])
    for file in TEST_FILES:
        cells = []
        for target in targets:
            passed, total = per_file[file][target]
            totals[target][0] += passed
            totals[target][1] += total
            cells.append(f"{passed} / {total}")
        lines.append(f"| {file} | " + " | ".join(cells) + " |")
    lines.append("| **all** | " + " | ".join(f"**{totals[t][0]} / {totals[t][1]}**" for t in targets) + " |")
    if "mlflow" in results:
        for target in targets:
            if target == "mlflow":
                continue
            gaps = sorted(n for n, o in results["mlflow"].items()
                          if o == "passed" and results[target].get(n) != "passed")
            lines.append(f"\npasses on mlflow, not on {target} ({len(gaps)}):")
            lines.extend(f"  {n}" for n in gaps)
            extra = sorted(n for n, o in results[target].items()
                           if o == "passed" and results["mlflow"].get(n) != "passed")
            lines.append(f"passes on {target}, not on mlflow ({len(extra)}):")
            lines.extend(f"  {n}" for n in extra)
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mlflow-tests", type=Path, required=True)
    parser.add_argument("--targets", default="mlflow,mltracker-sqlite,mltracker-postgres")
    parser.add_argument("--build", type=Path, default=Path("/tmp/mlflow-own-suite"))
    parser.add_argument("--only-report", action="store_true", help="summarize the last run's reports")
    parser.add_argument("pytest_args", nargs="*")
    args = parser.parse_args()
    targets = args.targets.split(",")
    if not args.only_report:
        build(args.mlflow_tests, args.build)
        for target in targets:
            run_target(args.build, target, args.pytest_args)
    results = {t: outcomes(args.build / f"junit-{t}.xml") for t in targets}
    (args.build / "results.json").write_text(json.dumps(results, indent=1, sort_keys=True))
    print(summarize(results, targets))


if __name__ == "__main__":
    main()
