"""Model version stages (deprecated in MLflow, still used): canonical names and validation."""
from __future__ import annotations

from mltracker.service.errors import invalid

NONE, STAGING, PRODUCTION, ARCHIVED = "None", "Staging", "Production", "Archived"
ALL_STAGES = (NONE, STAGING, PRODUCTION, ARCHIVED)
ACTIVE_STAGES = (STAGING, PRODUCTION)
_CANONICAL = {stage.lower(): stage for stage in ALL_STAGES}


def canonical_stage(stage: str) -> str:
    found = _CANONICAL.get((stage or "").lower())
    if found is None:
        raise invalid(f"Invalid Model Version stage: {stage}. Value must be one of {', '.join(ALL_STAGES)}.")
    return found
