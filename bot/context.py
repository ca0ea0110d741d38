"""What every runner gets: the database, GitLab as the bot, settings, the bot's own name."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from mltracker.bot.gitlab_port import BotGitLab
from mltracker.service.auth.policy import access_policy
from mltracker.service.db.engine import Database
from mltracker.service.reporting.links import Links
from mltracker.service.settings import Settings



@dataclass
class BotContext:
    db: Database
    gitlab: BotGitLab
    settings: Settings

    @property
    def promote_min_access_level(self) -> int:
        return access_policy(self.settings).promote_level

    @cached_property
    def bot_username(self) -> str:
        return self.gitlab.bot_username()

    def links(self, project_id: int, project_web_url: str | None = None) -> Links:
        return Links(self.settings.base_url, project_id, project_web_url)
