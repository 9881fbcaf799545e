"""A segment refresh's steps as the state machine runs them, on moto (S3, SNS, DynamoDB) and the fakes."""

from __future__ import annotations

import csv
import io
import json

import pytest

from due.advanced_segmentation import membership, segment_query
from due.advanced_segmentation.steps import (
    CURRENT_MEMBERSHIP,
    Clients,
    ConcurrentRun,
    QueryTimedOut,
    SegmentChanged,
    Settings,
    Steps,
)
from tests.unit.advanced_segmentation.conftest import BUCKET, result_file

DOMAIN = "people"
APP = "0123456789abcdef0123456789abcdef"
ATTRIBUTE = "segment_openers"


class NoPacing:
    def wait(self, key, per_second):
        pass


@pytest.fixture
def topic(aws):
    return aws.client("sns").create_topic(Name="segments")["TopicArn"]


@pytest.fixture
def heard(aws, topic):
    sqs, sns = aws.client("sqs"), aws.client("sns")
    queue = sqs.create_queue(QueueName="heard")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})

    def read() -> list[dict]:
        found = []
        while messages := sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", []):
            found += [json.loads(m["Body"]) for m in messages]
            for m in messages:
                sqs.delete_message(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"])
        return found
    return read


def make_steps(aws, topic, mode="CustomerProfiles", stop=lambda: False, **overrides) -> Steps:
    settings = Settings(**{"mode": mode, "segment_token": "openers", "bucket": BUCKET, "database": "due_events",
                           "table": "events", "workgroup": "wg", "query_name": "email_openers",
                           "query_values": "minimum_opens=2,days=30", "domain_name": DOMAIN,
                           "pinpoint_application_id": APP, "notifications_topic_arn": topic, **overrides})
    return Steps(settings, Clients(aws.client, settings, limiter=NoPacing()), stop)


@pytest.fixture
def people(aws, fakes):
    """Profiles by email; bo has two profiles (a shared address)."""
    client = aws.client("customer-profiles")
    client.create_domain(DomainName=DOMAIN, DefaultExpirationDays=30)
    ids = {}
    for name, email in [("ana", "ana@example.com"), ("bo1", "bo@example.com"), ("bo2", "bo@example.com"),
                        ("cy", "cy@example.com"), ("dee", "dee@example.com")]:
        ids[name] = client.create_profile(DomainName=DOMAIN, EmailAddress=email)["ProfileId"]
    return ids


def tagged(fakes) -> set[str]:
    return {pid for pid, p in fakes.profiles.profiles.items() if p.get("Attributes", {}).get(ATTRIBUTE) == "true"}


def refresh(steps: Steps, s3, result_rows: list[list[str]], run: str, header=("email", "opens")) -> dict:
    """One run from a query result (as if Athena had written it) to finish; returns the final state."""
    key = result_file(s3, f"athena-results/{run}.csv", result_rows, header)
    state = {"run": {"id": run}, "config": {"poll_seconds": 1, "maximum_polls": 3},
             "kept": steps._kept_membership(), "query": {"id": f"q-{run}", "result_bucket": BUCKET,
                                                          "result_key": key}}
    for action in ("apply", "write_audience", "finish"):
        state = json.loads(json.dumps(steps.run(action, state)))  # what Step Functions carries is JSON
        while not state["step"]["done"]:
            state = json.loads(json.dumps(steps.run(action, state)))
    return state


def update_calls(fakes) -> list[dict]:
    return [c.params for c in fakes.profiles.calls_of("UpdateProfile")]


def test_first_run_tags_everyone_found_counts_who_has_no_profile(aws, fakes, s3, topic, heard, people):
    steps = make_steps(aws, topic)
    state = refresh(steps, s3, [["ana@example.com", "3"], ["bo@example.com", "2"], ["zed@example.com", "4"]], "r1")
    assert tagged(fakes) == {people["ana"], people["bo1"], people["bo2"]}
    counts = state["apply"]["counts"]
    assert (counts["entered"], counts["writes"], counts["without_profile"]) == (3, 3, 1)
    assert [n["outcome"] for n in heard()] == ["succeeded"]
    assert fakes.profiles.profiles[people["ana"]]["Attributes"] == {ATTRIBUTE: "true"}  # nothing else written


def test_an_unchanged_result_writes_nothing_and_a_changed_one_exactly_the_difference(aws, fakes, s3, topic,
                                                                                     people):
    steps = make_steps(aws, topic)
    refresh(steps, s3, [["ana@example.com", "3"], ["cy@example.com", "2"]], "r1")
    before = len(update_calls(fakes))

    state = refresh(steps, s3, [["ana@example.com", "4"], ["cy@example.com", "2"]], "r2")
    assert len(update_calls(fakes)) == before and state["apply"]["counts"].get("writes", 0) == 0

    state = refresh(steps, s3, [["cy@example.com", "2"], ["dee@example.com", "9"]], "r3")
    written = update_calls(fakes)[before:]
    assert sorted((c["ProfileId"], c["Attributes"][ATTRIBUTE]) for c in written) == sorted(
        [(people["ana"], ""), (people["dee"], "true")])
    assert tagged(fakes) == {people["cy"], people["dee"]}
    assert fakes.profiles.segment_members  # the fake computes the definition's members from this attribute


def test_a_person_without_a_profile_is_tagged_once_their_profile_exists(aws, fakes, s3, topic, people):
    steps = make_steps(aws, topic)
    refresh(steps, s3, [["zed@example.com", "3"]], "r1")
    zed = aws.client("customer-profiles").create_profile(DomainName=DOMAIN, EmailAddress="zed@example.com")
    state = refresh(steps, s3, [["zed@example.com", "3"]], "r2")
    assert tagged(fakes) == {zed["ProfileId"]}
    assert state["apply"]["counts"]["looked_up_again"] == 1


def test_other_writers_attributes_are_untouched(aws, fakes, s3, topic, people):
    client = aws.client("customer-profiles")
    client.update_profile(DomainName=DOMAIN, ProfileId=people["ana"],
                          Attributes={"email_opened": "true", "segment_other": "true"})
    steps = make_steps(aws, topic)
    refresh(steps, s3, [["ana@example.com", "3"]], "r1")
    refresh(steps, s3, [], "r2")
    assert fakes.profiles.profiles[people["ana"]]["Attributes"] == {"email_opened": "true", "segment_other": "true"}


def test_chunks_stop_and_resume_with_the_same_outcome_and_the_membership_in_parts(aws, fakes, s3, topic, people,
                                                                                  monkeypatch):
    monkeypatch.setattr(membership, "PART_BYTES", 30)  # a chunk per member or so
    steps = make_steps(aws, topic)
    rows = [["ana@example.com", "3"], ["bo@example.com", "2"], ["cy@example.com", "1"], ["dee@example.com", "5"]]
    state = refresh(steps, s3, rows, "r1")
    assert len(state["apply"]["parts"]) >= 3
    assert tagged(fakes) == set(people.values())
    state = refresh(steps, s3, rows[1:3], "r2")
    assert tagged(fakes) == {people["bo1"], people["bo2"], people["cy"]}
    # Every part of the kept membership is the new run's; the old run's parts are gone.
    current = json.loads(s3.get_object(Bucket=BUCKET, Key=CURRENT_MEMBERSHIP)["Body"].read())
    listed = {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="membership/runs/")["Contents"]}
    assert current["run"] == "r2" and set(current["parts"]) == listed


