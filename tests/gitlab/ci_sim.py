"""Just enough of GitLab CI to test the components: inputs, interpolation, variables, scripts.

- `load_component(path, inputs)`: the `spec:` header and the body, with `$[[ inputs.x ]]`
  interpolated the way GitLab does it — after YAML parsing, in keys and string values; a value
  that is exactly one placeholder takes the input's type; defaults apply; unknown, missing or
  invalid inputs (options, regex) are errors.
- `job_variables(config, job)`: global `variables:` merged with the job's (after `extends:`),
  values expanded with `$VAR` / `${VAR}` against predefined CI variables, as the runner does.
- `run_script(job, env)`: the job's `script:` lines in `sh -e`, like a runner's shell.
"""
from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import yaml

PLACEHOLDER = re.compile(r"\$\[\[\s*inputs\.([A-Za-z0-9_-]+)\s*(\|[^\]]*)?\]\]")
VARIABLE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")
TYPES = {"string": str, "number": (int, float), "boolean": bool, "array": list}


class CiConfigError(Exception):
    pass


def _resolve_inputs(spec: dict, given: dict) -> dict:
    declared = (spec or {}).get("inputs") or {}
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise CiConfigError(f"unknown input arguments: {', '.join(unknown)}")
    values = {}
    for name, rules in declared.items():
        rules = rules or {}
        if name in given:
            value = given[name]
        elif "default" in rules:
            value = rules["default"]
        else:
            raise CiConfigError(f"`{name}` input: required value has not been provided")
        kind = rules.get("type", "string")
        if not isinstance(value, TYPES[kind]) or (kind == "number" and isinstance(value, bool)):
            raise CiConfigError(f"`{name}` input: provided value is not a {kind}")
        if "options" in rules and value not in rules["options"]:
            raise CiConfigError(f"`{name}` input: `{value}` cannot be used because it is not in the list of allowed options")
        if "regex" in rules and name in given and not re.search(rules["regex"], str(value)):
            raise CiConfigError(f"`{name}` input: provided value does not match required RegEx pattern")
        values[name] = value
    return values


def _interpolate(node, values: dict):
    if isinstance(node, dict):
        return {_interpolate(k, values): _interpolate(v, values) for k, v in node.items()}
    if isinstance(node, list):
        return [_interpolate(v, values) for v in node]
    if not isinstance(node, str):
        return node

    def lookup(match) -> object:
        name, function = match.group(1), match.group(2)
        if function:
            raise CiConfigError(f"interpolation functions are not simulated: {function}")
        if name not in values:
            raise CiConfigError(f"unknown interpolation key: `{name}`")
        return values[name]

    whole = PLACEHOLDER.fullmatch(node)
    if whole:
        return lookup(whole)
    return PLACEHOLDER.sub(lambda m: str(lookup(m)), node)


def load_component(path: Path, inputs: dict | None = None) -> tuple[dict, dict]:
    """(spec, interpolated body) of a CI/CD component file with a `spec:` header and `---`."""
    documents = list(yaml.safe_load_all(Path(path).read_text()))
    if len(documents) != 2 or "spec" not in (documents[0] or {}):
        raise CiConfigError("a component has a `spec:` header document, `---`, then the configuration")
    spec = documents[0]["spec"]
    values = _resolve_inputs(spec, inputs or {})
    return spec, _interpolate(documents[1], values)


def merge_configs(*configs: dict) -> dict:
    """`include:` semantics for what we use: later files extend or override earlier keys deeply."""
    merged: dict = {}
    for config in configs:
        merged = _deep_merge(merged, config)
    return merged


def _deep_merge(base: dict, override: dict) -> dict:
    result = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = _deep_merge(result[key], value)
        else:
            result[key] = value
    return result


def resolve_job(config: dict, name: str) -> dict:
    job = config[name]
    parents = job.get("extends") or []
    parents = [parents] if isinstance(parents, str) else parents
    resolved: dict = {}
    for parent in parents:
        resolved = _deep_merge(resolved, resolve_job(config, parent))
    return _deep_merge(resolved, {k: v for k, v in job.items() if k != "extends"})


def expand(value: str, env: dict) -> str:
    """The runner's expansion: $VAR and ${VAR}; unknown variables become empty."""
    return VARIABLE.sub(lambda m: str(env.get(m.group(1) or m.group(2), "")), value)


def job_variables(config: dict, name: str, predefined: dict) -> dict:
    job = resolve_job(config, name)
    raw = dict(config.get("variables") or {})
    inherit = (job.get("inherit") or {}).get("variables", True)
    if inherit is False:
        raw = {}
    raw.update(job.get("variables") or {})
    env = dict(predefined)
    # Variables may reference predefined ones and each other; expand until stable.
    values = {k: str(v["value"] if isinstance(v, dict) else v) for k, v in raw.items()}
    for _ in range(10):
        expanded = {k: expand(v, {**env, **values}) for k, v in values.items()}
        if expanded == values:
            break
        values = expanded
    return values


def run_script(job: dict, env: dict, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    script = job["script"]
    lines = [script] if isinstance(script, str) else script
    return subprocess.run(["sh", "-e", "-c", "\n".join(lines)], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)


def ci_environment(*, server_project_id: int, project_name: str, job_id: int, job_token: str, pipeline_id: int,
                   sha: str, ref: str, default_branch: str = "main", mr_iid: int | None = None,
                   mr_target: str | None = None) -> dict:
    """Predefined CI/CD variables a job sees (the subset the components use, and a few more)."""
    env = {
        "CI": "true", "GITLAB_CI": "true",
        "CI_PROJECT_ID": str(server_project_id), "CI_PROJECT_NAME": project_name,
        "CI_PROJECT_PATH": f"group/{project_name}", "CI_DEFAULT_BRANCH": default_branch,
        "CI_JOB_ID": str(job_id), "CI_JOB_TOKEN": job_token, "CI_PIPELINE_ID": str(pipeline_id),
        "CI_COMMIT_SHA": sha, "CI_COMMIT_REF_NAME": ref, "CI_SERVER_URL": "https://gitlab.example.com",
    }
    if mr_iid is not None:
        env.update(CI_MERGE_REQUEST_IID=str(mr_iid), CI_MERGE_REQUEST_TARGET_BRANCH_NAME=mr_target or default_branch,
                   CI_PIPELINE_SOURCE="merge_request_event")
    return env


def clean_os_environment() -> dict:
    """The process environment without anything MLflow or mltracker would read."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "MLTRACKER_", "CI_"))}
