"""`mltracker gate`: the quality gate from a CI job that has Python (the gate component uses curl).

Everything defaults from the environment a job with the tracking component has:
MLFLOW_TRACKING_URI (<server>/projects/<id>), MLFLOW_TRACKING_TOKEN (the job token),
MLFLOW_EXPERIMENT_NAME, CI_PIPELINE_ID, and CI_MERGE_REQUEST_TARGET_BRANCH_NAME or CI_DEFAULT_BRANCH.
Exit status: 0 pass, 1 fail, 2 the server could not answer.
"""
from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request


def add_gate_command(commands) -> None:
    gate = commands.add_parser("gate", help="fail if this pipeline's best candidate regresses (CI quality gate)")
    gate.add_argument("--metric", required=True, help="metric key to compare")
    gate.add_argument("--direction", default="auto", choices=["auto", "minimize", "maximize"],
                      help="auto: the experiment tag mltracker.direction.<metric>, else the metric's name")
    gate.add_argument("--no-candidates", default="pass", choices=["pass", "fail"],
                      help="what a pipeline without candidates means (default: pass, with a warning)")
    gate.add_argument("--max-regression", default="0", help="allowed relative regression: 0.02 or 2%% (default 0)")
    gate.add_argument("--experiment", default=os.environ.get("MLFLOW_EXPERIMENT_NAME"),
                      help="experiment name or id (default $MLFLOW_EXPERIMENT_NAME)")
    gate.add_argument("--tracking-uri", default=os.environ.get("MLFLOW_TRACKING_URI"),
                      help="<server>/projects/<id> (default $MLFLOW_TRACKING_URI)")
    gate.add_argument("--pipeline-id", default=os.environ.get("CI_PIPELINE_ID"), help="default $CI_PIPELINE_ID")
    gate.add_argument("--target-ref",
                      default=os.environ.get("CI_MERGE_REQUEST_TARGET_BRANCH_NAME") or os.environ.get("CI_DEFAULT_BRANCH"),
                      help="baseline branch (default: the MR's target branch, else $CI_DEFAULT_BRANCH)")
    gate.set_defaults(handler=run_gate)


def run_gate(args) -> int:
    missing = [name for name in ("tracking_uri", "pipeline_id", "target_ref") if not getattr(args, name)]
    if missing:
        print(f"mltracker gate: missing {', '.join('--' + m.replace('_', '-') for m in missing)}", file=sys.stderr)
        return 2
    params = {
        "pipeline_id": args.pipeline_id, "metric": args.metric, "direction": args.direction,
        "max_regression": args.max_regression, "target_ref": args.target_ref,
        "no_candidates": args.no_candidates,
    }
    if args.experiment:
        params["experiment"] = args.experiment
    url = f"{args.tracking_uri.rstrip('/')}/api/mltracker/gate?{urllib.parse.urlencode(params)}"
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    token = os.environ.get("MLFLOW_TRACKING_TOKEN") or os.environ.get("CI_JOB_TOKEN")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            result = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        print(f"mltracker gate: the server answered {exc.code}: {exc.read().decode(errors='replace')}")
        return 2
    except (urllib.error.URLError, OSError, ValueError) as exc:
        print(f"mltracker gate: the server could not answer: {exc}")
        return 2
    print(result["summary"], end="")
    return 0 if result["passed"] else 1
