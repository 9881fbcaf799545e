"""Placing calls: once only, within the rate and the call slots, refusals reported, throttling retried."""

from __future__ import annotations

import datetime
import json

import pytest
from botocore.exceptions import ClientError

from due import aws as due_aws
from due.connect_channel.call_slots import CallSlots
from due.connect_channel.channels import ConnectCalls, EndUserMessagingVoice, placing_client
from due.connect_channel.contact_events_handler import ended_contact
from due.connect_channel.dialer import Decision, Dialer, MarkerReader, OptOutList
from due.connect_channel.requests import ROW_FORMAT
from due.connect_channel.rules import CallRules
from due.events import BadEvent
from due.rate_limit import RateLimiter
from due.send_markers import SentMarkers, SetAside
from due_local.tables import create_table
from tests.archive_doubles import RecordingArchiveSqs, archive_of
from tests.unit.connect_channel.test_requests_and_rules import EXAMPLES

INSTANCE = "11111111-2222-3333-4444-555555555555"
# 16:00 in New York, 11:00 in Honolulu: inside 09:00-20:00 in every US zone (a row without its zone needs all).
NOON_UTC = datetime.datetime(2026, 11, 28, 21, 0, tzinfo=datetime.UTC).timestamp()


class FakeClock:
    def __init__(self, now: float = NOON_UTC):
        self.now, self.sleeps = now, []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def tables(aws):
    create_table(aws.client("dynamodb"), "sent", "deduplication_id")
    create_table(aws.client("dynamodb"), "pacing", "key")
    return aws.client("sqs").create_queue(QueueName="dlq.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]


def request(row=1, number="+14255550101", time_zone=""):
    return ROW_FORMAT.parser(["phone", "message", "timezone"])("b/incoming/f.csv@v1", row,
                                                               [number, "Hello", time_zone])


def dialer(tables, clock=None, channel=None, limit=10, opt_outs="Default", **kwargs):
    clock = clock or FakeClock()
    dynamodb = due_aws.client("dynamodb")
    slots = CallSlots(dynamodb, "pacing", f"calls-in-progress:{INSTANCE}", limit, 1800, clock=clock)
    channel = channel or ConnectCalls(placing_client("connect"), INSTANCE, "arn:aws:connect:us-east-1:123456789012:"
                                      f"instance/{INSTANCE}/contact-flow/flow-1", queue_id="queue-1")
    return Dialer(channel, SentMarkers(dynamodb, "sent"),
                  RateLimiter(dynamodb, "pacing", clock=clock, sleep=clock.sleep), f"connect:{INSTANCE}", 2,
                  SetAside(due_aws.client("sqs"), tables),
                  CallRules(frozenset({"US", "CA"}), 9, 20, "America/New_York"),
                  OptOutList(due_aws.client("pinpoint-sms-voice-v2"), opt_outs) if opt_outs else None,
                  slots if channel.uses_slots else None, "", clock=clock, sleep=clock.sleep,
                  marker_reader=MarkerReader(dynamodb, "sent"), **kwargs)


def test_a_call_goes_through_the_instance_flow_and_queue_with_the_message(fakes, tables):
    decision = dialer(tables).call(request())
    (contact,) = fakes.connect.contacts
    assert (contact["InstanceId"], contact["ContactFlowId"], contact["QueueId"]) == (INSTANCE, "flow-1", "queue-1")
    assert contact["Attributes"] == {"message": "Hello"}
    assert contact["ClientToken"] == request().deduplication_id
    assert (decision.outcome.outcome, decision.outcome.call_id) == ("called", contact["ContactId"])


def test_a_redelivered_call_is_not_placed_again_even_after_the_first_call_ended(fakes, tables):
    first = dialer(tables).call(request())
    dialer(tables).note_reported(request())  # as the sender does once the outcome is written
    fakes.connect.disconnect(first.outcome.call_id)  # Connect's token would now start a new contact
    again = dialer(tables).call(request())
    assert (again.outcome, again.hold) == (None, 0)
    assert len(fakes.connect.contacts) == 1


def test_calls_are_paced_at_the_rate_across_senders(fakes, tables):
    clock = FakeClock()
    for row in (1, 2, 3):
        dialer(tables, clock).call(request(row, f"+1425555010{row}"))
    assert clock.sleeps == [0.5, 0.5]  # 2 a second: one permit every 500 ms


def test_no_more_calls_than_the_slots_and_a_released_slot_is_taken_again(fakes, tables):
    clock = FakeClock()
    dial = dialer(tables, clock, limit=2, slot_wait_seconds=6)
    placed = [dial.call(request(row, f"+1425555010{row}")) for row in (1, 2)]
    held = dial.call(request(3, "+14255550103"))
    assert (held.outcome, held.hold) == (None, 30)
    assert clock.sleeps.count(2) == 3  # looked again every 2 s for the 6 s it may wait in the sender
    fakes.connect.disconnect(placed[0].outcome.call_id)
    CallSlots(due_aws.client("dynamodb"), "pacing", f"calls-in-progress:{INSTANCE}").release(
        placed[0].outcome.call_id)
    assert dial.call(request(3, "+14255550103")).outcome.outcome == "called"
    assert fakes.connect.fast_busy == []


def test_a_slot_whose_contact_event_never_came_expires(fakes, tables):
    clock = FakeClock()
    dial = dialer(tables, clock, limit=1, slot_wait_seconds=0)
    dial.call(request(1))
    assert dial.call(request(2, "+14255550102")).hold == 30
    clock.now += 1801  # the lease's time-out
    assert dial.call(request(2, "+14255550102")).outcome.outcome == "called"


def test_outside_the_window_the_call_is_held_until_it_opens(fakes, tables):
    clock = FakeClock(datetime.datetime(2026, 11, 28, 12, 0, tzinfo=datetime.UTC).timestamp())  # 07:00 New York
    decision = dialer(tables, clock).call(request())
    # No zone in the row: every US zone must be inside 09:00-20:00, the last to open is Honolulu's at 19:00 UTC.
    assert (decision.outcome, decision.hold) == (None, 7 * 3600)
    assert dialer(tables, clock).call(request(time_zone="Europe/Paris")).outcome.outcome == "called"  # 13:00 there
    assert len(fakes.connect.contacts) == 1


def test_a_number_on_the_opt_out_list_is_refused_and_never_dialled(fakes, tables):
    due_aws.client("pinpoint-sms-voice-v2").put_opted_out_number(OptOutListName="Default",
                                                                 OptedOutNumber="+14255550101")
    decision = dialer(tables).call(request())
    assert (decision.outcome.outcome, decision.outcome.reason) == ("refused", "on the do-not-call (opt-out) list")
    assert dialer(tables).call(request(2, "+14255550102")).outcome.outcome == "called"
    assert [c["DestinationPhoneNumber"] for c in fakes.connect.contacts] == ["+14255550102"]


def test_a_call_placed_before_its_number_opted_out_is_not_reported_again_as_refused(fakes, tables):
    assert dialer(tables).call(request()).outcome.outcome == "called"
    dialer(tables).note_reported(request())
    due_aws.client("pinpoint-sms-voice-v2").put_opted_out_number(OptOutListName="Default",
                                                                 OptedOutNumber="+14255550101")
    assert dialer(tables).call(request()).outcome is None  # the redelivery: one outcome per call


def test_bad_numbers_and_other_countries_are_refused_before_dialling(fakes, tables):
    outcomes = [dialer(tables).call(request(i, n)).outcome for i, n in enumerate(["+1425", "+33142685300"])]
    assert [o.outcome for o in outcomes] == ["invalid number", "refused"]
    assert fakes.connect.calls_of("StartOutboundVoiceContact") == []


def test_throttling_is_retried_with_backoff_and_the_same_token(fakes, tables):
    clock = FakeClock()
    fakes.connect.fail_next("StartOutboundVoiceContact", "ThrottlingException", times=2)
    decision = dialer(tables, clock).call(request())
    assert decision.outcome.outcome == "throttled then called"
    tokens = [c.params["ClientToken"] for c in fakes.connect.calls_of("StartOutboundVoiceContact")]
    assert tokens == [request().deduplication_id] * 3 and len(fakes.connect.contacts) == 1
    assert [s for s in clock.sleeps if s >= 1] == [1, 2]


@pytest.mark.parametrize("code", ["InternalServiceException", "ServiceUnavailableException"])
def test_a_server_error_while_calling_is_set_aside_and_never_repeated(fakes, tables, aws, code):
    # botocore's standard retries would repeat it with the same token, and Connect starts a new contact for a
    # token whose contact ended: the placing client tries once, and the dialler does not know the call did not go.
    fakes.connect.fail_next("StartOutboundVoiceContact", code, status=500)
    decision = dialer(tables).call(request())
    assert decision.outcome.outcome == "set aside" and "may have been placed" in decision.outcome.reason
    assert len(fakes.connect.calls_of("StartOutboundVoiceContact")) == 1
    (message,) = aws.client("sqs").receive_message(QueueUrl=tables)["Messages"]
    assert json.loads(message["Body"])["row"] == 1
    assert dialer(tables).call(request()).outcome.outcome == "set aside"  # the redelivery: not dialled either
    assert fakes.connect.contacts == []


def test_a_lost_answer_is_set_aside_and_a_connection_never_made_is_retried(fakes, tables):
    from botocore.exceptions import EndpointConnectionError, ReadTimeoutError

    class Failing:
        uses_slots = True

        def __init__(self, error):
            self.error = error

        def message_refusal(self, _message):
            return None

        def call(self, *_args):
            raise self.error

    lost = dialer(tables, channel=Failing(ReadTimeoutError(endpoint_url="https://connect"))).call(request())
    assert lost.outcome.outcome == "set aside"
    with pytest.raises(EndpointConnectionError):
        dialer(tables, channel=Failing(EndpointConnectionError(endpoint_url="https://connect"))).call(request(2))
    assert dialer(tables).call(request(2)).outcome.outcome == "called"


def test_a_refusal_is_reported_the_slot_given_back_and_other_numbers_go_on(fakes, tables):
    fakes.connect.fail_next("StartOutboundVoiceContact", "DestinationNotAllowedException", message="not allowed")
    dial = dialer(tables, limit=1, slot_wait_seconds=0)
    refused = dial.call(request())
    assert (refused.outcome.outcome, refused.outcome.reason) == (
        "refused", "DestinationNotAllowedException: not allowed")
    assert dial.call(request(2, "+14255550102")).outcome.outcome == "called"


def test_an_unknown_outcome_is_set_aside_not_dialled_again(fakes, tables, aws):
    class Crashing:
        uses_slots = True

        def message_refusal(self, _message):
            return None

        def call(self, *_args):
            raise TimeoutError("read timed out")

    with pytest.raises(TimeoutError):
        dialer(tables, channel=Crashing()).call(request())
    decision = dialer(tables).call(request())
    assert decision.outcome.outcome == "set aside"
    (message,) = aws.client("sqs").receive_message(QueueUrl=tables, MessageAttributeNames=["All"])["Messages"]
    assert json.loads(message["Body"])["row"] == 1
    assert fakes.connect.contacts == []


def test_end_user_messaging_voice_speaks_without_call_slots(fakes, tables):
    voice = EndUserMessagingVoice(due_aws.client("pinpoint-sms-voice-v2"), "pool-1", "MATTHEW")
    decision = dialer(tables, channel=voice).call(request())
    (sent,) = fakes.sms.voice_messages
    assert (sent["OriginationIdentity"], sent["MessageBody"], sent["VoiceId"]) == ("pool-1", "Hello", "MATTHEW")
    assert decision.outcome.call_id == sent["MessageId"]


def test_only_a_disconnected_contact_event_releases_a_slot():
    event = json.loads((EXAMPLES / "contact_event_disconnected.json").read_text())
    assert ended_contact(json.dumps(event)) == "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
    event["detail"]["eventType"] = "CONNECTED_TO_SYSTEM"
    assert ended_contact(json.dumps(event)) is None
    with pytest.raises(BadEvent):
        ended_contact(json.dumps({"detail-type": "Something Else", "detail": {}}))


def test_a_long_wait_is_held_no_longer_than_sqs_allows_counted_from_the_receive(fakes, tables):
    from due.connect_channel.dialer import MAX_HOLD_SECONDS, SENDER_TIMEOUT_SECONDS
    from scripts.cfn import load_template

    # 20:30 in New York: the window (09:00-20:00) opens in 12.5 hours, more than a message may stay invisible.
    clock = FakeClock(datetime.datetime(2026, 11, 29, 1, 30, tzinfo=datetime.UTC).timestamp())
    decision = dialer(tables, clock).call(request())
    timeout = load_template("Connect_as_a_Channel")["Resources"]["SenderFunction"]["Properties"]["Timeout"]
    assert timeout == SENDER_TIMEOUT_SECONDS
    # ChangeMessageVisibility counts 12 hours from the receive, which was up to the sender's timeout ago.
    assert decision.outcome is None and 0 < decision.hold == MAX_HOLD_SECONDS <= 43_200 - timeout - 60


@pytest.mark.parametrize("code", ["ResourceNotFoundException", "AccessDeniedException", "ThrottlingException"])
def test_an_error_before_the_dial_gives_the_marker_and_the_slot_back_so_the_redelivery_calls(
        fakes, tables, no_backoff, code):
    # Throttling past the client's own 5 attempts; the others are not retried.
    fakes.sms.fail_next("DescribeOptedOutNumbers", code, times=5 if code == "ThrottlingException" else 1)
    with pytest.raises(ClientError):
        dialer(tables).call(request())
    assert CallSlots(due_aws.client("dynamodb"), "pacing", f"calls-in-progress:{INSTANCE}").in_progress() == 0
    assert dialer(tables).call(request()).outcome.outcome == "called"  # not set aside: nothing was placed


def test_a_rate_limiter_failure_before_the_dial_gives_the_marker_and_the_slot_back(fakes, tables):
    class BrokenLimiter:
        def wait(self, *_args):
            raise ConnectionError("the pacing table is unreachable")

    dial = dialer(tables)
    dial._limiter = BrokenLimiter()
    with pytest.raises(ConnectionError):
        dial.call(request())
    assert CallSlots(due_aws.client("dynamodb"), "pacing", f"calls-in-progress:{INSTANCE}").in_progress() == 0
    assert dialer(tables).call(request()).outcome.outcome == "called"


def test_a_contact_event_that_comes_before_the_slot_is_renamed_still_frees_it(aws, tables):
    slots = CallSlots(due_aws.client("dynamodb"), "pacing", f"calls-in-progress:{INSTANCE}", 1, 1800)
    assert slots.acquire("row-1")
    slots.release("contact-1")  # the call ended at once: its DISCONNECTED event beat the sender's started()
    slots.started("row-1", "contact-1")
    assert slots.in_progress() == 0
    assert slots.acquire("row-2")


def test_old_tombstones_are_pruned_so_the_item_stays_small(aws, tables):
    from due.connect_channel.call_slots import TOMBSTONE_PRUNE_AT, TOMBSTONE_SECONDS

    clock = FakeClock()
    slots = CallSlots(due_aws.client("dynamodb"), "pacing", "calls-in-progress:i", 10, 1800, clock=clock)
    slots.acquire("row-0")
    for contact in range(TOMBSTONE_PRUNE_AT + 1):
        slots.release(f"contact-{contact}")
    clock.now += TOMBSTONE_SECONDS + 1
    slots.release("contact-last")
    item = due_aws.client("dynamodb").get_item(TableName="pacing", Key={"key": {"S": "calls-in-progress:i"}})["Item"]
    assert len(item["ended"]["M"]) == TOMBSTONE_PRUNE_AT + 2 - 100  # 100 removed by that release, more by the next


def test_a_redelivery_of_a_call_placed_is_done_at_once_even_with_every_slot_taken_or_the_window_shut(fakes, tables):
    clock = FakeClock()
    dial = dialer(tables, clock, limit=1, slot_wait_seconds=20)
    assert dial.call(request()).outcome.outcome == "called"  # holds the only slot until its call ends
    dial.note_reported(request())
    assert dial.call(request()) == Decision()  # not held for a slot it does not need: no receive burnt
    assert clock.sleeps.count(2) == 0
    clock.now += 9 * 3600  # 21:00 in New York, outside the window
    assert dial.call(request()) == Decision()
    assert len(fakes.connect.contacts) == 1


def test_a_message_too_long_for_end_user_messaging_voice_is_refused_not_cut_short(fakes, tables):
    voice = EndUserMessagingVoice(placing_client("pinpoint-sms-voice-v2"), "pool-1", "MATTHEW")
    long = ROW_FORMAT.parser(["phone", "message"])("b/incoming/f.csv@v1", 1, ["+14255550101", "x" * 6001])
    decision = dialer(tables, channel=voice).call(long)
    assert (decision.outcome.outcome, decision.outcome.reason) == (
        "refused", "the message has 6001 characters; SendVoiceMessage speaks 6000 at most")
    assert fakes.sms.voice_messages == []
    exactly = ROW_FORMAT.parser(["phone", "message"])("b/incoming/f.csv@v1", 2, ["+14255550102", "x" * 6000])
    assert dialer(tables, channel=voice).call(exactly).outcome.outcome == "called"


def test_a_row_without_a_zone_waits_for_every_zone_of_its_country_and_an_unknown_zone_is_reported(fakes, tables):
    # 15:00 UTC: 10:00 in New York but 07:00 in Los Angeles: a US number without a zone is not called yet.
    clock = FakeClock(datetime.datetime(2026, 11, 28, 15, 0, tzinfo=datetime.UTC).timestamp())
    assert dialer(tables, clock).call(request()).hold == 4 * 3600  # until 09:00 in Honolulu
    assert dialer(tables, clock).call(request(2, "+14255550102", "Mars/Olympus")).hold == 4 * 3600
    clock.now += 4 * 3600
    called = dialer(tables, clock).call(request(2, "+14255550102", "Mars/Olympus")).outcome
    assert (called.outcome, called.reason) == (
        "called", "the time zone 'Mars/Olympus' is unknown; the window was checked in every time zone of US")


def test_a_window_never_open_in_every_zone_of_the_country_is_refused_with_the_reason(fakes, tables):
    dial = dialer(tables)
    dial._rules = CallRules(frozenset({"US"}), 13, 14, "America/New_York")
    refused = dial.call(request()).outcome
    assert (refused.outcome, refused.reason) == ("refused", "no hour of the calling window is open in every time "
                                                            "zone of US at once; give the row its time zone")
    assert dial.call(request(2, "+14255550102", "America/New_York")).hold > 0  # with its zone it waits instead


def test_a_call_whose_report_failed_is_reported_again_from_its_marker_never_called_again(fakes, tables):
    first = dialer(tables).call(request()).outcome  # its report then failed: the marker has no "reported"
    again = dialer(tables).call(request()).outcome
    assert (again.outcome, again.call_id, again.reason) == (
        "called", first.call_id, "reported again (the first report failed)")
    dialer(tables).note_reported(request())
    assert dialer(tables).call(request()) == Decision()
    assert len(fakes.connect.contacts) == 1


def test_the_sender_reports_each_outcome_before_the_message_is_acknowledged(monkeypatch):
    from due.connect_channel import sender_handler
    from due.connect_channel.outcomes import Outcome

    class Report:
        def add(self, outcome):
            self.added = outcome

        def flush(self):
            raise ConnectionError("S3 is unreachable")

    class Dial:
        def call(self, queued):
            return Decision(Outcome.of(queued, "called", call_id="contact-1"))

        def note_reported(self, queued):
            raise AssertionError("noted as reported though the report failed")

    monkeypatch.setattr(sender_handler, "_report", Report)
    monkeypatch.setattr(sender_handler, "_dialer", Dial)
    with pytest.raises(ConnectionError):  # the record fails: Lambda gives the message back
        sender_handler._process({"body": request().to_json(), "receiptHandle": "r"})


@pytest.mark.parametrize(("attributes", "why"), [
    ({"SentTimestamp": str(int((NOON_UTC - 13.5 * 86400) * 1000)), "ApproximateReceiveCount": "3"}, "retention"),
    ({"SentTimestamp": str(int(NOON_UTC * 1000)), "ApproximateReceiveCount": "19"}, "received 19 times")])
def test_a_held_row_that_would_be_deleted_or_dead_lettered_is_set_aside_with_an_outcome(
        fakes, tables, aws, monkeypatch, attributes, why):
    from due.connect_channel import sender_handler

    clock = FakeClock(datetime.datetime(2026, 11, 28, 12, 0, tzinfo=datetime.UTC).timestamp())  # window shut
    monkeypatch.setattr(sender_handler.time, "time", lambda: NOON_UTC)
    reported = []
    monkeypatch.setattr(sender_handler, "_dialer", lambda: dialer(tables, clock))
    monkeypatch.setattr(sender_handler, "_report", lambda: type("Report", (), {
        "add": lambda self, outcome: reported.append(outcome), "flush": lambda self: None})())
    sender_handler._process({"body": request().to_json(), "receiptHandle": "r", "attributes": attributes})
    (outcome,) = reported
    assert outcome.outcome == "set aside" and why in outcome.reason
    (message,) = aws.client("sqs").receive_message(QueueUrl=tables)["Messages"]
    assert json.loads(message["Body"])["row"] == 1 and fakes.connect.contacts == []


def test_the_sender_knows_the_queues_retention_and_receive_limit():
    from due.connect_channel import sender_handler
    from scripts.cfn import load_template

    queue = load_template("Connect_as_a_Channel")["Resources"]["SendQueue"]["Properties"]
    assert queue["MessageRetentionPeriod"] == sender_handler.QUEUE_RETENTION_SECONDS
    assert queue["RedrivePolicy"]["maxReceiveCount"] == sender_handler.MAX_RECEIVES


# ------------------------------------------------------------------ the message archive (#15)
def test_each_call_placed_is_archived_with_its_contact_id_once_the_sender_flushes(fakes, tables):
    sqs = RecordingArchiveSqs()
    calling = dialer(tables, archive=archive_of(sqs))
    calling.call(request(row=1))
    calling.call(request(row=2, number="+442079460000"))  # another country: refused, not called
    calling.call(request(row=3, number="+14255550103"))
    assert sqs.batches == []  # nothing before the flush: the archive never comes between calls
    assert calling.archive.flush() == 0
    (batch,) = sqs.batches
    contacts = {c["DestinationPhoneNumber"]: c["ContactId"] for c in fakes.connect.contacts}
    assert sorted((m.recipient, m.message_id) for m in batch) == sorted(contacts.items())
    assert {(m.channel, m.origination, m.text) for m in batch} == {("voice", "queue queue-1", "Hello")}


def test_a_call_whose_archive_died_with_the_invocation_is_archived_by_the_redelivery(fakes, tables):
    """Called, then the invocation dies before its flush: the redelivery calls nobody and archives the call
    from its marker, with the same contact id and time (the same archive key)."""
    first = dialer(tables, archive=archive_of(RecordingArchiveSqs()))
    first.call(request(row=1))  # ... never flushed
    sqs = RecordingArchiveSqs()
    again = dialer(tables, archive=archive_of(sqs))
    assert again.call(request(row=1)).outcome.reason == "reported again (the first report failed)"
    assert again.archive.flush() == 0
    ((message,),) = sqs.batches
    (contact,) = fakes.connect.contacts
    marker = due_aws.client("dynamodb").scan(TableName="sent")["Items"][0]
    assert (message.message_id, message.recipient, message.sent_at) == (contact["ContactId"], "+14255550101",
                                                                        marker["sent_at"]["S"])


def test_end_user_messaging_voice_calls_are_archived_with_their_message_id(fakes, tables):
    sqs = RecordingArchiveSqs()
    voice = EndUserMessagingVoice(due_aws.client("pinpoint-sms-voice-v2"), "pool-1", "MATTHEW")
    calling = dialer(tables, channel=voice, archive=archive_of(sqs))
    calling.call(request())
    calling.archive.flush()
    ((message,),) = sqs.batches
    (sent,) = fakes.sms.voice_messages
    assert (message.message_id, message.origination, message.recipient) == (sent["MessageId"], "pool-1",
                                                                            "+14255550101")


class OrderedArchiveSqs(RecordingArchiveSqs):
    def __init__(self, order: list[str], fail: bool):
        super().__init__(fail)
        self._order = order

    def send_message_batch(self, QueueUrl, Entries):
        self._order.append("archive")
        return super().send_message_batch(QueueUrl, Entries)


@pytest.mark.parametrize("failing", [False, True])
def test_the_sender_archives_once_per_batch_after_its_calls_and_a_failing_archive_fails_nothing(
        fakes, tables, monkeypatch, lambda_context, failing):
    from due.connect_channel import sender_handler

    order: list[str] = []
    sqs = OrderedArchiveSqs(order, failing)
    calling = dialer(tables, archive=archive_of(sqs))
    placing_client("connect").meta.events.register("before-call.connect.StartOutboundVoiceContact",
                                                   lambda **_: order.append("call"))
    monkeypatch.setattr(sender_handler, "_dialer", lambda: calling)
    monkeypatch.setattr(sender_handler, "_report", lambda: type("Report", (), {
        "add": lambda self, outcome: None, "flush": lambda self: None})())
    event = {"Records": [{"messageId": f"m{row}", "receiptHandle": f"r{row}",
                          "body": request(row=row, number=f"+142555501{row}").to_json()} for row in (10, 11)]}
    assert sender_handler.lambda_handler(event, lambda_context) == {"batchItemFailures": []}
    assert order == ["call", "call", "archive"]
    assert len(fakes.connect.contacts) == 2
    assert [len(batch) for batch in sqs.batches] == ([] if failing else [2])