def test_a_chunk_stopped_for_time_goes_on_from_its_checkpoint(aws, fakes, s3, topic, people):
    calls = {"n": 0}

    def stop_every_time() -> bool:
        calls["n"] += 1
        return True

    steps = make_steps(aws, topic, stop=stop_every_time)
    state = refresh(steps, s3, [["ana@example.com", "3"], ["cy@example.com", "1"], ["dee@example.com", "5"]], "r1")
    assert len(state["apply"]["parts"]) == 3  # one member per chunk
    assert tagged(fakes) == {people["ana"], people["cy"], people["dee"]}
    assert len(update_calls(fakes)) == 3  # nobody written twice


def test_a_result_out_of_order_fails_before_anyone_leaves(aws, fakes, s3, topic, people):
    steps = make_steps(aws, topic)
    refresh(steps, s3, [["ana@example.com", "3"]], "r1")
    with pytest.raises(membership.OutOfOrder):
        refresh(steps, s3, [["dee@example.com", "3"], ["cy@example.com", "1"]], "r2")
    assert json.loads(s3.get_object(Bucket=BUCKET, Key=CURRENT_MEMBERSHIP)["Body"].read())["run"] == "r1"


def test_profile_id_keys_need_no_search_by_address(aws, fakes, s3, topic, people):
    steps = make_steps(aws, topic, person_key="profile_id")
    refresh(steps, s3, sorted([[people["cy"], "1"], ["no-such-profile", "1"]]), "r1", header=("profile_id", "n"))
    assert tagged(fakes) == {people["cy"]}


