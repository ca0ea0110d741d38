"""GitLab identity and project scoping: who is calling, and may they read or write this project."""
from mltracker.service.auth.flask_auth import authenticate_api_request, authorizer, current_grant, install_auth

__all__ = ["authenticate_api_request", "authorizer", "current_grant", "install_auth"]
