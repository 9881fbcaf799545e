import itertools

import pytest
from botocore.exceptions import ClientError

from due.ses_event_processing import identity_wiring
from due.ses_event_processing.identity_wiring import Pacer, ReplacedTopics
from due_local.tables import create_table

OURS = "arn:aws:sns:us-east-1:123456789012:ours"
THEIRS = "arn:aws:sns:us-east-1:123456789012:theirs"
LATER = "arn:aws:sns:us-east-1:123456789012:someone-elses-later"


@pytest.fixture
def ses(aws):
    client = aws.client("ses")
    sns = aws.client("sns")
    for name in ("ours", "theirs", "someone-elses-later"):
        sns.create_topic(Name=name)
    return client


@pytest.fixture
def replaced(aws):
    dynamodb = aws.client("dynamodb")
    create_table(dynamodb, "state", "pk")
    return ReplacedTopics(dynamodb, "state")


class FakeClock:
    """Time that passes only when the code sleeps: pacing is checked without waiting."""

    def __init__(self):
        self.now = 1000.0
        self.slept = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def pacer(clock):
    return Pacer(clock=clock, sleep=clock.sleep)


@pytest.fixture
def wire(pacer):
    return lambda *args, **kwargs: identity_wiring.wire(*args, pacer=pacer, **kwargs)


@pytest.fixture
def unwire(pacer):
    return lambda *args: identity_wiring.unwire(*args, pacer=pacer)


def topics(ses, identity) -> dict:
    return ses.get_identity_notification_attributes(Identities=[identity])["NotificationAttributes"][identity]


def calls_of(ses, operation: str) -> list[dict]:
    """Parameters of every call the client makes to ``operation`` from now on."""
    calls = []
    ses.meta.events.register(f"provide-client-params.ses.{operation}",
                             lambda params, **_: calls.append(dict(params)))
    return calls


def with_status(ses, statuses: dict[str, str]) -> None:
    """moto verifies every identity at once; SES leaves some Pending or Failed for days."""
    def rewrite(parsed, **_):
        for identity, status in statuses.items():
            if identity in parsed.get("VerificationAttributes", {}):
                parsed["VerificationAttributes"][identity]["VerificationStatus"] = status
    ses.meta.events.register("after-call.ses.GetIdentityVerificationAttributes", rewrite)


def refuse(ses, identity: str, code: str) -> None:
    def maybe_refuse(params, **_):
        if params["Identity"] == identity:
            error = {"Error": {"Code": code, "Message": f"refused {identity}"}}
            raise ClientError(error, "SetIdentityNotificationTopic")
    ses.meta.events.register("provide-client-params.ses.SetIdentityNotificationTopic", maybe_refuse)


def test_every_identity_on_every_page_is_wired(ses, replaced, wire, unwire):
    for i in range(250):  # three chunks of 100 for each Get*Attributes call
        ses.verify_email_identity(EmailAddress=f"sender{i}@example.com")
    ses.verify_domain_identity(Domain="example.org")
    verification_calls = calls_of(ses, "GetIdentityVerificationAttributes")
    report = wire(ses, replaced, OURS, overwrite=False)
    assert report.wired == 251 * 2
    assert sorted(len(call["Identities"]) for call in verification_calls) == [51, 100, 100]
    for identity in ("sender0@example.com", "sender249@example.com", "example.org"):
        assert topics(ses, identity)["BounceTopic"] == OURS
        assert topics(ses, identity)["ComplaintTopic"] == OURS


def test_existing_topics_are_kept_without_overwrite(ses, replaced, wire, unwire):
    ses.verify_domain_identity(Domain="example.org")
    ses.set_identity_notification_topic(Identity="example.org", NotificationType="Bounce", SnsTopic=THEIRS)
    report = wire(ses, replaced, OURS, overwrite=False)
    assert report.kept == ["example.org|Bounce"]
    assert topics(ses, "example.org")["BounceTopic"] == THEIRS
    assert topics(ses, "example.org")["ComplaintTopic"] == OURS


def test_overwrite_replaces_and_delete_restores(ses, replaced, wire, unwire):
    ses.verify_domain_identity(Domain="example.org")
    ses.set_identity_notification_topic(Identity="example.org", NotificationType="Bounce", SnsTopic=THEIRS)
    wire(ses, replaced, OURS, overwrite=True)
    assert topics(ses, "example.org")["BounceTopic"] == OURS
    report = unwire(ses, replaced, OURS)
    assert report.restored == 2
    assert topics(ses, "example.org")["BounceTopic"] == THEIRS
    assert "ComplaintTopic" not in topics(ses, "example.org")  # had none: notifications off again
    assert list(replaced.all()) == []


