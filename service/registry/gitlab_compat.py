"""What GitLab's built-in model registry lets MLflow clients do, kept working after a move here.

GitLab's documented snippet is

    client.create_model_version(name, source="", tags={"gitlab.version": "1.0.0"})   # or source=version
    run_id = model_version.run_id    # GitLab made a candidate for the version: log to it
    client.get_model_version(name, "1.0.0")

`mlflow server` refuses an empty or local source, so nothing MLflow accepts changes meaning here:
such a version gets a run of its own in the experiment "[model]<name>" (GitLab's name for a model's
default experiment, app/models/ml/model.rb) and is stored in that run's artifacts. The
`gitlab.version` tag is its semantic version: unique per model, and accepted wherever a version
number is (lib/api/ml/mlflow/api_helpers.rb reads `gitlab.` tags as parameters).
"""
from __future__ import annotations

import re
import urllib.parse

from sqlalchemy import Connection, select

from mltracker.service.db.registry_schema import model_version_tags, registered_models
from mltracker.service.errors import MlflowError, already_exists, invalid
from mltracker.service.tracking import experiments as exps
from mltracker.service.tracking import runs as run_store

VERSION_TAG = "gitlab.version"
# Packages::SemVer (lib/gitlab/regex.rb semver_regex): major.minor.patch[-prerelease][+build]
_SEMVER = re.compile(
    r"^(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)"
    r"(?:-(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*)?"
    r"(?:\+[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*)?$"
)


def is_semver(text) -> bool:
    return isinstance(text, str) and bool(_SEMVER.match(text))


def semantic_version(tags: list[dict]) -> str | None:
    values = [t.get("value") for t in tags if t.get("key") == VERSION_TAG]
    return values[-1] if values else None


def is_gitlab_style(source: str, tags: list[dict]) -> bool:
    """An empty source, or a local placeholder (often the version itself) next to a gitlab.version tag."""
    if source == "":
        return True
    return semantic_version(tags) is not None and urllib.parse.urlparse(source).scheme in ("", "file")


def check_semantic_version(conn: Connection, project_id: int, name: str, tags: list[dict]) -> None:
    version = semantic_version(tags)
    if version is None:
        return
    if not is_semver(version):
        raise invalid(f"Version must be semantic version: '{version}' (for example 1.0.0)")
    if version_with_tag(conn, project_id, name, version) is not None:
        raise already_exists(f"Model version {version} of {name} already exists.")


def version_with_tag(conn: Connection, project_id: int, name: str, semver: str) -> int | None:
    return conn.execute(
        select(model_version_tags.c.version)
        .join(registered_models, registered_models.c.id == model_version_tags.c.registered_model_id)
        .where(
            registered_models.c.project_id == project_id,
            registered_models.c.name == name,
            model_version_tags.c.key == VERSION_TAG,
            model_version_tags.c.value == semver,
        )
        .order_by(model_version_tags.c.version)
        .limit(1)
    ).scalar()


def candidate_run(conn: Connection, project_id: int, name: str, semver: str | None) -> tuple[str, str]:
    """A new run for the version in the model's experiment: (run id, its artifact URI)."""
    experiment_name = f"[model]{name}"
    try:
        experiment_id = exps.get_experiment_by_name(conn, project_id, experiment_name).experiment_id
    except MlflowError as exc:
        if exc.error_code != "RESOURCE_DOES_NOT_EXIST":
            raise
        experiment_id = exps.create_experiment(conn, project_id, experiment_name)
    run_name = f"{name}-{semver}" if semver else None
    run_id = run_store.create_run(conn, project_id, experiment_id, user_id=None, start_time=None,
                                  run_tags=[], run_name=run_name)
    return run_id, run_store.get_run_row(conn, project_id, run_id).artifact_uri
