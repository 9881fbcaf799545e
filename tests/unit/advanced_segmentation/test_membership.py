"""The streamed merge: who entered, left and stayed; checkpoints anywhere; the sort checked."""

from __future__ import annotations

import pytest

from due.advanced_segmentation import membership
from due.advanced_segmentation.membership import Member, Position, walk
from due.csv_stream import S3Object
from tests.unit.advanced_segmentation.conftest import BUCKET, result_file


def kept(s3, key: str, members: list[Member]) -> str:
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"".join(m.line() for m in members))
    return key


def changes(s3, result_key: str, parts: list[str], position: Position | None = None) -> list[tuple]:
    position = position or Position()
    return [(kind, row.key if row else None, member.key if member else None)
            for kind, row, member in walk(s3, S3Object(BUCKET, result_key), BUCKET, parts, position)]


def test_entered_left_and_stayed_in_key_order(s3):
    result_file(s3, "r.csv", [["ana@example.com", "3"], ["cy@example.com", "2"], ["dee@example.com", "5"]])
    parts = [kept(s3, "p1", [Member("bo@example.com", ["p-bo"]), Member("cy@example.com", ["p-cy"])]),
             kept(s3, "p2", [Member("eve@example.com", [])])]
    assert changes(s3, "r.csv", parts) == [
        ("entered", "ana@example.com", None), ("left", None, "bo@example.com"),
        ("stayed", "cy@example.com", "cy@example.com"), ("entered", "dee@example.com", None),
        ("left", None, "eve@example.com")]


def test_an_unchanged_result_only_stays(s3):
    result_file(s3, "r.csv", [["a", "1"], ["b", "1"]])
    parts = [kept(s3, "p", [Member("a", ["1"]), Member("b", ["2"])])]
    assert {kind for kind, _, _ in changes(s3, "r.csv", parts)} == {"stayed"}


def test_first_run_everyone_enters_and_an_empty_result_everyone_leaves(s3):
    result_file(s3, "r.csv", [["a", "1"], ["b", "1"]])
    assert [k for k, _, _ in changes(s3, "r.csv", [])] == ["entered", "entered"]
    result_file(s3, "empty.csv", [])
    parts = [kept(s3, "p", [Member("a", ["1"])])]
    assert changes(s3, "empty.csv", parts) == [("left", None, "a")]


def test_a_walk_resumed_from_any_position_gives_the_rest_exactly(s3):
    result_file(s3, "r.csv", [[f"k{i:03d}", "1"] for i in range(0, 60, 2)])  # even keys
    parts = [kept(s3, f"p{n}", [Member(f"k{i:03d}", ["x"]) for i in range(n * 20, n * 20 + 20, 3)])
             for n in range(3)]
    whole = changes(s3, "r.csv", parts)
    for stop_after in range(len(whole)):
        position = Position()
        first = []
        for item in walk(s3, S3Object(BUCKET, "r.csv"), BUCKET, parts, position):
            first.append(item)
            if len(first) > stop_after:
                break
        saved = Position.from_dict(position.to_dict())
        rest = changes(s3, "r.csv", parts, saved)
        assert [(k, r.key if r else None, m.key if m else None) for k, r, m in first] + rest == whole


def test_a_result_out_of_order_or_with_a_key_twice_fails_naming_the_row_not_the_key(s3):
    result_file(s3, "r.csv", [["b@example.com", "1"], ["a@example.com", "1"]])
    with pytest.raises(membership.OutOfOrder, match="result row 2") as refused:
        changes(s3, "r.csv", [])
    assert "@" not in str(refused.value)
    result_file(s3, "twice.csv", [["a", "1"], ["a", "2"]])
    with pytest.raises(membership.OutOfOrder, match="result row 2"):
        changes(s3, "twice.csv", [])


def test_a_kept_membership_out_of_order_or_corrupt_fails(s3):
    result_file(s3, "r.csv", [])
    with pytest.raises(membership.OutOfOrder, match="kept membership line 2"):
        changes(s3, "r.csv", [kept(s3, "p", [Member("b"), Member("a")])])
    s3.put_object(Bucket=BUCKET, Key="bad", Body=b'["a"]\n')
    with pytest.raises(membership.CorruptMembership):
        changes(s3, "r.csv", ["bad"])


def test_rows_without_a_key_are_blank_and_keys_compare_by_code_point(s3):
    # Code point order is UTF-8 byte order: "Z" < "a" < "é"; Athena orders varchar the same way.
    result_file(s3, "r.csv", [["", "1"], ["Zoe", "1"], ["ana", "1"], ["élise", "1"]])
    assert changes(s3, "r.csv", []) == [("blank", "", None), ("entered", "Zoe", None), ("entered", "ana", None),
                                        ("entered", "élise", None)]


def test_part_writer_keeps_order_while_members_wait_for_their_targets():
    writer = membership.PartWriter()
    waiting = Member("a")
    writer.add(waiting)
    with pytest.raises(RuntimeError):
        writer.body()
    waiting.targets = ["e-a"]
    writer.add(Member("b", []))
    writer.settle()
    assert writer.body() == b'{"k":"a","t":["e-a"]}\n{"k":"b","t":[]}\n'


def test_a_saved_position_holds_no_key_and_a_resumed_walk_still_checks_the_order_across_the_break(s3):
    import json

    result_file(s3, "r.csv", [["b@example.com", "1"], ["c@example.com", "1"], ["a@example.com", "1"]])
    parts = [kept(s3, "p", [Member("b@example.com", ["1"]), Member("z@example.com", ["2"])])]
    position = Position()
    walked = walk(s3, S3Object(BUCKET, "r.csv"), BUCKET, parts, position)
    assert [next(walked)[0], next(walked)[0]] == ["stayed", "entered"]  # b, then c
    saved = position.to_dict()
    assert "@" not in json.dumps(saved)  # addresses stay out of the state machine's history
    with pytest.raises(membership.OutOfOrder, match="result row 3"):
        changes(s3, "r.csv", parts, Position.from_dict(saved))  # a@ after c@, across the break


def test_a_resumed_walk_checks_the_kept_membership_across_the_break_too(s3):
    result_file(s3, "r.csv", [])
    parts = [kept(s3, "p1", [Member("m")]), kept(s3, "p2", [Member("c")])]
    position = Position()
    walked = walk(s3, S3Object(BUCKET, "r.csv"), BUCKET, parts, position)
    assert next(walked) == ("left", None, Member("m"))
    with pytest.raises(membership.OutOfOrder, match="kept membership line 2"):
        changes(s3, "r.csv", parts, Position.from_dict(position.to_dict()))
