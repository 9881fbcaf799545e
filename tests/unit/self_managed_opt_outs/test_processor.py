"""Both ways of running it (End User Messaging v2 and Pinpoint) against the fakes and moto SNS/DynamoDB."""

import datetime

import pytest
from botocore.exceptions import ClientError

from due.self_managed_opt_outs.keywords import Intent
from tests.unit.self_managed_opt_outs.conftest import TEXTS, processor, sms


@pytest.fixture
def sms_list(fakes, aws):
    aws.client("pinpoint-sms-voice-v2").create_opt_out_list(OptOutListName="promotional")
    return fakes.sms.opt_out_lists["promotional"]


def test_stop_opts_out_tells_others_and_confirms_from_our_number(fakes, sms_list, notifications, steps):
    topic, published = notifications
    assert processor("EndUserMessaging", topic, steps).handle(sms("stop")) == (Intent.OPT_OUT, "STOP")
    assert list(sms_list) == ["+14255550182"]
    (notice,) = published()
    assert (notice["action"], notice["phoneNumber"], notice["keyword"]) == ("opted_out", "+14255550182", "STOP")
    assert notice["recordedAt"].endswith("Z")
    (reply,) = fakes.sms.sent
    assert (reply["DestinationPhoneNumber"], reply["OriginationIdentity"]) == ("+14255550182", "+18445550100")
    assert reply["MessageBody"] == TEXTS.opt_out_confirmation
    assert reply["MessageType"] == "TRANSACTIONAL"


def test_start_opts_back_in(fakes, sms_list, notifications, steps):
    topic, published = notifications
    handler = processor("EndUserMessaging", topic, steps)
    handler.handle(sms("stop"))
    assert handler.handle(sms("start")) == (Intent.OPT_IN, "START")
    assert list(sms_list) == []
    assert [n["action"] for n in published()] == ["opted_out", "opted_in"]
    assert fakes.sms.sent[-1]["MessageBody"] == TEXTS.opt_in_confirmation


def test_start_for_a_number_never_opted_out_is_fine(fakes, sms_list, notifications, steps):
    assert processor("EndUserMessaging", notifications[0], steps).handle(sms("start"))[0] is Intent.OPT_IN


def test_help_is_answered_and_changes_nothing(fakes, sms_list, notifications, steps):
    topic, published = notifications
    assert processor("EndUserMessaging", topic, steps).handle(sms("help"))[0] is Intent.HELP
    assert list(sms_list) == [] and published() == []
    assert fakes.sms.sent[0]["MessageBody"] == TEXTS.help


def test_other_messages_are_left_alone(fakes, sms_list, notifications, steps):
    topic, published = notifications
    assert processor("EndUserMessaging", topic, steps).handle(sms("none")) == (Intent.NONE, "")
    assert [c.operation for c in fakes.sms.calls] == ["CreateOptOutList"]  # the fixture's, nothing else
    assert published() == []


def test_failed_confirmation_keeps_the_opt_out_and_the_retry_only_confirms(fakes, sms_list, notifications, steps,
                                                                          no_backoff):
    topic, published = notifications
    handler = processor("EndUserMessaging", topic, steps)
    fakes.sms.fail_next("SendTextMessage", "ValidationException", message="origination identity not found")
    with pytest.raises(ClientError, match="ValidationException"):
        handler.handle(sms("stop"))
    assert list(sms_list) == ["+14255550182"]  # recorded before the confirmation failed
    handler.handle(sms("stop"))  # the redelivery
    assert len(published()) == 1  # told once
    assert len(fakes.sms.sent) == 1
    assert len(fakes.sms.calls_of("PutOptedOutNumber")) == 1


def test_redelivery_of_a_handled_message_does_nothing(fakes, sms_list, notifications, steps):
    topic, published = notifications
    handler = processor("EndUserMessaging", topic, steps)
    handler.handle(sms("stop"))
    calls = len(fakes.sms.calls)
    handler.handle(sms("stop"))
    assert len(fakes.sms.calls) == calls and len(published()) == 1


def test_pinpoint_mode_sets_the_endpoint_opt_out(fakes, notifications, steps):
    topic, published = notifications
    handler = processor("Pinpoint", topic, steps)
    handler.handle(sms("stop"))
    endpoint = fakes.pinpoint.endpoints[("app", "14255550182")]
    assert (endpoint["OptOut"], endpoint["Address"], endpoint["ChannelType"]) == ("ALL", "+14255550182", "SMS")
    (sent,) = fakes.pinpoint.sent
    assert sent["MessageConfiguration"]["SMSMessage"]["OriginationNumber"] == "+18445550100"
    assert sent["MessageConfiguration"]["SMSMessage"]["MessageType"] == "TRANSACTIONAL"
    handler.handle(sms("start", inboundMessageId="another"))
    assert fakes.pinpoint.endpoints[("app", "14255550182")]["OptOut"] == "NONE"
    assert [n["action"] for n in published()] == ["opted_out", "opted_in"]


