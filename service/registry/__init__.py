"""The model registry: registered models, versions, tags, aliases, search, and promote."""
