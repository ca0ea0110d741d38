"""GitLab webhooks' trust: per-project secrets and registering the project hook with GitLab."""
