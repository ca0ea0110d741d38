"""A statement beyond SQLite's fixed limits is the request's fault: 400, not a 503 inviting retries."""
from __future__ import annotations

from flask import Flask
from sqlalchemy import text

from mltracker.service.api.errors import install_database_error_handler, install_error_handlers
from mltracker.service.db.engine import Database


def test_expression_tree_limit_is_a_400(tmp_path):
    db = Database(f"sqlite:///{tmp_path}/limits.db")
    app = Flask(__name__)
    install_error_handlers(app)
    install_database_error_handler(app)

    @app.get("/deep")
    def deep():
        with db.read() as conn:
            conn.execute(text("SELECT 1 WHERE " + " AND ".join(["1 = 1"] * 2000))).all()
        return "unreachable"

    @app.get("/locked")
    def locked():
        from sqlalchemy.exc import OperationalError
        import sqlite3

        raise OperationalError("BEGIN IMMEDIATE", {}, sqlite3.OperationalError("database is locked"))

    try:
        response = app.test_client().get("/deep")
        assert response.status_code == 400
        assert response.get_json()["error_code"] == "INVALID_PARAMETER_VALUE"
        transient = app.test_client().get("/locked")
        assert transient.status_code == 503
        assert transient.get_json()["error_code"] == "TEMPORARILY_UNAVAILABLE"
    finally:
        db.dispose()