def test_the_audience_file_is_the_import_format_with_the_querys_columns(aws, fakes, s3, topic, people,
                                                                       monkeypatch):
    import moto.s3.models

    from due.advanced_segmentation import audience

    # Several parts: tiny ones, with moto's copy of S3's 5 MiB minimum part size lowered to match.
    monkeypatch.setattr(audience, "PART_BYTES", 40)
    monkeypatch.setattr(moto.s3.models, "S3_UPLOAD_PART_MIN_SIZE", 40)
    steps = make_steps(aws, topic)
    refresh(steps, s3, [["", "1"], ["ana@example.com", "3"], ["cy@example.com", "2"], ["dee@example.com", "1"]], "r1")
    body = s3.get_object(Bucket=BUCKET, Key="audience/openers.csv")["Body"].read().decode()
    assert list(csv.reader(io.StringIO(body))) == [
        ["id", "email", "phone", "opens"], ["", "ana@example.com", "", "3"],
        ["", "cy@example.com", "", "2"], ["", "dee@example.com", "", "1"]]  # no id column: no id (not the key)
    assert audience.layout(["endpoint_id", "Email Address", "mobile", "score"]) == (
        ["id", "email", "phone", "endpoint_id", "score"], [None, 1, 2, 0, 3])
    assert audience.layout(["email", "id", "x"]) == (["id", "email", "phone", "x"], [1, 0, None, 2])


def test_pinpoint_mode_adds_and_removes_only_its_token_in_batches_of_100(aws, fakes, s3, topic):
    pinpoint = aws.client("pinpoint")
    endpoints = [f"e{i:04d}" for i in range(150)]
    for endpoint in endpoints:
        pinpoint.update_endpoint(ApplicationId=APP, EndpointId=endpoint, EndpointRequest={
            "ChannelType": "EMAIL", "Address": f"{endpoint}@example.com",
            "Attributes": {"AdvancedSegmentTarget": ["other"], "Plan": ["gold"]}})
    steps = make_steps(aws, topic, mode="Pinpoint")
    rows = [[e, "1"] for e in [*endpoints, "missing"]]
    state = refresh(steps, s3, sorted(rows), "r1", header=("endpoint_id", "n"))
    calls = fakes.pinpoint.calls_of("UpdateEndpointsBatch")
    assert [len(c.params["EndpointBatchRequest"]["Item"]) for c in calls] == [100, 50]
    assert state["apply"]["counts"]["without_endpoint"] == 1
    assert ("x", "missing") not in fakes.pinpoint.endpoints and (APP, "missing") not in fakes.pinpoint.endpoints
    first = fakes.pinpoint.endpoints[(APP, "e0000")]["Attributes"]
    assert first == {"AdvancedSegmentTarget": ["other", "openers"], "Plan": ["gold"]}

    refresh(steps, s3, sorted(rows), "r2", header=("endpoint_id", "n"))  # unchanged: no write
    assert len(fakes.pinpoint.calls_of("UpdateEndpointsBatch")) == 2

    refresh(steps, s3, sorted(rows)[1:], "r3", header=("endpoint_id", "n"))  # e0000 leaves
    assert fakes.pinpoint.endpoints[(APP, "e0000")]["Attributes"]["AdvancedSegmentTarget"] == ["other"]
    assert fakes.pinpoint.endpoints[(APP, "e0001")]["Attributes"]["AdvancedSegmentTarget"] == ["other", "openers"]


