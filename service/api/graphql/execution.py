"""Executing a parsed GraphQL document against schema.py: checks first (MLflow's limits, known
fields), then each root field resolved on its own — a failing field is null with its message in
`errors`, as graphene answers."""
from __future__ import annotations

import math

from mltracker.service.api.graphql import schema
from mltracker.service.api.graphql.suggestions import did_you_mean
from mltracker.service.api.graphql.language import (
    Document,
    EnumValue,
    Field,
    FragmentSpread,
    InlineFragment,
    Operation,
    Variable,
)
from mltracker.service.errors import MlflowError

# MLflow's limits (mlflow/server/graphql/graphql_no_batching.py and its environment defaults).
MAX_DEPTH = 10
MAX_SELECTIONS = 1000
MAX_ROOT_FIELDS = 10
MAX_ALIASES = 10


class QueryError(Exception):
    """The document cannot run: answered as {"data": null, "errors": [message]}."""


def execute(document: Document, variables: dict | None, operation_name: str | None) -> dict:
    try:
        check_limits(document)
        operation = _pick_operation(document, operation_name)
        if operation.kind not in schema.ROOTS:
            raise QueryError(f"Schema is not configured to execute {operation.kind} operation.")
        values = _variable_values(operation, variables or {})
        executor = _Executor(document, values)
        type_name, roots = schema.ROOTS[operation.kind]
        fields = executor.collect(operation.selections, type_name)
        executor.check(fields, type_name, roots)
    except QueryError as exc:
        return {"data": None, "errors": [str(exc)]}
    data = executor.run_roots(fields, type_name, roots)
    return {"data": data, "errors": executor.errors or None}


def check_limits(document: Document) -> None:
    """Depth, total selections, root fields and aliases per level, counted as MLflow counts them."""
    root_fields = total = max_aliases = 0
    for operation in document.operations:
        stack = [(operation.selections, 1, frozenset())]
        while stack:
            selections, depth, visited = stack.pop()
            if depth > MAX_DEPTH:
                raise QueryError(f"Query exceeds maximum depth of {MAX_DEPTH}")
            fields, aliases = _fields_and_aliases(selections, document, visited)
            for item in fields:
                root_fields += depth == 1
                if item.selections:
                    stack.append((item.selections, depth + 1, visited))
                total += 1
                if total > MAX_SELECTIONS:
                    raise QueryError(f"Query exceeds maximum total selections of {MAX_SELECTIONS}")
            max_aliases = max(max_aliases, aliases)
    if root_fields > MAX_ROOT_FIELDS:
        raise QueryError(_limit_message("root fields", MAX_ROOT_FIELDS, root_fields,
                                        "MLFLOW_SERVER_GRAPHQL_MAX_ROOT_FIELDS"))
    if max_aliases > MAX_ALIASES:
        raise QueryError(_limit_message("aliases", MAX_ALIASES, max_aliases, "MLFLOW_SERVER_GRAPHQL_MAX_ALIASES"))


def _limit_message(what: str, limit: int, value: int, variable: str) -> str:
    return (f"GraphQL queries should have at most {limit} {what}, got {value} {what}. "
            f"To increase the limit, set the {variable} environment variable.")


def _fields_and_aliases(selections, document: Document, visited: frozenset):
    fields, aliases, pending, seen = [], 0, list(selections), set(visited)
    while pending:
        item = pending.pop(0)
        if isinstance(item, Field):
            fields.append(item)
            aliases += item.alias is not None
        elif isinstance(item, InlineFragment):
            pending.extend(item.selections)
        elif isinstance(item, FragmentSpread) and item.name not in seen:
            seen.add(item.name)
            fragment = document.fragments.get(item.name)
            if fragment is not None:
                pending.extend(fragment.selections)
    return fields, aliases


