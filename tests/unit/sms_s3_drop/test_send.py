"""Sending: the rate is never exceeded, a row is never sent twice, refusals can be retried."""

import pytest
from botocore.exceptions import ClientError

from due import aws as due_aws
from due.sms_s3_drop.rate import RateLimiter
from due.sms_s3_drop.requests import from_row
from due.sms_s3_drop.send import MaybeSent, Sender, SentMarkers
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


def test_rate_limiter_spaces_sends_per_identity():
    clock = FakeClock()
    limiter = RateLimiter(2, clock=clock, sleep=clock.sleep)
    times = []
    for identity in ["a", "a", "b", "a", "b"]:
        limiter.wait(identity)
        times.append((identity, clock.now))
    assert times == [("a", 100.0), ("a", 100.5), ("b", 100.5), ("a", 101.0), ("b", 101.0)]
    clock.now += 10  # idle: no waiting after a pause
    limiter.wait("a")
    assert clock.now == 111.0
    with pytest.raises(ValueError):
        RateLimiter(0)


@pytest.fixture
def markers(aws):
    create_table(aws.client("dynamodb"), "sent", "deduplication_id")
    return SentMarkers(due_aws.client("dynamodb"), "sent")


def request(row=1, origination="+18445550100"):
    return from_row("drop/incoming/f.csv@v1", row, ["+14255550101", "Hello", "c", origination, "PROMOTIONAL",
                                                    "", "x"])


def sender(markers, channel=None):
    clock = FakeClock()
    return Sender(channel or EndUserMessagingSms(due_aws.client("pinpoint-sms-voice-v2")), markers,
                  RateLimiter(100, clock=clock, sleep=clock.sleep))


def test_sends_with_its_own_origination_type_and_context(fakes, markers):
    assert sender(markers).send(request()) is True
    (sent,) = fakes.sms.sent
    assert (sent["OriginationIdentity"], sent["MessageType"], sent["MessageBody"]) == (
        "+18445550100", "PROMOTIONAL", "Hello")
    assert sent["Context"] == {"external_campaign_id": "c", "id_2": "x", "row": "1"}


def test_redelivery_is_not_sent_again(fakes, markers):
    sender(markers).send(request())
    assert sender(markers).send(request()) is False
    assert len(fakes.sms.sent) == 1


def test_a_refused_send_may_be_retried(fakes, markers, no_backoff):
    fakes.sms.fail_next("SendTextMessage", "ValidationException", message="no such origination identity")
    with pytest.raises(ClientError):
        sender(markers).send(request())
    assert sender(markers).send(request()) is True
    assert len(fakes.sms.sent) == 1


def test_throttling_is_retried_by_the_client(fakes, markers, no_backoff):
    fakes.sms.fail_next("SendTextMessage", "ThrottlingException", times=2)
    assert sender(markers).send(request()) is True
    assert len(fakes.sms.calls_of("SendTextMessage")) == 3


def test_an_unknown_outcome_is_never_sent_again_but_fails_loudly(fakes, markers):
    class Crashing:
        def send(self, *_message):
            raise TimeoutError("read timed out")

    with pytest.raises(TimeoutError):
        sender(markers, Crashing()).send(request())
    with pytest.raises(MaybeSent, match=r"row 1 of drop/incoming/f\.csv@v1: an earlier attempt may have sent it"):
        sender(markers).send(request())
    assert fakes.sms.sent == []


def test_pinpoint_channel_checks_each_result(fakes, markers, aws):
    assert sender(markers, PinpointSms(due_aws.client("pinpoint"), "app")).send(request()) is True
    message = fakes.pinpoint.sent[0]["MessageConfiguration"]["SMSMessage"]
    assert (message["OriginationNumber"], message["MessageType"]) == ("+18445550100", "PROMOTIONAL")

    class Throttled(PinpointSms):
        def send(self, *_message):
            raise SendRefused("THROTTLED")

    with pytest.raises(SendRefused):
        sender(markers, Throttled(None, "app")).send(request(row=2))
    assert sender(markers, PinpointSms(due_aws.client("pinpoint"), "app")).send(request(row=2)) is True
