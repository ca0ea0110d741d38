"""Every error leaves as MLflow JSON; nothing internal reaches the client."""
from __future__ import annotations

import logging

from flask import Flask, request
from werkzeug.exceptions import HTTPException, NotFound, RequestEntityTooLarge

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

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(_exc):
        limit = request.max_content_length
        return json_response(
            {"error_code": "INVALID_PARAMETER_VALUE",
             "message": f"The request body is larger than this server accepts ({limit} bytes)."},
            413,
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


def oversized_head_body(limit: int) -> bytes:
    """The body of the HTTP layer's 431, written before the application sees the request."""
    from mltracker.service.api.json_response import encode

    return encode({"error_code": "REQUEST_LIMIT_EXCEEDED",
                   "message": f"The request line and headers are larger than this server accepts ({limit} bytes)."})


# SQLite's fixed limits on one statement: the request is too big, and the same request fails again.
SQLITE_LIMIT_MESSAGES = (
    "expression tree is too large",
    "too many sql variables",
    "too many terms in compound select",
    "parser stack overflow",
    "like or glob pattern too complex",
    "string or blob too big",
    "too many arguments on function",
    "at most 64 tables in a join",
)


def install_database_error_handler(app: Flask) -> None:
    from sqlalchemy.exc import DBAPIError, OperationalError

    @app.errorhandler(OperationalError)
    def _database_unavailable(exc):
        if _is_statement_timeout(exc.orig):
            log.warning("database statement stopped (time limit or client gone) on %s %s",
                        request.method, request.path)
            return json_response(
                {"error_code": "DEADLINE_EXCEEDED",
                 "message": "The request took the database longer than this server allows; narrow it down."},
                504,
            )
        if _is_sqlite_limit(exc.orig):
            return json_response(
                {"error_code": "INVALID_PARAMETER_VALUE",
                 "message": "The request is too large for the database; narrow the filter or send less at once."},
                400,
            )
        log.warning("database unavailable on %s %s", request.method, request.path)
        return json_response(
            {"error_code": "TEMPORARILY_UNAVAILABLE", "message": "The database is temporarily unavailable; retry."},
            503,
        )

    @app.errorhandler(DBAPIError)
    def _database_error(_exc):
        log.exception("database error on %s %s", request.method, request.path)
        return json_response({"error_code": "INTERNAL_ERROR", "message": "Internal server error"}, 500)


def _is_sqlite_limit(error) -> bool:
    import sqlite3

    message = str(error).lower()
    return isinstance(error, sqlite3.Error) and any(limit in message for limit in SQLITE_LIMIT_MESSAGES)


def _is_statement_timeout(error) -> bool:
    """SQLite's interrupt (our progress handler) or PostgreSQL's query_canceled (57014)."""
    import sqlite3

    if isinstance(error, sqlite3.OperationalError):
        return str(error) == "interrupted"
    return getattr(error, "sqlstate", None) == "57014"