def _pick_operation(document: Document, name: str | None) -> Operation:
    if name:
        for operation in document.operations:
            if operation.name == name:
                return operation
        raise QueryError(f"Unknown operation named '{name}'.")
    if len(document.operations) != 1:
        raise QueryError("Must provide operation name if query contains multiple operations."
                         if document.operations else "Must provide an operation.")
    return document.operations[0]


def _variable_values(operation: Operation, given: dict) -> dict:
    if not isinstance(given, dict):
        raise QueryError("Variables must be provided as an object.")
    values = {}
    for definition in operation.variables:
        if definition.name in given:
            values[definition.name] = given[definition.name]
        elif definition.has_default:
            values[definition.name] = definition.default
        elif definition.type.endswith("!"):
            raise QueryError(f"Variable '${definition.name}' of required type '{definition.type}' was not provided.")
    return values


class _Executor:
    def __init__(self, document: Document, variables: dict):
        self.document = document
        self.variables = variables
        self.errors: list[str] = []
        self.context = schema.Context()

    # ---- selections
    def value(self, literal):
        if isinstance(literal, Variable):
            if literal.name not in self.variables:
                return None
            return self.variables[literal.name]
        if isinstance(literal, EnumValue):
            return literal.name
        if isinstance(literal, list):
            return [self.value(v) for v in literal]
        if isinstance(literal, dict):
            return {k: self.value(v) for k, v in literal.items()}
        return literal

    def included(self, directives) -> bool:
        for directive in directives:
            if directive.name in ("skip", "include"):
                condition = self.value(directive.arguments.get("if"))
                if not isinstance(condition, bool):
                    raise QueryError(f"Directive '@{directive.name}' needs a Boolean argument 'if'.")
                if condition == (directive.name == "skip"):
                    return False
            elif directive.name != "component":
                raise QueryError(f"Unknown directive '@{directive.name}'.")
        return True

    def collect(self, selections, type_name: str, visited: frozenset = frozenset()) -> dict[str, list[Field]]:
        """Fields by response key (fragments merged in), in the order they were written."""
        fields: dict[str, list[Field]] = {}
        for item in selections:
            if not self.included(item.directives):
                continue
            if isinstance(item, Field):
                fields.setdefault(item.response_key, []).append(item)
                continue
            if isinstance(item, FragmentSpread):
                fragment = self.document.fragments.get(item.name)
                if fragment is None:
                    raise QueryError(f"Unknown fragment '{item.name}'.")
                if item.name in visited:
                    raise QueryError(f"Cannot spread fragment '{item.name}' within itself.")
                condition, inner, visited = fragment.type_condition, fragment.selections, visited | {item.name}
            else:
                condition, inner = item.type_condition, item.selections
            if condition is None or condition == type_name:
                for key, found in self.collect(inner, type_name, visited).items():
                    fields.setdefault(key, []).extend(found)
        return fields

    # ---- checks before running anything
    def check(self, fields: dict, type_name: str, roots: dict) -> None:
        for same_key in fields.values():
            item = same_key[0]
            if item.name == "__typename":
                continue
            root = roots.get(item.name)
            if root is None:
                raise QueryError(f"Cannot query field '{item.name}' on type '{type_name}'."
                                 + did_you_mean(item.name, roots))
            expected = "inputString" if root.input_type == "String" else "input"
            for argument in item.arguments:
                if argument != expected:
                    raise QueryError(f"Unknown argument '{argument}' on field '{type_name}.{item.name}'.")
            self.check_selection(same_key, root.type, f"{type_name}.{item.name}")

    def check_selection(self, same_key: list[Field], field_type, where: str) -> None:
        item = same_key[0]
        inner = field_type[0] if isinstance(field_type, list) else field_type
        if inner in schema.SCALARS:
            if item.selections:
                raise QueryError(f"Field '{item.name}' must not have a selection since type "
                                 f"'{inner}' has no subfields.")
            return
        if not item.selections:
            raise QueryError(f"Field '{item.name}' of type '{inner}' must have a selection of subfields. "
                             f"Did you mean '{item.name} {{ ... }}'?")
        if item.arguments and not where.startswith(("Query.", "Mutation.")):
            raise QueryError(f"Unknown argument '{next(iter(item.arguments))}' on field '{where}'.")
        selections = [s for f in same_key for s in (f.selections or [])]
        for key, children in self.collect(selections, inner).items():
            child = children[0]
            if child.name == "__typename":
                continue
            if child.name not in schema.TYPES[inner]:
                raise QueryError(f"Cannot query field '{child.name}' on type '{inner}'."
                                 + did_you_mean(child.name, schema.TYPES[inner]))
            if child.arguments:
                raise QueryError(f"Unknown argument '{next(iter(child.arguments))}' on field "
                                 f"'{inner}.{child.name}'.")
            self.check_selection(children, schema.TYPES[inner][child.name], f"{inner}.{child.name}")

    # ---- running
    def run_roots(self, fields: dict, type_name: str, roots: dict) -> dict:
        data = {}
        for key, same_key in fields.items():
            item = same_key[0]
            if item.name == "__typename":
                data[key] = type_name
                continue
            root = roots[item.name]
            try:
                arguments = self.arguments(item, root)
                payload = root.resolve(self.context, arguments)
            except (MlflowError, QueryError) as exc:
                self.errors.append(exc.message if isinstance(exc, MlflowError) else str(exc))
                data[key] = None
                continue
            data[key] = self.complete(same_key, root.type, payload)
        return data

    def arguments(self, item: Field, root: schema.RootField) -> dict:
        if root.input_type == "String":
            value = self.value(item.arguments.get("inputString"))
            return {"input_string": value}
        given = self.value(item.arguments.get("input"))
        if given is None:
            return {}
        if not isinstance(given, dict):
            raise QueryError(f"Expected value of type '{root.input_type}', found {given!r}.")
        allowed = schema.INPUTS[root.input_type]
        converted = {}
        for name, value in given.items():
            if name not in allowed:
                raise QueryError(f"Field '{name}' is not defined by type '{root.input_type}'.")
            if value is not None:
                converted[schema.snake_case(name)] = value
        return converted

    def complete(self, same_key: list[Field], field_type, value, parent_type: str | None = None):
        if value is None:
            return None
        if isinstance(field_type, list):
            if not isinstance(value, list):
                value = [value]
            return [self.complete(same_key, field_type[0], v, parent_type) for v in value]
        if field_type in schema.SCALARS:
            return self.scalar(field_type, value, (parent_type, same_key[0].name))
        selections = [s for f in same_key for s in (f.selections or [])]
        result = {}
        for key, children in self.collect(selections, field_type).items():
            name = children[0].name
            if name == "__typename":
                result[key] = field_type
                continue
            resolver = schema.RESOLVERS.get((field_type, name))
            child_type = schema.TYPES[field_type][name]
            try:
                child = resolver(self.context, value) if resolver else value.get(schema.snake_case(name))
            except MlflowError as exc:
                self.errors.append(exc.message)
                result[key] = None
                continue
            if child is None and resolver is None and field_type not in schema.NOT_PROTO:
                child = schema.proto_default(child_type)
            result[key] = self.complete(children, child_type, child, field_type)
        return result

    def scalar(self, kind: str, value, where):
        if kind == schema.LONG:
            return str(value)
        if kind == schema.FLOAT:
            try:
                number = float(value)
            except (TypeError, ValueError):
                number = math.nan
            if math.isfinite(number):
                return number
            if math.isnan(number) and where in schema.NAN_AS_NULL:
                return None
            self.errors.append(f"Float cannot represent non numeric value: {number}")
            return None
        if kind == schema.INT:
            return int(value)
        if kind == schema.BOOLEAN:
            return bool(value)
        return value if isinstance(value, str) else str(value)
