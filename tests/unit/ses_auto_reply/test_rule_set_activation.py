import pytest

from due.ses_auto_reply.rule_set_activation import activate, restore


@pytest.fixture
def ses(aws):
    client = aws.client("ses")
    for name in ("ours", "theirs", "later"):
        client.create_receipt_rule_set(RuleSetName=name)
    return client


def active(ses) -> str:
    return (ses.describe_active_receipt_rule_set().get("Metadata") or {}).get("Name", "")


def test_activate_when_none_was_active_and_restore_to_none(ses):
    physical_id, data = activate(ses, "ours")
    assert active(ses) == "ours" and data == {"PreviousActive": ""}
    assert restore(ses, physical_id) == {"Restored": "true"}
    assert active(ses) == ""


def test_previous_active_set_comes_back(ses):
    ses.set_active_receipt_rule_set(RuleSetName="theirs")
    physical_id, data = activate(ses, "ours")
    assert data == {"PreviousActive": "theirs"}
    restore(ses, physical_id)
    assert active(ses) == "theirs"


def test_a_later_change_is_left_alone(ses):
    physical_id, _ = activate(ses, "ours")
    ses.set_active_receipt_rule_set(RuleSetName="later")
    assert restore(ses, physical_id) == {"Restored": "false"}
    assert active(ses) == "later"


def test_delete_after_a_failed_create_does_nothing(ses):
    ses.set_active_receipt_rule_set(RuleSetName="theirs")
    assert restore(ses, "Activation-request-id") == {}
    assert active(ses) == "theirs"
