"""Sending: the rate is kept, a row is never sent twice, rows that can never go are set aside, not retried."""

import json

import pytest
from botocore.exceptions import ClientError

from due import aws as due_aws
from due.rate_limit import RateLimiter
from due.send_markers import SentMarkers, SetAside
from due.sms_s3_drop.requests import from_row
from due.sms_s3_drop.send import Sender
from due.sms_sending import EndUserMessagingSms, PinpointSms, SendRefused
from due_local.tables import create_table


class FakeClock:
    def __init__(self):
        self.now = 100.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def markers(aws):
    create_table(aws.client("dynamodb"), "sent", "deduplication_id")
    create_table(aws.client("dynamodb"), "rates", "key")
    return SentMarkers(due_aws.client("dynamodb"), "sent")


@pytest.fixture
def dead_letters(aws):
    return aws.client("sqs").create_queue(QueueName="send-dlq.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]


def set_aside(aws, queue_url) -> list[tuple[dict, str]]:
    messages = aws.client("sqs").receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10,
                                                 MessageAttributeNames=["All"]).get("Messages", [])
    return [(json.loads(m["Body"]), m["MessageAttributes"]["reason"]["StringValue"]) for m in messages]


def request(row=1, origination="+18445550100"):
    return from_row("drop/incoming/f.csv@v1", row, ["+14255550101", "Hello", "c", origination, "PROMOTIONAL",
                                                    "", "x"])


def sender(markers, channel=None, clock=None):
    clock = clock or FakeClock()
    return Sender(channel or EndUserMessagingSms(due_aws.client("pinpoint-sms-voice-v2")), markers,
                  RateLimiter(due_aws.client("dynamodb"), "rates", clock=clock, sleep=clock.sleep), 100,
                  SetAside(due_aws.client("sqs"), due_aws.client("sqs").get_queue_url(
                      QueueName="send-dlq.fifo")["QueueUrl"]))


@pytest.fixture(autouse=True)
def _dead_letter_queue(dead_letters):
    return dead_letters


def test_sends_with_its_own_origination_type_and_context(fakes, markers):
    assert sender(markers).send(request()) == "sent"
    (sent,) = fakes.sms.sent
    assert (sent["OriginationIdentity"], sent["MessageType"], sent["MessageBody"]) == (
        "+18445550100", "PROMOTIONAL", "Hello")
    assert sent["Context"] == {"external_campaign_id": "c", "id_2": "x", "row": "1"}


def test_redelivery_is_not_sent_again(fakes, markers):
    sender(markers).send(request())
    assert sender(markers).send(request()) == "sent before"
    assert len(fakes.sms.sent) == 1


def test_sends_of_one_identity_are_paced_through_the_shared_table(fakes, markers):
    """Two senders (say, two batches of one identity in two execution environments) never go together."""
    first, second = FakeClock(), FakeClock()
    sender(markers, clock=first).send(request(row=1))
    sender(markers, clock=second).send(request(row=2))
    sender(markers, clock=second).send(request(row=3, origination="12345"))  # another identity: no wait
    assert (first.sleeps, second.sleeps) == ([], [0.01])


@pytest.mark.parametrize("code", ["ValidationException", "ConflictException", "ResourceNotFoundException"])
def test_a_row_refused_for_good_is_set_aside_with_its_reason_not_retried(fakes, markers, aws, dead_letters, code):
    fakes.sms.fail_next("SendTextMessage", code, message="the destination is not reachable")
    assert sender(markers).send(request()) == "set aside"
    ((row, reason),) = set_aside(aws, dead_letters)
    assert (row["row"], reason) == (1, f"{code}: the destination is not reachable")
    # Redriven by a person after fixing the cause, the row may go: a refusal marks it failed, not sent.
    assert sender(markers).send(request()) == "sent"


def test_an_account_or_passing_error_is_raised_for_lambda_to_retry(fakes, markers, aws, dead_letters, no_backoff):
    fakes.sms.fail_next("SendTextMessage", "ServiceQuotaExceededException", message="monthly spend limit")
    with pytest.raises(ClientError):
        sender(markers).send(request())
    fakes.sms.fail_next("SendTextMessage", "ThrottlingException", times=5)  # beyond the client's 5 attempts
    with pytest.raises(ClientError):
        sender(markers).send(request())
    assert set_aside(aws, dead_letters) == []
    assert sender(markers).send(request()) == "sent"


def test_throttling_is_retried_by_the_client(fakes, markers, no_backoff):
    fakes.sms.fail_next("SendTextMessage", "ThrottlingException", times=2)
    assert sender(markers).send(request()) == "sent"
    assert len(fakes.sms.calls_of("SendTextMessage")) == 3


def test_an_unknown_outcome_is_never_sent_again_but_set_aside_with_the_reason(fakes, markers, aws, dead_letters):
    class Crashing:
        def send(self, *_message):
            raise TimeoutError("read timed out")

    with pytest.raises(TimeoutError):
        sender(markers, Crashing()).send(request())
    assert sender(markers).send(request()) == "set aside"
    ((_, reason),) = set_aside(aws, dead_letters)
    assert reason == "row 1 of drop/incoming/f.csv@v1: an earlier attempt may have sent it; not resending"
    assert fakes.sms.sent == []


def test_pinpoint_channel_checks_each_result(fakes, markers, aws, dead_letters):
    assert sender(markers, PinpointSms(due_aws.client("pinpoint"), "app")).send(request()) == "sent"
    message = fakes.pinpoint.sent[0]["MessageConfiguration"]["SMSMessage"]
    assert (message["OriginationNumber"], message["MessageType"]) == ("+18445550100", "PROMOTIONAL")

    def answering(status):
        def send_messages(ApplicationId, MessageRequest):
            (address,) = MessageRequest["Addresses"]
            return {"MessageResponse": {"ApplicationId": ApplicationId, "Result": {
                address: {"DeliveryStatus": status, "StatusCode": 400}}}}
        return send_messages

    pinpoint = PinpointSms(due_aws.client("pinpoint"), "app")
    fakes.pinpoint.send_messages = answering("THROTTLED")  # Pinpoint may send it another time: retried
    with pytest.raises(SendRefused):
        sender(markers, pinpoint).send(request(row=2))
    fakes.pinpoint.send_messages = answering("OPT_OUT")  # "won't attempt to send the message again"
    assert sender(markers, pinpoint).send(request(row=2)) == "set aside"
    assert [reason for _, reason in set_aside(aws, dead_letters)] == ["Pinpoint answered OPT_OUT (400)"]
