"""POST (or GET) /graphql, per project and, in local mode, at the root — next to MLflow's UI.

The answer is MLflow's: `{"data": …, "errors": [message, …] | null}` with status 200, also when a
field failed; a request that is not GraphQL at all (no query, unreadable JSON, a syntax error) is
refused with an MLflow error and status 400."""
from __future__ import annotations

import json

from flask import Blueprint, request

from mltracker.service.api.graphql.execution import execute
from mltracker.service.api.graphql.language import GraphQLSyntaxError, parse
from mltracker.service.api.json_response import json_response
from mltracker.service.api.request import message
from mltracker.service.errors import invalid

bp = Blueprint("graphql", __name__)


@bp.route("/graphql", methods=["GET", "POST"])
def graphql():
    msg = message()
    query = msg.string("query", required=True)
    variables = msg.raw("variables")
    if isinstance(variables, str):  # GET: a JSON object in the query string
        try:
            variables = json.loads(variables) if variables.strip() else None
        except ValueError:
            raise invalid("Variables must be a JSON object.") from None
    if variables is not None and not isinstance(variables, dict):
        raise invalid("Variables must be a JSON object.")
    try:
        document = parse(query)
    except GraphQLSyntaxError as exc:
        raise invalid(str(exc)) from None
    return json_response(execute(document, variables, msg.string("operationName")))
