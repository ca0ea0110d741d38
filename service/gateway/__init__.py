"""MLflow's AI Gateway configuration, per project: secrets, model definitions, endpoints, bindings."""