def test_the_query_is_started_once_per_run_and_watched_until_it_ends(aws, fakes, s3, topic):
    steps = make_steps(aws, topic)
    state = {"run": {"id": "r1"}, "config": {"poll_seconds": 1, "maximum_polls": 3}}
    state = steps.run("start_query", state)
    again = steps.run("start_query", {"run": {"id": "r1"}, "config": state["config"]})
    assert again["query"]["id"] == state["query"]["id"]  # a retried start starts nothing new
    execution = fakes.athena.executions[state["query"]["id"]]
    assert execution["QueryExecutionContext"] == {"Database": "due_events"} and execution["WorkGroup"] == "wg"
    assert "FROM events" in execution["Query"] and ">= 2" in execution["Query"]
    state = steps.run("check_query", state)
    assert state["step"]["done"] and state["query"]["result_key"] == f"athena-results/{state['query']['id']}.csv"
    header = s3.get_object(Bucket=BUCKET, Key=state["query"]["result_key"])["Body"].read()
    assert header == b'"email","opens","last_opened_on"\n'  # the fake's empty table: a header only


def test_a_failed_query_raises_without_athenas_reason_and_a_cancelled_one_with_it(aws, fakes, s3, topic):
    # A failure's reason can quote data (a failed cast names the value); the message names the query instead.
    fakes.athena.query_endings.append(("FAILED", "cannot cast 'ana@example.com' to integer"))
    steps = make_steps(aws, topic)
    state = steps.run("start_query", {"run": {"id": "r1"}, "config": {"poll_seconds": 1, "maximum_polls": 3}})
    with pytest.raises(segment_query.QueryFailed, match=f"{state['query']['id']} FAILED") as raised:
        steps.run("check_query", state)
    assert "ana@example.com" not in str(raised.value)
    fakes.athena.query_endings.append(("CANCELLED", "Query exceeded the workgroup's data usage limit"))
    state = steps.run("start_query", {"run": {"id": "r2"}, "config": {"poll_seconds": 1, "maximum_polls": 3}})
    with pytest.raises(segment_query.QueryFailed, match="CANCELLED: Query exceeded the workgroup's data usage"):
        steps.run("check_query", state)


def started(steps: Steps, s3, result_rows: list[list[str]], run: str) -> dict:
    """A run whose query has ended with this result, before ApplyMembership (the state Step Functions carries)."""
    key = result_file(s3, f"athena-results/{run}.csv", result_rows)
    return {"run": {"id": run}, "config": {}, "kept": steps._kept_membership(),
            "query": {"id": f"q-{run}", "result_bucket": BUCKET, "result_key": key}}


def fail(steps: Steps, state: dict, error: str = "X", cause: str = "boom") -> None:
    """The Catch: NotifyFailure gets the failed task's input with the error beside it."""
    steps.run("notify_failure", dict(json.loads(json.dumps(state)), error={"Error": error, "Cause": cause}))


