"""Project pages; importing this package attaches their routes to service.ui.blueprint.bp."""
from mltracker.service.ui.views import artifacts, candidates, compare, experiments, models  # noqa: F401
from mltracker.service.ui.views import pipelines, traces  # noqa: F401
