"""What every runner gets: the database, GitLab as the bot, settings, the bot's own name."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import cached_property

from mltracker.bot.gitlab_port import BotGitLab
from mltracker.service.auth.policy import access_policy
from mltracker.service.db.engine import Database
from mltracker.service.report_data.links import Links
from mltracker.service.settings import Settings

WEB_URL_TTL_S = 300.0  # a renamed or moved project gets its new address after this


@dataclass
class BotContext:
    db: Database
    gitlab: BotGitLab
    settings: Settings
    _web_urls: dict = field(default_factory=dict, init=False, repr=False)

    @property
    def promote_min_access_level(self) -> int:
        return access_policy(self.settings).promote_level

    @cached_property
    def bot_username(self) -> str:
        return self.gitlab.bot_username()

    def links(self, project_id: int, project_web_url: str | None = None) -> Links:
        """Links for GitLab notes and statuses: mltracker's pages under MLTRACKER_PUBLIC_URL, GitLab's
        under the project's web_url as GitLab's API reports it. `project_web_url` (from a webhook
        payload) is ignored: a forged payload must not choose where the bot's links point."""
        return Links(self.settings.base_url, project_id, self.project_web_url(project_id))

    def project_web_url(self, project_id: int) -> str | None:
        cached = self._web_urls.get(project_id)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        url = self.gitlab.project_web_url(project_id)
        self._web_urls[project_id] = (url, time.monotonic() + WEB_URL_TTL_S)
        return url
