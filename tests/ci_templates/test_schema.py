"""Every CI file of the repository against GitLab's own CI JSON schema (check-jsonschema's builtin
`vendor.gitlab-ci`): `.gitlab-ci.yml`, and each template's `spec:` header and body. A body is checked
as GitLab checks it, after its inputs are interpolated (gitlab-ci-local's `--preview`): an array
input such as `rules: $[[ inputs.rules ]]` is a string until then."""
from __future__ import annotations

import json
import subprocess

import pytest
import yaml

from tests.ci_templates.ci_tools import REPO, check_jsonschema
from tests.conftest import IN_CI
from tests.ci_templates.local_pipeline import LocalPipeline

TEMPLATES = sorted((REPO / "ci_templates").glob("*.yml"))
INPUTS = {
    "tracking.yml": [
        {"server_url": "https://mltracker.example.com"},
        {"server_url": "$MLTRACKER_URL", "experiment_name": "nightly"},
    ],
    "gate.yml": [
        {"server_url": "https://mltracker.example.com", "metric": "val_loss"},
        {"server_url": "${MLTRACKER_URL}", "metric": "val_acc", "direction": "maximize", "max_regression": "2%",
         "no_candidates": "fail", "rules": [{"if": '$CI_PIPELINE_SOURCE == "merge_request_event"'}],
         "stage": "evaluate", "job_name": "acc-gate", "image": "alpine:3.20"},
    ],
}


def _validate(path) -> subprocess.CompletedProcess:
    try:
        command = check_jsonschema()
    except RuntimeError as exc:
        if IN_CI:
            pytest.fail(f"{exc} (CI=true: the CI files must be checked)")
        pytest.skip(str(exc))
    return subprocess.run([*command, "--builtin-schema", "vendor.gitlab-ci", str(path)],
                          capture_output=True, text=True, timeout=120)


def _write_json(tmp_path, name: str, document) -> object:
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(document))
    return path


def test_every_template_has_inputs_to_check_with():
    assert sorted(INPUTS) == sorted(t.name for t in TEMPLATES)


def test_the_projects_own_pipeline():
    result = _validate(REPO / ".gitlab-ci.yml")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.name)
def test_spec_header(template, tmp_path):
    documents = list(yaml.safe_load_all(template.read_text()))
    assert len(documents) == 2 and set(documents[0]) == {"spec"}
    result = _validate(_write_json(tmp_path, "header", documents[0]))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("template, inputs", [(t, i) for t in TEMPLATES for i in INPUTS.get(t.name, [])],
                         ids=lambda v: v.name if hasattr(v, "name") else "")
def test_body_as_included(template, inputs, node_tools, tmp_path):
    config = {"include": [{"local": f"templates/{template.name}", "inputs": inputs}],
              "stages": ["train", "evaluate"], "train": {"stage": "train", "script": ["python train.py"]}}
    preview = LocalPipeline(node_tools, tmp_path / "repo", config).preview()
    assert preview.returncode == 0, preview.stdout + preview.stderr
    text = preview.stdout
    expanded = yaml.safe_load(text[text.index("---\n") if text.startswith("---\n") else text.index("\n---\n") + 1:])
    assert len(expanded) > 2  # stages, train and what the template added
    result = _validate(_write_json(tmp_path, "body", expanded))
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_finds_mistakes(tmp_path):
    broken = {"gate": {"stage": ".post", "script": ["true"], "rules": [{"when": "sometimes"}]}}
    result = _validate(_write_json(tmp_path, "broken", broken))
    assert result.returncode != 0 and "sometimes" in result.stdout + result.stderr
