"""What the registry tells MLflow webhooks: each change's event and payload, as MLflow 3.17's
server builds them (mlflow/server/handlers.py), queued in the caller's transaction.

A registered model whose `mlflow.prompt.is_prompt` tag is "true" is a prompt: its changes are
announced as prompt events (for a new model or version, the request's tags decide, as in MLflow).
"""
from __future__ import annotations

from sqlalchemy import Connection, select

from mltracker.service.db.registry_schema import registered_model_tags
from mltracker.service.registry_webhooks import events as ev
from mltracker.service.registry_webhooks.emit import emit
from mltracker.service.registry_webhooks.store import has_webhooks

IS_PROMPT_TAG = "mlflow.prompt.is_prompt"
PROMPT_TYPE_TAG = "_mlflow_prompt_type"
PROMPT_TEXT_TAG = "mlflow.prompt.text"


def _tags(tags: list[dict] | None) -> dict[str, str]:
    return {t["key"]: t.get("value") or "" for t in tags or []}


def _is_prompt_request(tags: dict[str, str]) -> bool:
    return tags.get(IS_PROMPT_TAG, "false").lower() == "true"


def _is_prompt_model(conn: Connection, registered_model_id: int) -> bool:
    value = conn.execute(select(registered_model_tags.c.value).where(
        registered_model_tags.c.registered_model_id == registered_model_id,
        registered_model_tags.c.key == IS_PROMPT_TAG,
    )).scalar()
    return (value or "false").lower() == "true"


def registered_model_created(conn: Connection, project_id: int, name: str, tags: list[dict] | None,
                             description: str | None) -> None:
    if not has_webhooks(conn, project_id):
        return
    given = _tags(tags)
    if _is_prompt_request(given):
        kept = {k: val for k, val in given.items() if k not in (IS_PROMPT_TAG, PROMPT_TYPE_TAG)}
        emit(conn, project_id, ev.PROMPT_CREATED, {"name": name, "tags": kept, "description": description or ""})
    else:
        emit(conn, project_id, ev.REGISTERED_MODEL_CREATED,
             {"name": name, "tags": given, "description": description or ""})


def model_version_created(conn: Connection, project_id: int, name: str, version: int, *, source: str,
                          run_id: str | None, tags: list[dict] | None, description: str | None) -> None:
    if not has_webhooks(conn, project_id):
        return
    given = _tags(tags)
    if _is_prompt_request(given):
        template = given.pop(PROMPT_TEXT_TAG, None)
        given.pop(IS_PROMPT_TAG, None)
        given.pop(PROMPT_TYPE_TAG, None)
        emit(conn, project_id, ev.PROMPT_VERSION_CREATED, {
            "name": name, "version": str(version), "template": template, "tags": given,
            "description": description or None,
        })
    else:
        emit(conn, project_id, ev.MODEL_VERSION_CREATED, {
            "name": name, "version": str(version), "source": source, "run_id": run_id or None, "tags": given,
            "description": description or None,
        })


def model_tag_changed(conn: Connection, project_id: int, registered_model_id: int, name: str, key: str,
                      value: str | None, deleted: bool = False) -> None:
    """A registered model's tag: announced for prompts only (MLflow has no registered_model_tag event)."""
    if not has_webhooks(conn, project_id) or not _is_prompt_model(conn, registered_model_id):
        return
    if deleted:
        emit(conn, project_id, ev.PROMPT_TAG_DELETED, {"name": name, "key": key})
    else:
        emit(conn, project_id, ev.PROMPT_TAG_SET, {"name": name, "key": key, "value": value or ""})


def version_tag_changed(conn: Connection, project_id: int, registered_model_id: int, name: str, version,
                        key: str, value: str | None, deleted: bool = False) -> None:
    if not has_webhooks(conn, project_id):
        return
    prompt = _is_prompt_model(conn, registered_model_id)
    data = {"name": name, "version": str(version), "key": key}
    if deleted:
        emit(conn, project_id, ev.PROMPT_VERSION_TAG_DELETED if prompt else ev.MODEL_VERSION_TAG_DELETED, data)
    else:
        data["value"] = value or ""
        emit(conn, project_id, ev.PROMPT_VERSION_TAG_SET if prompt else ev.MODEL_VERSION_TAG_SET, data)


def alias_set(conn: Connection, project_id: int, registered_model_id: int, name: str, alias: str, version) -> None:
    if not has_webhooks(conn, project_id):
        return
    prompt = _is_prompt_model(conn, registered_model_id)
    emit(conn, project_id, ev.PROMPT_ALIAS_CREATED if prompt else ev.MODEL_VERSION_ALIAS_CREATED,
         {"name": name, "alias": alias, "version": str(version)})


def alias_deleted(conn: Connection, project_id: int, registered_model_id: int, name: str, alias: str) -> None:
    if not has_webhooks(conn, project_id):
        return
    prompt = _is_prompt_model(conn, registered_model_id)
    emit(conn, project_id, ev.PROMPT_ALIAS_DELETED if prompt else ev.MODEL_VERSION_ALIAS_DELETED,
         {"name": name, "alias": alias})