def test_a_failure_after_the_membership_was_applied_keeps_what_was_written(aws, fakes, s3, topic, heard, people):
    steps = make_steps(aws, topic)
    refresh(steps, s3, [["ana@example.com", "3"]], "r1")
    state = started(steps, s3, [["ana@example.com", "3"], ["cy@example.com", "2"]], "r2")
    state = json.loads(json.dumps(steps.run("apply", state)))  # cy tagged; then WriteAudience fails
    assert people["cy"] in tagged(fakes)
    heard()
    fail(steps, state, "QueryFailed", json.dumps({"errorMessage": "boom", "errorType": "X"}))
    notification, = heard()
    assert notification["outcome"] == "failed" and notification["error"] == "QueryFailed: boom"
    refresh(steps, s3, [["ana@example.com", "3"]], "r3")  # cy no longer matches: the token goes
    assert tagged(fakes) == {people["ana"]}


def test_a_failure_in_the_middle_of_a_chunk_is_corrected_by_the_next_run(aws, fakes, s3, topic, people, monkeypatch):
    from due.profiles import ProfileStore

    steps = make_steps(aws, topic)
    refresh(steps, s3, [["ana@example.com", "3"], ["bo@example.com", "3"]], "r1")
    checkpoint = started(steps, s3, [["cy@example.com", "2"], ["dee@example.com", "2"]], "r2")
    real, written = ProfileStore.set_attributes, []

    def third_write_fails(store, profile_id, attributes):
        if len(written) == 3:
            raise RuntimeError("the invocation ended here")
        written.append(profile_id)
        real(store, profile_id, attributes)

    monkeypatch.setattr(ProfileStore, "set_attributes", third_write_fails)
    with pytest.raises(RuntimeError):
        steps.run("apply", checkpoint)  # ana, bo1 and bo2 untagged; then the chunk dies, cy and dee not reached
    monkeypatch.undo()
    assert tagged(fakes) == set()
    fail(steps, checkpoint)
    fail(steps, checkpoint)  # NotifyFailure retried: the same outcome
    # ana matches again (she was untagged by the failed run), cy and bo do not, dee does.
    state = refresh(steps, s3, [["ana@example.com", "3"], ["dee@example.com", "1"]], "r3")
    assert tagged(fakes) == {people["ana"], people["dee"]}
    assert state["apply"]["counts"]["rechecked"] >= 3  # the keys the failed run may have changed were looked up
    refresh(steps, s3, [["ana@example.com", "3"], ["dee@example.com", "1"]], "r4")
    assert len(update_calls(fakes)) == 3 + 3 + 2  # r1, the failed r2, r3 (ana and dee); r4 (unchanged) nothing


def test_a_failure_before_anything_was_applied_keeps_the_previous_membership(aws, fakes, s3, topic, people):
    steps = make_steps(aws, topic)
    refresh(steps, s3, [["ana@example.com", "3"]], "r1")
    fail(steps, {"run": {"id": "r2"}, "config": {}, "kept": steps._kept_membership(),
                 "query": {"id": "q-r2", "polls": 1, "state": "FAILED"}}, "QueryFailed")
    assert json.loads(s3.get_object(Bucket=BUCKET, Key=CURRENT_MEMBERSHIP)["Body"].read())["run"] == "r1"
    refresh(steps, s3, [], "r3")
    assert tagged(fakes) == set()


def test_a_failure_after_finish_wrote_the_membership_keeps_it(aws, fakes, s3, topic, heard, people, monkeypatch):
    steps = make_steps(aws, topic)
    refresh(steps, s3, [["ana@example.com", "3"]], "r1")
    state = started(steps, s3, [["cy@example.com", "2"]], "r2")
    for action in ("apply", "write_audience"):
        state = json.loads(json.dumps(steps.run(action, state)))
    monkeypatch.setattr(steps, "_announce", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("publish failed")))
    with pytest.raises(RuntimeError):
        steps.run("finish", state)
    monkeypatch.undo()
    fail(steps, state, "RuntimeError", "publish failed")
    current = json.loads(s3.get_object(Bucket=BUCKET, Key=CURRENT_MEMBERSHIP)["Body"].read())
    assert current["run"] == "r2"
    for part in current["parts"]:
        s3.head_object(Bucket=BUCKET, Key=part)  # every part it names is still there
    refresh(steps, s3, [], "r3")
    assert tagged(fakes) == set()


