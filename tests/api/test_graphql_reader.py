"""The GraphQL reader behind /graphql: the language MLflow's UI and clients write, and bounded input."""
from __future__ import annotations

import pytest

from mltracker.service.api.graphql.execution import QueryError, check_limits
from mltracker.service.api.graphql.language import (
    MAX_NESTING,
    EnumValue,
    Field,
    FragmentSpread,
    GraphQLSyntaxError,
    InlineFragment,
    Variable,
    parse,
)
from mltracker.service.api.graphql.suggestions import did_you_mean


def test_operation_with_variables_directives_aliases_and_literals():
    document = parse('''
        # a comment
        query Q($data: MlflowSearchRunsInput! = {maxResults: 5}, $ids: [String!]) @component(name: "x") {
          runs: mlflowSearchRuns(input: {experimentIds: $ids, runViewType: ACTIVE_ONLY, orderBy: ["a", "b"],
                                         maxResults: -12, filter: "x\\"y\\u00e9", f: 1.5e3, on: true, n: null}) {
            runs { ...RunFields ... on MlflowRunExtension { info { runName } } __typename }
          }
        }
        fragment RunFields on MlflowRunExtension { info @skip(if: false) { runUuid } }
    ''')
    (operation,) = document.operations
    assert (operation.kind, operation.name) == ("query", "Q")
    assert [(v.name, v.type) for v in operation.variables] == [("data", "MlflowSearchRunsInput!"), ("ids", "[String!]")]
    assert operation.variables[0].default == {"maxResults": 5}
    (runs,) = operation.selections
    assert isinstance(runs, Field) and (runs.alias, runs.name) == ("runs", "mlflowSearchRuns")
    given = runs.arguments["input"]
    assert given["experimentIds"] == Variable("ids") and given["runViewType"] == EnumValue("ACTIVE_ONLY")
    assert given["orderBy"] == ["a", "b"] and given["maxResults"] == -12 and given["f"] == 1500.0
    assert given["filter"] == 'x"yé' and given["on"] is True and given["n"] is None
    inner = runs.selections[0].selections
    assert isinstance(inner[0], FragmentSpread) and isinstance(inner[1], InlineFragment)
    assert document.fragments["RunFields"].type_condition == "MlflowRunExtension"


def test_shorthand_query_and_block_string():
    document = parse('{ test(inputString: """\n    two\n      lines\n""") { output } }')
    assert document.operations[0].kind == "query"
    assert document.operations[0].selections[0].arguments["inputString"] == "two\n  lines"


@pytest.mark.parametrize("text", [
    "", "{", "{ }", "query { a(x: ) { b } }", "{ a(x: 1 }", "{ a(x: 01) { b } }", "{ a @ }",
    "fragment on on T { a }", "{ a } ~", '{ a(x: "unterminated) }', "{ a(x: $v) }x", "mutation M",
])
def test_malformed_text_is_a_syntax_error(text):
    with pytest.raises(GraphQLSyntaxError):
        parse(text)


def test_nesting_is_bounded_before_anything_recurses_deeply():
    with pytest.raises(GraphQLSyntaxError, match="nested"):
        parse("{ a " * (MAX_NESTING + 1) + "}" * (MAX_NESTING + 1))
    with pytest.raises(GraphQLSyntaxError, match="nested"):
        parse("{ a(x: " + "[" * 10_000 + "]" * 10_000 + ") { b } }")
    with pytest.raises(GraphQLSyntaxError, match="longer"):
        parse("{ a }" + " " * 200_000)


def test_mlflow_limits_count_fragments_too():
    spread = "{ x: test(inputString: \"\") { output } ...F }"
    fragment = " fragment F on Query { " + " ".join(f"a{i}: test(inputString: \"\") {{ output }}" for i in range(10)) + " }"
    with pytest.raises(QueryError, match="at most 10 root fields, got 11"):
        check_limits(parse(spread + fragment))
    cyclic = "{ a { ...F } } fragment F on T { b { ...F } }"
    with pytest.raises(QueryError, match="maximum depth of 10"):  # as MLflow's scan ends a cycle
        check_limits(parse(cyclic))


FIELDS = ["runId", "runUuid", "runName", "experimentId", "userId", "status", "startTime", "endTime",
          "artifactUri", "lifecycleStage", "name", "tags", "key", "value", "step", "timestamp"]


@pytest.mark.parametrize("name", ["nmae", "runid", "RUNID", "run", "start", "stpe", "tag", "lifecycle",
                                  "experiment_id", "zzzzzz", "values", "time"])
def test_suggestions_read_as_graphql_core_writes_them(name):
    from graphql import pyutils  # graphql-core, installed with mlflow (the test extra): MLflow's reference

    expected = pyutils.did_you_mean(pyutils.suggestion_list(name, FIELDS))
    assert did_you_mean(name, FIELDS) == expected
