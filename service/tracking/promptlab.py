"""Prompt Lab runs (MLflow's UI records one prompt-engineering try as a run): the run with its model
parameters, route and template as params, MLflow's source-type and logged-artifacts tags, and the
evaluation table it shows. The prompt-template model MLflow also saves (served through the AI
Gateway) is not written: this server does not serve gateway models."""
from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import Connection

from mltracker.service.tracking import runs as run_store
from mltracker.service.tracking.clock import now_ms

EVAL_TABLE = "eval_results_table.json"
REQUIRED = ("experiment_id", "prompt_template", "prompt_parameters", "model_route", "model_input", "mlflow_version")


@dataclass(frozen=True)
class PromptlabTry:
    experiment_id: int
    run_name: str | None
    tags: list[dict]
    prompt_template: str
    prompt_parameters: list[tuple[str, str]]
    model_route: str
    model_parameters: list[tuple[str, str]]
    model_input: str
    model_output: str | None
    model_output_parameters: list[tuple[str, str]]
    user_id: str
    start_time: int


def eval_table(attempt: PromptlabTry) -> bytes:
    """MLflow's eval_results_table.json: one row of the prompt's parameters, prompt, output and the
    output's parameters."""
    columns = [k for k, _ in attempt.prompt_parameters] + ["prompt", "output"]
    columns += [k for k, _ in attempt.model_output_parameters]
    row = [v for _, v in attempt.prompt_parameters] + [attempt.model_input, attempt.model_output]
    row += [v for _, v in attempt.model_output_parameters]
    return json.dumps({"columns": columns, "data": [row]}).encode()


def start(conn: Connection, project_id: int, attempt: PromptlabTry) -> str:
    run_id = run_store.create_run(conn, project_id, attempt.experiment_id, attempt.user_id, attempt.start_time,
                                  attempt.tags, attempt.run_name)
    params = [*attempt.model_parameters, ("model_route", attempt.model_route),
              ("prompt_template", attempt.prompt_template)]
    tags = [("mlflow.loggedArtifacts", json.dumps([{"path": EVAL_TABLE, "type": "table"}])),
            ("mlflow.runSourceType", "PROMPT_ENGINEERING")]
    run_store.log_batch(conn, project_id, run_id, [], [{"key": k, "value": v} for k, v in params],
                        [{"key": k, "value": v} for k, v in tags])
    return run_id


def finish(conn: Connection, project_id: int, run_id: str, written: bool) -> None:
    run_store.update_run(conn, project_id, run_id, "FINISHED" if written else "FAILED", now_ms(), None)
