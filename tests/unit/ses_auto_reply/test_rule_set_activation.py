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


def test_renamed_rule_set_keeps_the_set_to_restore(ses):
    # An update that renames the stack's rule set (CloudFormation replaces it) must not record the old,
    # soon deleted, set as the one to restore: the set active before the stack is.
    ses.set_active_receipt_rule_set(RuleSetName="theirs")
    old_id, _ = activate(ses, "ours")
    ses.create_receipt_rule_set(RuleSetName="ours-renamed")
    new_id, data = activate(ses, "ours-renamed", updating=old_id)
    assert active(ses) == "ours-renamed" and data == {"PreviousActive": "theirs"}
    assert restore(ses, old_id) == {"Restored": "false"}  # CloudFormation deletes the old physical id first
    assert restore(ses, new_id) == {"Restored": "true"}
    assert active(ses) == "theirs"


def test_update_with_the_same_name_keeps_its_physical_id(ses):
    ses.set_active_receipt_rule_set(RuleSetName="theirs")
    physical_id, _ = activate(ses, "ours")
    assert activate(ses, "ours", updating=physical_id)[0] == physical_id  # no replacement, nothing restored early
