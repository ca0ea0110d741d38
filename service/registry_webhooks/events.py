"""The events a webhook can listen to, as MLflow 3.17 names them (`entity.action`), and how the
wire format (proto enum names or numbers) maps onto them."""
from __future__ import annotations

from dataclasses import dataclass

from mltracker.service.errors import invalid

# Proto enum numbers of mlflow.WebhookEntity / mlflow.WebhookAction (webhooks.proto).
ENTITIES = {
    "registered_model": 1, "model_version": 2, "model_version_tag": 3, "model_version_alias": 4,
    "prompt": 5, "prompt_version": 6, "prompt_tag": 7, "prompt_version_tag": 8, "prompt_alias": 9,
    "budget_policy": 10,
}
ACTIONS = {"created": 1, "updated": 2, "deleted": 3, "set": 4, "exceeded": 5}

VALID_ACTIONS = {
    "registered_model": ("created",),
    "model_version": ("created",),
    "model_version_tag": ("set", "deleted"),
    "model_version_alias": ("created", "deleted"),
    "prompt": ("created",),
    "prompt_version": ("created",),
    "prompt_tag": ("set", "deleted"),
    "prompt_version_tag": ("set", "deleted"),
    "prompt_alias": ("created", "deleted"),
    "budget_policy": ("exceeded",),
}


@dataclass(frozen=True)
class Event:
    entity: str
    action: str

    def __str__(self) -> str:
        return f"{self.entity}.{self.action}"


def event(entity: str, action: str) -> Event:
    """An event by its lower-case names, checked as MLflow's WebhookEvent checks it."""
    if action not in VALID_ACTIONS.get(entity, ()):
        valid = sorted(VALID_ACTIONS.get(entity, ()))
        raise invalid(f"Invalid action '{action}' for entity '{entity}'. Valid actions are: {valid}")
    return Event(entity, action)


def _enum_name(value, names: dict[str, int], field: str) -> str:
    if isinstance(value, bool):
        value = None
    if isinstance(value, int):
        for name, number in names.items():
            if number == value:
                return name
    elif isinstance(value, str) and value.isupper() and value.lower() in names:
        return value.lower()
    raise invalid(f"Invalid webhook event {field}: {value!r}. Expected one of: "
                  + ", ".join(n.upper() for n in names) + ".")


def require_events(events: list[Event]) -> None:
    if not events:
        raise invalid(f"Webhook events must be a non-empty list of WebhookEvent objects: {events}.")


def parse_events(raw: list) -> list[Event]:
    """Events of a request (`[{"entity": "MODEL_VERSION", "action": "CREATED"}, …]`);
    an empty list is refused later (`require_events`), after the name and URL, as MLflow does."""
    parsed: list[Event] = []
    for item in raw:
        if not isinstance(item, dict):
            raise invalid(f"Invalid webhook event: {item!r}. Expected an object with 'entity' and 'action'.")
        found = event(_enum_name(item.get("entity"), ENTITIES, "entity"),
                      _enum_name(item.get("action"), ACTIONS, "action"))
        if found in parsed:
            raise invalid(f"Duplicate webhook event: {found}.")
        parsed.append(found)
    return parsed


REGISTERED_MODEL_CREATED = Event("registered_model", "created")
MODEL_VERSION_CREATED = Event("model_version", "created")
MODEL_VERSION_TAG_SET = Event("model_version_tag", "set")
MODEL_VERSION_TAG_DELETED = Event("model_version_tag", "deleted")
MODEL_VERSION_ALIAS_CREATED = Event("model_version_alias", "created")
MODEL_VERSION_ALIAS_DELETED = Event("model_version_alias", "deleted")
PROMPT_CREATED = Event("prompt", "created")
PROMPT_VERSION_CREATED = Event("prompt_version", "created")
PROMPT_TAG_SET = Event("prompt_tag", "set")
PROMPT_TAG_DELETED = Event("prompt_tag", "deleted")
PROMPT_VERSION_TAG_SET = Event("prompt_version_tag", "set")
PROMPT_VERSION_TAG_DELETED = Event("prompt_version_tag", "deleted")
PROMPT_ALIAS_CREATED = Event("prompt_alias", "created")
PROMPT_ALIAS_DELETED = Event("prompt_alias", "deleted")

# What the `test` endpoint sends for each event: MLflow's example payloads (mlflow/webhooks/types.py).
EXAMPLE_PAYLOADS = {
    REGISTERED_MODEL_CREATED: {"name": "example_model", "tags": {"example_key": "example_value"},
                               "description": "An example registered model"},
    MODEL_VERSION_CREATED: {"name": "example_model", "version": "1", "source": "models:/123",
                            "run_id": "abcd1234abcd5678", "tags": {"example_key": "example_value"},
                            "description": "An example model version"},
    MODEL_VERSION_TAG_SET: {"name": "example_model", "version": "1", "key": "example_key", "value": "example_value"},
    MODEL_VERSION_TAG_DELETED: {"name": "example_model", "version": "1", "key": "example_key"},
    MODEL_VERSION_ALIAS_CREATED: {"name": "example_model", "alias": "example_alias", "version": "1"},
    MODEL_VERSION_ALIAS_DELETED: {"name": "example_model", "alias": "example_alias"},
    PROMPT_CREATED: {"name": "example_prompt", "tags": {"example_key": "example_value"},
                     "description": "An example prompt"},
    PROMPT_VERSION_CREATED: {"name": "example_prompt", "version": "1", "template": "Hello {{name}}!",
                             "tags": {"example_key": "example_value"}, "description": "An example prompt version"},
    PROMPT_TAG_SET: {"name": "example_prompt", "key": "example_key", "value": "example_value"},
    PROMPT_TAG_DELETED: {"name": "example_prompt", "key": "example_key"},
    PROMPT_VERSION_TAG_SET: {"name": "example_prompt", "version": "1", "key": "example_key", "value": "example_value"},
    PROMPT_VERSION_TAG_DELETED: {"name": "example_prompt", "version": "1", "key": "example_key"},
    PROMPT_ALIAS_CREATED: {"name": "example_prompt", "alias": "example_alias", "version": "1"},
    PROMPT_ALIAS_DELETED: {"name": "example_prompt", "alias": "example_alias"},
    Event("budget_policy", "exceeded"): {
        "budget_policy_id": "bp-abc123", "budget_unit": "USD", "budget_amount": 100.0, "current_spend": 105.5,
        "duration_unit": "MONTHS", "duration_value": 1, "target_scope": "ENDPOINT", "workspace": "default",
        "target_value": "ep-abc123", "window_start": 1704067200000,
    },
}
