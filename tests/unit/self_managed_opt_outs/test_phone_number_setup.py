import pytest

from due.self_managed_opt_outs import phone_number_handler
from due.self_managed_opt_outs.phone_number_setup import Origination, PooledNumber, configure, restore

TOPIC = "arn:aws:sns:us-east-1:123456789012:inbound"
STACK_ROLE = "arn:aws:iam::123456789012:role/stack-two-way"
THEIR_ROLE = "arn:aws:iam::123456789012:role/their-two-way"
TWO_WAY = ("TwoWayEnabled", "TwoWayChannelArn", "TwoWayChannelRole", "SelfManagedOptOutsEnabled")


@pytest.fixture
def sms(aws, fakes):
    return aws.client("pinpoint-sms-voice-v2")


def two_way(settings: dict) -> dict:
    return {key: settings[key] for key in TWO_WAY if key in settings}


def number(number_id: str) -> Origination:
    return Origination.of(phone_number_id=number_id)


def test_turns_on_two_way_and_self_managed_then_restores(fakes, sms):
    number_id = fakes.sms.add_phone_number("+18445550100")
    physical_id, data = configure(sms, number(number_id), TOPIC, STACK_ROLE)
    assert data == {"PhoneNumber": "+18445550100", "PoolId": ""}
    # No role before, none now: End User Messaging publishes as sms-voice.amazonaws.com, which the stack's
    # topic and key policies allow; a role set now could never be cleared again.
    assert two_way(fakes.sms.phone_numbers[number_id]) == {
        "TwoWayEnabled": True, "TwoWayChannelArn": TOPIC, "SelfManagedOptOutsEnabled": True}
    assert len(physical_id) < 1024
    assert restore(sms, physical_id) == {"Restored": "true"}
    assert two_way(fakes.sms.phone_numbers[number_id]) == {"TwoWayEnabled": False, "SelfManagedOptOutsEnabled": False}


def test_an_existing_role_is_replaced_by_the_stacks_and_every_setting_comes_back(fakes, sms):
    before = {"TwoWayEnabled": True, "TwoWayChannelArn": "arn:aws:sns:us-east-1:123456789012:old",
              "TwoWayChannelRole": THEIR_ROLE, "SelfManagedOptOutsEnabled": False}
    number_id = fakes.sms.add_phone_number("+18445550100", **before)
    physical_id, _ = configure(sms, number(number_id), TOPIC, STACK_ROLE)
    # Their role has no right to this stack's topic or key: left in place, every inbound STOP would be lost.
    assert two_way(fakes.sms.phone_numbers[number_id]) == {
        "TwoWayEnabled": True, "TwoWayChannelArn": TOPIC, "TwoWayChannelRole": STACK_ROLE,
        "SelfManagedOptOutsEnabled": True}
    restore(sms, physical_id)
    assert two_way(fakes.sms.phone_numbers[number_id]) == before


def test_a_pooled_number_is_refused_naming_its_pool_and_left_unchanged(fakes, sms):
    number_id = fakes.sms.add_phone_number("+18445550100")
    pool_id = fakes.sms.add_pool([number_id])
    with pytest.raises(PooledNumber, match=f"phone number {number_id} is in pool {pool_id}.*Give PoolId={pool_id}"):
        configure(sms, number(number_id), TOPIC, STACK_ROLE)
    assert fakes.sms.calls_of("UpdatePhoneNumber") == []
    assert fakes.sms.phone_numbers[number_id]["TwoWayEnabled"] is False


def test_the_fake_refuses_updating_a_pooled_number_as_aws_does(fakes, sms):
    number_id = fakes.sms.add_phone_number("+18445550100")
    fakes.sms.add_pool([number_id])
    with pytest.raises(sms.exceptions.ConflictException, match="associated with a pool"):
        sms.update_phone_number(PhoneNumberId=number_id, TwoWayEnabled=True)


def test_a_pool_is_configured_and_restored_like_a_number(fakes, sms):
    number_id = fakes.sms.add_phone_number("+18445550100")
    before = {"TwoWayEnabled": True, "TwoWayChannelArn": "arn:aws:sns:us-east-1:123456789012:old",
              "TwoWayChannelRole": THEIR_ROLE, "SelfManagedOptOutsEnabled": False}
    pool_id = fakes.sms.add_pool([number_id], **before)
    physical_id, data = configure(sms, Origination.of(pool_id=pool_id), TOPIC, STACK_ROLE)
    assert data["PoolId"] == pool_id
    assert two_way(fakes.sms.pools[pool_id]) == {
        "TwoWayEnabled": True, "TwoWayChannelArn": TOPIC, "TwoWayChannelRole": STACK_ROLE,
        "SelfManagedOptOutsEnabled": True}
    assert restore(sms, physical_id) == {"Restored": "true"}
    assert two_way(fakes.sms.pools[pool_id]) == before


def test_exactly_one_of_number_and_pool():
    for ids in ({}, {"phone_number_id": "phone-1", "pool_id": "pool-1"}):
        with pytest.raises(ValueError, match="exactly one of PhoneNumberId and PoolId"):
            Origination.of(**ids)


def test_leaves_a_number_pointed_elsewhere_since_or_gone(fakes, sms):
    number_id = fakes.sms.add_phone_number("+18445550100")
    physical_id, _ = configure(sms, number(number_id), TOPIC, STACK_ROLE)
    sms.update_phone_number(PhoneNumberId=number_id, TwoWayChannelArn="arn:aws:sns:us-east-1:123456789012:new")
    assert restore(sms, physical_id) == {"Restored": "false"}
    del fakes.sms.phone_numbers[number_id]  # released
    assert restore(sms, physical_id) == {"Restored": "false"}
    assert restore(sms, "SetupPhoneNumber-request-id") == {}


def test_unknown_number_is_a_clear_error(fakes, sms):
    with pytest.raises(sms.exceptions.ResourceNotFoundException, match="phone number nope not found"):
        configure(sms, number("nope"), TOPIC, STACK_ROLE)


def test_moving_the_stack_from_a_number_to_its_pool_gives_the_number_back(fakes, sms):
    number_id = fakes.sms.add_phone_number("+18445550100")
    other_id = fakes.sms.add_phone_number("+18445550101")
    pool_id = fakes.sms.add_pool([other_id])
    properties = {"PhoneNumberId": number_id, "TopicArn": TOPIC, "TwoWayChannelRoleArn": STACK_ROLE}
    physical_id, _ = phone_number_handler._create_or_update(properties, {}, "PhoneNumberSetup-request")
    assert phone_number_handler._create_or_update(properties, properties, physical_id) == (physical_id, {})
    moved = {**properties, "PhoneNumberId": "", "PoolId": pool_id}
    new_physical_id, _ = phone_number_handler._create_or_update(moved, properties, physical_id)
    assert fakes.sms.phone_numbers[number_id]["TwoWayEnabled"] is False
    assert fakes.sms.pools[pool_id]["TwoWayChannelArn"] == TOPIC
    phone_number_handler._delete(moved, {}, new_physical_id)
    assert fakes.sms.pools[pool_id]["TwoWayEnabled"] is False