def test_a_finish_that_cannot_delete_old_parts_still_succeeds(aws, fakes, s3, topic, heard, people, monkeypatch):
    steps = make_steps(aws, topic)
    refresh(steps, s3, [["ana@example.com", "3"]], "r1")
    monkeypatch.setattr(steps, "_delete", lambda keys: (_ for _ in ()).throw(RuntimeError("S3 kept 1 part")))
    heard()
    refresh(steps, s3, [["cy@example.com", "3"]], "r2")
    notification, = heard()
    assert notification["outcome"] == "succeeded" and notification["old_parts_left"] == 1


def test_two_runs_at_once_cannot_both_replace_the_membership(aws, fakes, s3, topic, people, monkeypatch):
    steps = make_steps(aws, topic)
    refresh(steps, s3, [["ana@example.com", "3"]], "r1")
    slow = json.loads(json.dumps(steps.run("apply", started(steps, s3, [["cy@example.com", "1"]], "slow"))))
    fast = json.loads(json.dumps(steps.run("apply", started(steps, s3, [["dee@example.com", "1"]], "fast"))))
    fast = json.loads(json.dumps(steps.run("finish", fast)))
    # The slow run read current.json before the fast one replaced it; its own check would pass if it read it now
    # at the wrong moment, so the conditional write is what refuses it.
    monkeypatch.setattr(steps, "_kept_membership", lambda: {"run": "r1", "parts": [], "etag": None})
    with pytest.raises(ConcurrentRun):
        steps.run("finish", slow)
    monkeypatch.undo()
    assert json.loads(s3.get_object(Bucket=BUCKET, Key=CURRENT_MEMBERSHIP)["Body"].read())["run"] == "fast"


@pytest.mark.parametrize("change", [{"segment_token": "readers"}, {"domain_name": "others"},
                                    {"person_key": "phone"}])
def test_a_changed_segment_is_refused_before_its_query_runs(aws, fakes, s3, topic, people, change):
    refresh(make_steps(aws, topic), s3, [["ana@example.com", "3"]], "r1")
    steps = make_steps(aws, topic, **change)
    with pytest.raises(SegmentChanged, match=next(iter(change)).replace("segment_", "").replace("_name", "")):
        steps.run("start_query", {"run": {"id": "r2"}, "config": {"poll_seconds": 1, "maximum_polls": 3}})
    assert not fakes.athena.executions


def test_bad_keys_are_counted_and_skipped_and_never_quoted(aws, fakes, s3, topic, heard, people):
    steps = make_steps(aws, topic)
    long_key = "x" * 256 + "@example.com"
    state = refresh(steps, s3, sorted([[" ana@example.com", "1"], ["cy@example.com", "1"], [long_key, "1"]]), "r1")
    assert tagged(fakes) == {people["cy"]}
    assert state["apply"]["counts"]["refused_key"] == 2
    fakes.profiles.fail_next("SearchProfiles", "BadRequestException", message="Values: dee@example.com is invalid")
    state = refresh(steps, s3, [["cy@example.com", "1"], ["dee@example.com", "1"]], "r2")
    assert state["apply"]["counts"]["refused_key"] == 1 and "dee@example.com" not in json.dumps(heard())


def test_an_unknown_step_is_refused(aws, topic):
    with pytest.raises(ValueError, match="unknown step"):
        make_steps(aws, topic).run("_delete", {})


