"""Every error leaves as MLflow JSON; nothing internal reaches the client."""
from __future__ import annotations

import logging

from flask import Flask, request
from werkzeug.exceptions import HTTPException, NotFound

from mltracker.service.api.json_response import json_response
from mltracker.service.errors import MlflowError

log = logging.getLogger("mltracker")


def install_error_handlers(app: Flask) -> None:
    @app.errorhandler(MlflowError)
    def _mlflow_error(exc: MlflowError):
        return json_response(exc.to_dict(), exc.http_status)

    @app.errorhandler(NotFound)
    def _not_found(_exc):
        return json_response(
            {"error_code": "ENDPOINT_NOT_FOUND", "message": f"No endpoint {request.method} {request.path}"}, 404
        )

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        code = {405: "BAD_REQUEST", 413: "INVALID_PARAMETER_VALUE"}.get(exc.code, "BAD_REQUEST")
        if exc.code and exc.code >= 500:
            code = "INTERNAL_ERROR"
        return json_response({"error_code": code, "message": exc.description or exc.name}, exc.code or 400)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        return json_response({"error_code": "INTERNAL_ERROR", "message": "Internal server error"}, 500)


def install_database_error_handler(app: Flask) -> None:
    from sqlalchemy.exc import DBAPIError, OperationalError

    @app.errorhandler(OperationalError)
    def _database_unavailable(_exc):
        log.warning("database unavailable on %s %s", request.method, request.path)
        return json_response(
            {"error_code": "TEMPORARILY_UNAVAILABLE", "message": "The database is temporarily unavailable; retry."},
            503,
        )

    @app.errorhandler(DBAPIError)
    def _database_error(_exc):
        log.exception("database error on %s %s", request.method, request.path)
        return json_response({"error_code": "INTERNAL_ERROR", "message": "Internal server error"}, 500)
