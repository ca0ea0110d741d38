"""The promote domain service (see service.registry.promote)."""
from mltracker.service.registry.promote import (  # noqa: F401
    CANDIDATE_TAG,
    PROMOTED_BY_TAG,
    SOURCE_MR_TAG,
    Promotion,
    promote,
)
