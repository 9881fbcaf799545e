"""An in-memory DynamoDB for measuring our code without moto's cost.

moto's DynamoDB spends about 20 ms per UpdateItem parsing expressions, which
buries the handler's own cost in the benchmarks. This fake answers GetItem,
PutItem, DeleteItem, UpdateItem and Scan for the expression forms this project
writes (SET with if_not_exists, ADD to numbers and sets; conditions with
AND/OR/NOT, parentheses, comparisons, attribute_exists, attribute_not_exists
and contains) and fails loudly on anything else. A unit test runs the same
operations against it and moto and requires identical results.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from due_local.fakes import FakeError, FakeService

_TOKEN = re.compile(r"\s*(<=|>=|<>|[(),=<>]|[#:]?[A-Za-z_][A-Za-z0-9_.]*)")


def _tokens(text: str) -> list[str]:
    tokens, position = [], 0
    text = text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match:
            raise NotImplementedError(f"DynamoDbFake cannot parse {text[position:]!r}")
        tokens.append(match.group(1))
        position = match.end()
    return tokens


def _number(value: dict) -> float | int:
    text = value["N"]
    return float(text) if "." in text else int(text)


def _compare(left: dict | None, operator: str, right: dict) -> bool:
    if left is None:
        return False
    (left_type, left_value), (right_type, right_value) = next(iter(left.items())), next(iter(right.items()))
    if left_type != right_type:
        return operator == "<>"
    if left_type == "N":
        left_value, right_value = _number(left), _number(right)
    return {"=": left_value == right_value, "<>": left_value != right_value, "<": left_value < right_value,
            "<=": left_value <= right_value, ">": left_value > right_value, ">=": left_value >= right_value}[operator]


class _Expression:
    def __init__(self, text: str, names: dict[str, str], values: dict[str, dict]):
        self.tokens, self.position, self.names, self.values = _tokens(text), 0, names, values

    def peek(self) -> str | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.tokens[self.position]
        if expected is not None and token.upper() != expected:
            raise NotImplementedError(f"DynamoDbFake expected {expected} at {token!r}")
        self.position += 1
        return token

    def path(self) -> str:
        token = self.take()
        return self.names[token] if token.startswith("#") else token

    def operand(self, item: dict) -> dict | None:
        if self.peek().startswith(":"):
            return self.values[self.take()]
        return item.get(self.path())

    # condition := or ; or := and (OR and)* ; and := not (AND not)* ; not := NOT not | primary
    def condition(self, item: dict) -> bool:
        result = self._and(item)
        while self.peek() and self.peek().upper() == "OR":
            self.take()
            result = self._and(item) or result
        return result

    def _and(self, item: dict) -> bool:
        result = self._not(item)
        while self.peek() and self.peek().upper() == "AND":
            self.take()
            result = self._not(item) and result
        return result

    def _not(self, item: dict) -> bool:
        if self.peek().upper() == "NOT":
            self.take()
            return not self._not(item)
        return self._primary(item)

    def _primary(self, item: dict) -> bool:
        token = self.peek()
        if token == "(":
            self.take()
            result = self.condition(item)
            self.take(")")
            return result
        if token in ("attribute_exists", "attribute_not_exists"):
            self.take()
            self.take("(")
            exists = self.path() in item
            self.take(")")
            return exists if token == "attribute_exists" else not exists
        if token == "contains":
            self.take()
            self.take("(")
            container = item.get(self.path())
            self.take(",")
            value = self.operand(item)
            self.take(")")
            if container is None:
                return False
            (kind, members), (_, wanted) = next(iter(container.items())), next(iter(value.items()))
            return wanted in members if kind in ("SS", "NS", "L") else str(wanted) in str(members)
        left = self.operand(item)
        operator = self.take()
        return _compare(left, operator, self.operand(item))

    def update(self, item: dict) -> None:
        while self.peek():
            clause = self.take().upper()
            while True:
                if clause == "SET":
                    target = self.path()
                    self.take("=")
                    item[target] = self._set_value(item)
                elif clause == "ADD":
                    target = self.path()
                    self._add(item, target, self.values[self.take()])
                else:
                    raise NotImplementedError(f"DynamoDbFake does not support {clause}")
                if self.peek() != ",":
                    break
                self.take(",")

    def _set_value(self, item: dict) -> dict:
        if self.peek() == "if_not_exists":
            self.take()
            self.take("(")
            existing = item.get(self.path())
            self.take(",")
            default = self.values[self.take()]
            self.take(")")
            return existing if existing is not None else default
        return self.values[self.take()]

    @staticmethod
    def _add(item: dict, target: str, value: dict) -> None:
        current = item.get(target)
        if "N" in value:
            total = (_number(current) if current else 0) + _number(value)
            item[target] = {"N": str(total)}
        elif "SS" in value:
            members = list(current["SS"]) if current else []
            item[target] = {"SS": members + [m for m in value["SS"] if m not in members]}
        else:
            raise NotImplementedError(f"DynamoDbFake cannot ADD {value}")


class DynamoDbFake(FakeService):
    service_id = "dynamodb"

    def __init__(self):
        super().__init__()
        self.tables: dict[str, dict[str, Any]] = {}  # name -> {"key": [names], "items": {key tuple: item}}

    def create_table(self, TableName, KeySchema, AttributeDefinitions, **_kwargs):
        self.tables[TableName] = {"key": [k["AttributeName"] for k in KeySchema], "items": {}}
        return {"TableDescription": {"TableName": TableName, "TableStatus": "ACTIVE"}}

    def _table(self, name):
        if name not in self.tables:
            raise FakeError("ResourceNotFoundException", f"table {name} not found")
        return self.tables[name]

    def _key(self, table, key_or_item):
        return tuple(next(iter(key_or_item[k].values())) for k in table["key"])

    def _check(self, item, kwargs):
        condition = kwargs.get("ConditionExpression")
        if condition and not _Expression(condition, kwargs.get("ExpressionAttributeNames", {}),
                                         kwargs.get("ExpressionAttributeValues", {})).condition(item):
            extra = {"Item": copy.deepcopy(item)} if (
                kwargs.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and item) else {}
            raise FakeError("ConditionalCheckFailedException", "The conditional request failed", extra=extra)

    def get_item(self, TableName, Key, **_kwargs):
        item = self._table(TableName)["items"].get(self._key(self._table(TableName), Key))
        return {"Item": copy.deepcopy(item)} if item else {}

    def put_item(self, TableName, Item, **kwargs):
        table = self._table(TableName)
        self._check(table["items"].get(self._key(table, Item), {}), kwargs)
        table["items"][self._key(table, Item)] = copy.deepcopy(Item)
        return {}

    def delete_item(self, TableName, Key, **_kwargs):
        table = self._table(TableName)
        table["items"].pop(self._key(table, Key), None)
        return {}

    def scan(self, TableName, **_kwargs):
        items = [copy.deepcopy(i) for i in self._table(TableName)["items"].values()]
        return {"Items": items, "Count": len(items), "ScannedCount": len(items)}

    def update_item(self, TableName, Key, UpdateExpression, **kwargs):
        table = self._table(TableName)
        key = self._key(table, Key)
        current = table["items"].get(key, {})
        self._check(current, kwargs)
        updated = copy.deepcopy(current) or copy.deepcopy(Key)
        _Expression(UpdateExpression, kwargs.get("ExpressionAttributeNames", {}),
                    kwargs.get("ExpressionAttributeValues", {})).update(updated)
        table["items"][key] = updated
        return {"Attributes": copy.deepcopy(updated)} if kwargs.get("ReturnValues") == "ALL_NEW" else {}
