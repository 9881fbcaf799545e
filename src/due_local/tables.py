"""DynamoDB tables as the templates create them (on-demand, one string partition key)."""

from __future__ import annotations


def create_table(dynamodb, name: str, key: str) -> str:
    dynamodb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                          AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
                          KeySchema=[{"AttributeName": key, "KeyType": "HASH"}])
    return name
