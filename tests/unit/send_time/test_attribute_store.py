"""#11's DynamoDB store: 100 keys a call, unprocessed keys retried, a slow store is late, not a failure."""

import threading

from due import aws as due_aws
from due.send_time.attribute_store import AttributeStore, item_data
from due.send_time.lookup import Recipient
from due_local.tables import create_table


def people(*keys):
    return [Recipient(str(i), key) for i, key in enumerate(keys, 1)]


def test_each_recipient_gets_its_item_as_text_without_the_key_and_without_non_text_types(offers):
    found = AttributeStore(due_aws.client("dynamodb"), offers, "id", 2).look_up("any", people("c-1", "c-2", "x"))
    assert found.data == {"1": {"Offer": "20% off boots", "Points": "120", "Vip": "true"},
                          "2": {"Offer": "Free <b>socks</b> & laces", "Points": "120", "Vip": "true"}}
    assert found.missing == {"3"} and found.late == set() and found.store_calls == 1


def test_a_recipient_without_a_key_is_missing_and_a_key_asked_twice_is_asked_once(offers):
    calls = []
    client = due_aws.client("dynamodb")
    original = client.batch_get_item

    def spy(**kwargs):
        calls.append([k["id"]["S"] for k in kwargs["RequestItems"][offers]["Keys"]])
        return original(**kwargs)

    client.batch_get_item = spy
    found = AttributeStore(client, offers, "id", 2).look_up("any", people("c-1", "", "c-1"))
    assert calls == [["c-1"]]
    assert set(found.data) == {"1", "3"} and found.missing == {"2"}


def test_250_recipients_are_three_calls_of_at_most_100_keys(aws):
    dynamodb = aws.client("dynamodb")
    create_table(dynamodb, "big", "id")
    sizes = []
    original = dynamodb.batch_get_item

    def spy(**kwargs):
        sizes.append(len(kwargs["RequestItems"]["big"]["Keys"]))
        return original(**kwargs)

    dynamodb.batch_get_item = spy
    found = AttributeStore(dynamodb, "big", "id", 5).look_up("any", people(*(f"k{i}" for i in range(250))))
    assert sizes == [100, 100, 50] and found.store_calls == 3 and len(found.missing) == 250


class PartialAnswers:
    """Answers BatchGetItem one key at a time, the others unprocessed, as DynamoDB may under load."""

    def __init__(self, items):
        self.items, self.calls = items, 0

    def batch_get_item(self, RequestItems):
        self.calls += 1
        (table, request), = RequestItems.items()
        first, rest = request["Keys"][0], request["Keys"][1:]
        found = [self.items[first["id"]["S"]]] if first["id"]["S"] in self.items else []
        return {"Responses": {table: found}, "UnprocessedKeys": {table: {"Keys": rest}} if rest else {}}


def test_unprocessed_keys_are_asked_again_until_answered(clock):
    store = PartialAnswers({k: {"id": {"S": k}, "Offer": {"S": f"offer {k}"}} for k in ("a", "b", "c")})
    found = AttributeStore(store, "t", "id", 5, sleep=clock.sleep, clock=clock).look_up("x", people("a", "b", "c"))
    assert store.calls == 3 and found.store_calls == 3
    assert {ref: d["Offer"] for ref, d in found.data.items()} == {"1": "offer a", "2": "offer b", "3": "offer c"}
    assert clock.sleeps == [0.05, 0.1]  # backoff between the retries


class SlowStore:
    def __init__(self):
        self.release = threading.Event()

    def batch_get_item(self, RequestItems):
        self.release.wait(5)
        (table, _), = RequestItems.items()
        return {"Responses": {table: []}}


def test_a_store_slower_than_the_budget_makes_its_recipients_late_not_a_failure():
    slow = SlowStore()
    found = AttributeStore(slow, "t", "id", 0.05).look_up("x", people("a", "b"))
    slow.release.set()
    assert found.late == {"1", "2"} and found.data == {} and found.missing == set()


def test_item_data_turns_numbers_and_booleans_into_text():
    assert item_data({"id": {"S": "k"}, "n": {"N": "1.5"}, "b": {"BOOL": False}, "m": {"M": {}}}, "id") == {
        "n": "1.5", "b": "false"}
