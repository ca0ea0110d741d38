"""`mltracker webhook add --project ID`: a new secret for one project's webhook deliveries.

With MLTRACKER_GITLAB_URL and a bot token that may manage the project's hooks, the hook is
registered (or updated) in GitLab with the secret, and the secret is never shown. Otherwise the
secret is printed once, with what to enter in GitLab's webhook settings.
"""
from __future__ import annotations

import sys


def add_webhook_command(commands) -> None:
    webhook = commands.add_parser("webhook", help="GitLab webhook secrets")
    webhook_commands = webhook.add_subparsers()
    add = webhook_commands.add_parser(
        "add", help="create (or replace) a project's own webhook secret, and register the hook where the bot may")
    add.add_argument("--project", type=int, required=True, help="GitLab project id")
    add.add_argument("--url", help="where GitLab delivers (default: $MLTRACKER_PUBLIC_URL/webhooks/gitlab)")
    add.add_argument("--no-register", action="store_true", help="only create the secret; never call GitLab")
    add.add_argument("--backend-store-uri", help="SQLAlchemy URL")
    add.set_defaults(handler=run_webhook_add)


def run_webhook_add(args) -> int:
    from mltracker.service.store_setup import prepare_database
    from mltracker.service.db.engine import Database
    from mltracker.service.gitlab.client import GitLabAdapter, GitLabError
    from mltracker.service.settings import settings_from_env
    from mltracker.service.webhooks import secrets
    from mltracker.service.webhooks.registration import register_hook

    settings = settings_from_env(backend_store_uri=args.backend_store_uri)
    url = args.url or f"{settings.base_url}/webhooks/gitlab"
    db = Database.from_settings(settings)
    try:
        prepare_database(db, settings)
        secret = secrets.new_secret()
        earlier = secrets.stored(db, args.project)
        if settings.gitlab_url and settings.gitlab_token and not args.no_register:
            gitlab = GitLabAdapter(settings.gitlab_url, settings.gitlab_token)
            try:
                hook_id = register_hook(gitlab, args.project, url, secret, earlier.hook_id if earlier else None)
            except GitLabError as exc:
                print(f"mltracker webhook add: GitLab did not let the bot register the hook ({exc}); "
                      "add it by hand as below.", file=sys.stderr)
            else:
                secrets.save(db, args.project, secret, hook_id)
                print(f"project {args.project}: webhook {hook_id} delivers to {url} with a new secret "
                      "(stored hashed, not shown). Only this secret is accepted for the project from now on.")
                return 0
        secrets.save(db, args.project, secret, None)
        print(f"project {args.project}: new webhook secret (shown once, stored hashed):\n\n    {secret}\n\n"
              f"In GitLab: Settings > Webhooks > Add new webhook: URL {url}, Secret token as above, triggers: "
              "Comments, Confidential comments, Merge request events, Pipeline events.\n"
              "Only this secret is accepted for the project from now on.")
        return 0
    finally:
        db.dispose()
