"""The whole schema: importing this registers every table module on the one MetaData.

Import it where the complete schema matters (Alembic's environment, schema checks); code that uses a
table imports that table's own module. A new table module is added here.
"""
from mltracker.service.db import schema  # noqa: F401
from mltracker.service.db import jobs_schema  # noqa: F401
from mltracker.service.db import registry_schema  # noqa: F401
from mltracker.service.db import sessions_schema  # noqa: F401
from mltracker.service.importer import progress_schema  # noqa: F401
from mltracker.service.db import bot_schema  # noqa: F401
from mltracker.service.db import evaluation_schema  # noqa: F401
from mltracker.service.db import traces_schema  # noqa: F401
from mltracker.service.db import registry_webhooks_schema  # noqa: F401
from mltracker.service.db import gateway_schema  # noqa: F401
from mltracker.service.db.metadata import metadata

__all__ = ["metadata"]
