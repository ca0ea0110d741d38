"""MLflow's /graphql endpoint (the web UI reads experiments, runs and metric histories through it),
implemented without graphene: language.py reads the query, schema.py is MLflow's schema over our
REST payloads, execution.py runs it."""
