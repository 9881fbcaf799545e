import pytest

from due.ses_event_processing.identity_wiring import ReplacedTopics, unwire, wire
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


def topics(ses, identity) -> dict:
    return ses.get_identity_notification_attributes(Identities=[identity])["NotificationAttributes"][identity]


def test_every_identity_on_every_page_is_wired(ses, replaced):
    for i in range(250):  # three pages of ListIdentities at 100 ... and 3 GetIdentityNotificationAttributes chunks
        ses.verify_email_identity(EmailAddress=f"sender{i}@example.com")
    ses.verify_domain_identity(Domain="example.org")
    report = wire(ses, replaced, OURS, overwrite=False)
    assert report.wired == 251 * 2
    for identity in ("sender0@example.com", "sender249@example.com", "example.org"):
        assert topics(ses, identity)["BounceTopic"] == OURS
        assert topics(ses, identity)["ComplaintTopic"] == OURS


def test_existing_topics_are_kept_without_overwrite(ses, replaced):
    ses.verify_domain_identity(Domain="example.org")
    ses.set_identity_notification_topic(Identity="example.org", NotificationType="Bounce", SnsTopic=THEIRS)
    report = wire(ses, replaced, OURS, overwrite=False)
    assert report.kept == ["example.org|Bounce"]
    assert topics(ses, "example.org")["BounceTopic"] == THEIRS
    assert topics(ses, "example.org")["ComplaintTopic"] == OURS


def test_overwrite_replaces_and_delete_restores(ses, replaced):
    ses.verify_domain_identity(Domain="example.org")
    ses.set_identity_notification_topic(Identity="example.org", NotificationType="Bounce", SnsTopic=THEIRS)
    wire(ses, replaced, OURS, overwrite=True)
    assert topics(ses, "example.org")["BounceTopic"] == OURS
    report = unwire(ses, replaced, OURS)
    assert report.restored == 2
    assert topics(ses, "example.org")["BounceTopic"] == THEIRS
    assert "ComplaintTopic" not in topics(ses, "example.org")  # had none: notifications off again
    assert list(replaced.all()) == []


def test_rewiring_keeps_the_original_topic_on_record(ses, replaced):
    ses.verify_domain_identity(Domain="example.org")
    ses.set_identity_notification_topic(Identity="example.org", NotificationType="Bounce", SnsTopic=THEIRS)
    wire(ses, replaced, OURS, overwrite=True)
    second = wire(ses, replaced, OURS, overwrite=True)  # a stack update runs it again
    assert second.already == 2 and second.wired == 0
    unwire(ses, replaced, OURS)
    assert topics(ses, "example.org")["BounceTopic"] == THEIRS


def test_delete_leaves_a_later_change_alone(ses, replaced):
    ses.verify_domain_identity(Domain="example.org")
    wire(ses, replaced, OURS, overwrite=False)
    ses.set_identity_notification_topic(Identity="example.org", NotificationType="Bounce", SnsTopic=LATER)
    report = unwire(ses, replaced, OURS)
    assert report.restored == 1  # only Complaint still pointed at us
    assert topics(ses, "example.org")["BounceTopic"] == LATER


def test_identity_deleted_since_wiring_is_forgotten(ses, replaced):
    ses.verify_domain_identity(Domain="example.org")
    wire(ses, replaced, OURS, overwrite=False)
    ses.delete_identity(Identity="example.org")
    unwire(ses, replaced, OURS)
    assert list(replaced.all()) == []