def test_out_of_order_delivery_keeps_the_customers_last_word(fakes, sms_list, notifications, steps):
    topic, published = notifications
    handler = processor("EndUserMessaging", topic, steps)
    stop = sms("stop", inboundMessageId="first")
    start = sms("start", inboundMessageId="second")
    stop = type(stop)(**{**stop.__dict__, "received_at": "2026-11-20T10:00:00.000Z"})
    start = type(start)(**{**start.__dict__, "received_at": "2026-11-20T10:00:05.000Z"})
    assert handler.handle(start)[0] is Intent.OPT_IN  # the later message arrives first
    assert handler.handle(stop) == (Intent.NONE, "STOP")  # the earlier one is stale: no change, no reply
    assert handler.handle(stop) == (Intent.NONE, "STOP")  # and stays so on redelivery
    assert list(sms_list) == []
    assert [n["action"] for n in published()] == ["opted_in"]
    assert [m["MessageBody"] for m in fakes.sms.sent] == [TEXTS.opt_in_confirmation]


def test_a_second_start_within_30_days_is_answered_and_reported_not_retried(fakes, sms_list, notifications, steps):
    topic, published = notifications
    handler = processor("EndUserMessaging", topic, steps)
    handler.handle(sms("stop", inboundMessageId="stop-1"))
    handler.handle(sms("start", inboundMessageId="start-1"))
    handler.handle(sms("stop", inboundMessageId="stop-2"))
    assert handler.handle(sms("start", inboundMessageId="start-2")) == (Intent.OPT_IN, "START")  # no exception
    assert list(sms_list) == ["+14255550182"]  # the service refused: still opted out
    refused = published()[-1]
    assert (refused["action"], refused["phoneNumber"]) == ("opt_in_refused", "+14255550182")
    assert refused["reason"].startswith("ValidationException: ")
    assert fakes.sms.sent[-1]["MessageBody"] == TEXTS.opt_in_refused
    assert fakes.sms.sent[-1]["MessageType"] == "TRANSACTIONAL"


def test_the_opt_in_window_reopens_after_30_days(fakes, sms_list, notifications, steps):
    handler = processor("EndUserMessaging", notifications[0], steps)
    handler.handle(sms("stop", inboundMessageId="stop-1"))
    handler.handle(sms("start", inboundMessageId="start-1"))
    handler.handle(sms("stop", inboundMessageId="stop-2"))
    ((key, deleted_at),) = fakes.sms.opted_back_in.items()
    fakes.sms.opted_back_in[key] = deleted_at - datetime.timedelta(days=30, seconds=1)
    handler.handle(sms("start", inboundMessageId="start-2"))
    assert list(sms_list) == []


@pytest.mark.parametrize(("code", "status"), [("ValidationException", 400), ("ConflictException", 409),
                                              ("SomethingNewException", 400)])
def test_any_refusal_of_the_opt_in_gets_the_same_answer(fakes, sms_list, notifications, steps, code, status):
    topic, published = notifications
    handler = processor("EndUserMessaging", topic, steps)
    handler.handle(sms("stop"))
    fakes.sms.fail_next("DeleteOptedOutNumber", code, status=status)
    handler.handle(sms("start"))
    refused = published()[-1]
    assert (refused["action"], refused["reason"]) == ("opt_in_refused", f"{code}: injected")
    assert fakes.sms.sent[-1]["MessageBody"] == TEXTS.opt_in_refused


@pytest.mark.parametrize(("code", "status"), [("ThrottlingException", 400), ("TooManyRequestsException", 429),
                                              ("InternalServerException", 500), ("AccessDeniedException", 403)])
def test_throttling_server_errors_and_denied_access_are_retried_not_refused(fakes, sms_list, notifications, steps,
                                                                            no_backoff, code, status):
    topic, published = notifications
    handler = processor("EndUserMessaging", topic, steps)
    handler.handle(sms("stop"))
    attempts = 1 if code == "AccessDeniedException" else 5  # botocore retries all but the denial
    fakes.sms.fail_next("DeleteOptedOutNumber", code, status=status, times=attempts)  # every attempt of the client
    with pytest.raises(ClientError, match=code):
        handler.handle(sms("start"))
    handler.handle(sms("start"))  # the queue's redelivery
    assert list(sms_list) == []
    assert [n["action"] for n in published()] == ["opted_out", "opted_in"]
    assert fakes.sms.sent[-1]["MessageBody"] == TEXTS.opt_in_confirmation


def test_a_refusal_survives_a_failed_reply(fakes, sms_list, notifications, steps, no_backoff):
    topic, published = notifications
    handler = processor("EndUserMessaging", topic, steps)
    handler.handle(sms("stop"))
    fakes.sms.fail_next("DeleteOptedOutNumber", "ValidationException")
    fakes.sms.fail_next("SendTextMessage", "ValidationException")
    with pytest.raises(ClientError):
        handler.handle(sms("start"))
    handler.handle(sms("start"))  # the redelivery does not try the opt-in again, and answers the refusal
    assert len(fakes.sms.calls_of("DeleteOptedOutNumber")) == 1
    assert [n["action"] for n in published()] == ["opted_out", "opt_in_refused"]
    assert fakes.sms.sent[-1]["MessageBody"] == TEXTS.opt_in_refused
