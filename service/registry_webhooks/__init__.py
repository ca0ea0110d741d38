"""MLflow's registry webhooks: per-project subscriptions to registry events, delivered HMAC-signed
through the durable job queue (kept apart from `service/webhooks`, which receives GitLab's)."""
