import pytest

from due.self_managed_opt_outs.phone_number_setup import configure, restore

TOPIC = "arn:aws:sns:us-east-1:123456789012:inbound"


@pytest.fixture
def sms(aws, fakes):
    return aws.client("pinpoint-sms-voice-v2")


def test_turns_on_two_way_and_self_managed_then_restores(fakes, sms):
    number_id = fakes.sms.add_phone_number("+18445550100")
    physical_id, data = configure(sms, number_id, TOPIC)
    assert data == {"PhoneNumber": "+18445550100"}
    settings = fakes.sms.phone_numbers[number_id]
    assert (settings["TwoWayEnabled"], settings["TwoWayChannelArn"], settings["SelfManagedOptOutsEnabled"]) == (
        True, TOPIC, True)
    assert len(physical_id) < 1024
    assert restore(sms, physical_id) == {"Restored": "true"}
    settings = fakes.sms.phone_numbers[number_id]
    assert (settings["TwoWayEnabled"], settings["SelfManagedOptOutsEnabled"]) == (False, False)
    assert "TwoWayChannelArn" not in settings


def test_restores_a_previous_channel(fakes, sms):
    number_id = fakes.sms.add_phone_number("+18445550100", TwoWayEnabled=True,
                                           TwoWayChannelArn="arn:aws:sns:us-east-1:123456789012:old")
    physical_id, _ = configure(sms, number_id, TOPIC)
    restore(sms, physical_id)
    assert fakes.sms.phone_numbers[number_id]["TwoWayChannelArn"] == "arn:aws:sns:us-east-1:123456789012:old"


def test_leaves_a_number_pointed_elsewhere_since(fakes, sms):
    number_id = fakes.sms.add_phone_number("+18445550100")
    physical_id, _ = configure(sms, number_id, TOPIC)
    sms.update_phone_number(PhoneNumberId=number_id, TwoWayChannelArn="arn:aws:sns:us-east-1:123456789012:new")
    assert restore(sms, physical_id) == {"Restored": "false"}
    assert restore(sms, "SetupPhoneNumber-request-id") == {}


def test_unknown_number_is_a_clear_error(fakes, sms):
    with pytest.raises(sms.exceptions.ResourceNotFoundException, match="phone number nope not found"):
        configure(sms, "nope", TOPIC)