def test_rewiring_keeps_the_original_topic_on_record(ses, replaced, wire, unwire):
    ses.verify_domain_identity(Domain="example.org")
    ses.set_identity_notification_topic(Identity="example.org", NotificationType="Bounce", SnsTopic=THEIRS)
    wire(ses, replaced, OURS, overwrite=True)
    second = wire(ses, replaced, OURS, overwrite=True)  # a stack update runs it again
    assert second.already == 2 and second.wired == 0
    unwire(ses, replaced, OURS)
    assert topics(ses, "example.org")["BounceTopic"] == THEIRS


def test_delete_leaves_a_later_change_alone(ses, replaced, wire, unwire):
    ses.verify_domain_identity(Domain="example.org")
    wire(ses, replaced, OURS, overwrite=False)
    ses.set_identity_notification_topic(Identity="example.org", NotificationType="Bounce", SnsTopic=LATER)
    report = unwire(ses, replaced, OURS)
    assert report.restored == 1  # only Complaint still pointed at us
    assert topics(ses, "example.org")["BounceTopic"] == LATER


def test_identity_deleted_since_wiring_is_forgotten(ses, replaced, wire, unwire):
    ses.verify_domain_identity(Domain="example.org")
    wire(ses, replaced, OURS, overwrite=False)
    ses.delete_identity(Identity="example.org")
    unwire(ses, replaced, OURS)
    assert list(replaced.all()) == []


def test_only_verified_identities_are_wired(ses, replaced, wire, unwire):
    for domain in ("verified.example", "pending.example", "failed.example", "retrying.example"):
        ses.verify_domain_identity(Domain=domain)
    with_status(ses, {"pending.example": "Pending", "failed.example": "Failed",
                      "retrying.example": "TemporaryFailure"})
    set_calls = calls_of(ses, "SetIdentityNotificationTopic")
    report = wire(ses, replaced, OURS, overwrite=False)
    assert {call["Identity"] for call in set_calls} == {"verified.example"}
    assert sorted(report.not_verified) == ["failed.example", "pending.example", "retrying.example"]
    assert report.as_data()["NotVerified"] == "3"
    assert "BounceTopic" not in topics(ses, "pending.example")


def test_an_identity_verified_later_is_wired_by_the_next_run(ses, replaced, wire, unwire):
    ses.verify_domain_identity(Domain="example.org")
    ses.verify_domain_identity(Domain="late.example")
    statuses = {"late.example": "Pending"}
    with_status(ses, statuses)
    first = wire(ses, replaced, OURS, overwrite=False)
    assert (first.wired, first.not_verified) == (2, ["late.example"])
    statuses.clear()  # the DNS record was found: SES now says Success
    second = wire(ses, replaced, OURS, overwrite=False)  # the scheduled run
    assert (second.wired, second.already, second.not_verified) == (2, 2, [])
    assert topics(ses, "late.example")["ComplaintTopic"] == OURS


def test_identity_calls_are_paced_one_a_second(ses, replaced, clock, wire, unwire):
    for i in range(3):
        ses.verify_domain_identity(Domain=f"d{i}.example")
    called_at = []
    ses.meta.events.register("before-call.ses", lambda **_: called_at.append(clock()))
    wire(ses, replaced, OURS, overwrite=False)
    unwire(ses, replaced, OURS)
    # List, verification, notification attributes, 6 sets; then attributes and 6 restores
    assert len(called_at) == 3 + 6 + 1 + 6
    assert all(later - earlier >= 1.0 for earlier, later in itertools.pairwise(called_at))
    assert called_at[-1] - called_at[0] == pytest.approx(len(called_at) - 1)  # no slower than needed


def test_one_identitys_error_is_reported_and_the_rest_are_wired(ses, replaced, wire, unwire):
    for domain in ("a.example", "broken.example", "c.example"):
        ses.verify_domain_identity(Domain=domain)
    refuse(ses, "broken.example", "InvalidParameterValue")
    report = wire(ses, replaced, OURS, overwrite=False)
    assert report.failed == {"broken.example|Bounce": "InvalidParameterValue",
                             "broken.example|Complaint": "InvalidParameterValue"}
    assert report.wired == 4
    assert report.as_data()["Failed"] == "2"
    assert topics(ses, "c.example")["BounceTopic"] == OURS


def test_access_denied_is_not_one_identitys_error(ses, replaced, wire, unwire):
    ses.verify_domain_identity(Domain="example.org")
    refuse(ses, "example.org", "AccessDenied")
    with pytest.raises(PermissionError, match="may not set notification topics"):
        wire(ses, replaced, OURS, overwrite=False)


def test_running_out_of_time_stops_and_the_next_run_finishes(ses, replaced, wire, unwire):
    for domain in ("a.example", "b.example"):
        ses.verify_domain_identity(Domain=domain)
    checks = iter([False, False, True])
    first = wire(ses, replaced, OURS, overwrite=False, out_of_time=lambda: next(checks, True))
    assert (first.wired, first.complete, first.as_data()["Complete"]) == (2, False, "false")
    second = wire(ses, replaced, OURS, overwrite=False)
    assert (second.wired, second.already, second.complete) == (2, 2, True)