def test_a_retried_finish_completes_and_a_run_overtaken_by_another_is_not_kept(aws, fakes, s3, topic, heard, people):
    steps = make_steps(aws, topic)
    state = refresh(steps, s3, [["ana@example.com", "3"]], "r1")
    steps.run("finish", state)  # Step Functions ran Finish again (its answer was lost): nothing changes
    assert json.loads(s3.get_object(Bucket=BUCKET, Key=CURRENT_MEMBERSHIP)["Body"].read())["run"] == "r1"
    key = result_file(s3, "athena-results/slow.csv", [["cy@example.com", "1"]])
    slow = {"run": {"id": "slow"}, "config": {}, "kept": steps._kept_membership(),
            "query": {"id": "q", "result_bucket": BUCKET, "result_key": key}}
    slow = json.loads(json.dumps(steps.run("apply", slow)))
    refresh(steps, s3, [["dee@example.com", "1"]], "r2")  # another run finished meanwhile
    with pytest.raises(ConcurrentRun):
        steps.run("finish", slow)
    assert json.loads(s3.get_object(Bucket=BUCKET, Key=CURRENT_MEMBERSHIP)["Body"].read())["run"] == "r2"


def test_a_query_still_running_is_looked_at_again_then_given_up_after_the_maximum(aws, fakes, s3, topic):
    steps = make_steps(aws, topic)
    state = steps.run("start_query", {"run": {"id": "r1"}, "config": {"poll_seconds": "1", "maximum_polls": "2"}})
    assert state["config"] == {"poll_seconds": 1, "maximum_polls": 2}  # numbers, for the Wait state
    fakes.athena.executions[state["query"]["id"]]["Status"] = {"State": "RUNNING"}
    state = json.loads(json.dumps(steps.run("check_query", state)))
    assert state["step"]["done"] is False and state["query"]["polls"] == 1
    with pytest.raises(QueryTimedOut, match="still RUNNING after 2 looks"):
        steps.run("check_query", state)


def test_pinpoint_mode_a_chunk_that_wrote_then_died_is_corrected_by_the_next_run(aws, fakes, s3, topic):
    pinpoint = aws.client("pinpoint")
    for endpoint in ("e0", "e1", "e2", "e3"):
        pinpoint.update_endpoint(ApplicationId=APP, EndpointId=endpoint, EndpointRequest={
            "ChannelType": "EMAIL", "Address": f"{endpoint}@example.com", "Attributes": {"Plan": ["gold"]}})
    steps = make_steps(aws, topic, mode="Pinpoint")

    def carrying() -> set[str]:
        return {e for (app, e), found in fakes.pinpoint.endpoints.items()
                if "openers" in (found.get("Attributes") or {}).get("AdvancedSegmentTarget", [])}

    refresh(steps, s3, [["e0", "1"], ["e1", "1"]], "r1", header=("endpoint_id", "n"))
    key = result_file(s3, "athena-results/r2.csv", [["e2", "1"], ["e3", "1"]], ("endpoint_id", "n"))
    checkpoint = {"run": {"id": "r2"}, "config": {}, "kept": steps._kept_membership(),
                  "query": {"id": "q-r2", "result_bucket": BUCKET, "result_key": key}}
    client = steps.clients("pinpoint")
    real = client.update_endpoints_batch

    def written_then_died(**params):
        real(**params)
        raise RuntimeError("the invocation ended after the batch was written")

    client.update_endpoints_batch = written_then_died
    with pytest.raises(RuntimeError):
        steps.run("apply", checkpoint)
    client.update_endpoints_batch = real
    assert carrying() == {"e2", "e3"}
    fail(steps, checkpoint)
    refresh(steps, s3, [["e0", "1"], ["e2", "1"]], "r3", header=("endpoint_id", "n"))
    assert carrying() == {"e0", "e2"}
    assert fakes.pinpoint.endpoints[(APP, "e3")]["Attributes"] == {"AdvancedSegmentTarget": [], "Plan": ["gold"]}
