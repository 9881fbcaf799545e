"""The fakes behave like the services they stand in for, as far as botocore can tell."""

import pytest
from botocore.exceptions import ClientError, ParamValidationError

from due import aws as due_aws


def test_requests_are_validated_against_the_real_service_model(fakes, aws):
    with pytest.raises(ParamValidationError):
        aws.client("sesv2").put_suppressed_destination(EmailAddress="a@example.com")  # Reason missing
    with pytest.raises(ParamValidationError):
        aws.client("pinpoint-sms-voice-v2").send_text_message(DestinationPhoneNumber=12345)
    assert fakes.sesv2.calls == [] and fakes.sms.calls == []


def test_errors_arrive_as_the_service_error(fakes, aws):
    with pytest.raises(aws.client("sesv2").exceptions.NotFoundException):
        aws.client("sesv2").get_email_template(TemplateName="missing")


def test_injected_throttling_is_retried_by_botocore(fakes, no_backoff):
    fakes.sms.fail_next("SendTextMessage", "ThrottlingException", times=2)
    response = due_aws.client("pinpoint-sms-voice-v2").send_text_message(
        DestinationPhoneNumber="+14255550123", MessageBody="hi")
    assert response["ResponseMetadata"]["RetryAttempts"] == 2
    assert len(fakes.sms.sent) == 1


def test_non_retryable_error_is_raised_at_once(fakes):
    fakes.sesv2.fail_next("PutSuppressedDestination", "BadRequestException", status=400)
    with pytest.raises(ClientError, match="BadRequestException"):
        due_aws.client("sesv2").put_suppressed_destination(EmailAddress="a@example.com", Reason="BOUNCE")
    assert len(fakes.sesv2.calls) == 1


def test_operations_a_fake_lacks_pass_through_to_moto(fakes, aws):
    application = aws.client("pinpoint").create_app(CreateApplicationRequest={"Name": "p"})
    assert application["ApplicationResponse"]["Name"] == "p"
    assert fakes.pinpoint.calls == []


def test_pinpoint_endpoints_merge_attributes(fakes, aws):
    pinpoint = aws.client("pinpoint")
    pinpoint.update_endpoint(ApplicationId="app", EndpointId="e1",
                             EndpointRequest={"Address": "a@example.com", "ChannelType": "EMAIL",
                                              "Attributes": {"a": ["1"]}})
    pinpoint.update_endpoints_batch(ApplicationId="app", EndpointBatchRequest={"Item": [
        {"Id": "e1", "Attributes": {"b": ["2"]}}]})
    endpoint = pinpoint.get_endpoint(ApplicationId="app", EndpointId="e1")["EndpointResponse"]
    assert endpoint["Attributes"] == {"a": ["1"], "b": ["2"]}
    assert endpoint["Address"] == "a@example.com"


def test_sms_opt_out_list_round_trip(fakes, aws):
    sms = aws.client("pinpoint-sms-voice-v2")
    sms.put_opted_out_number(OptOutListName="Default", OptedOutNumber="+14255550123")
    listed = sms.describe_opted_out_numbers(OptOutListName="Default")["OptedOutNumbers"]
    assert [n["OptedOutNumber"] for n in listed] == ["+14255550123"]
    sms.delete_opted_out_number(OptOutListName="Default", OptedOutNumber="+14255550123")
    with pytest.raises(sms.exceptions.ResourceNotFoundException):
        sms.put_opted_out_number(OptOutListName="Missing", OptedOutNumber="+14255550123")


def test_connect_outbound_call_is_idempotent_by_client_token(fakes, aws):
    connect = aws.client("connect")
    kwargs = {"DestinationPhoneNumber": "+14255550123", "ContactFlowId": "flow", "InstanceId": "inst",
              "ClientToken": "row-1"}
    first = connect.start_outbound_voice_contact(**kwargs)["ContactId"]
    assert connect.start_outbound_voice_contact(**kwargs)["ContactId"] == first
    assert len(fakes.connect.contacts) == 1


# --- the fakes refuse what AWS refuses, beyond botocore's minimums ---------------------------------------------

def _refused(call, member: str) -> str:
    with pytest.raises(ClientError) as raised:
        call()
    error = raised.value.response["Error"]
    assert error["Code"] == "ValidationException" and member in error["Message"], error
    return error["Message"]


def test_a_string_over_the_models_maximum_length_is_refused(fakes, aws):
    sms = aws.client("pinpoint-sms-voice-v2")  # TextMessageBody: max 1600
    _refused(lambda: sms.send_text_message(DestinationPhoneNumber="+14255550123", MessageBody="x" * 1601),
             "MessageBody")
    assert fakes.sms.sent == []


def test_a_list_or_map_over_the_models_maximum_items_is_refused(fakes, aws):
    sms = aws.client("pinpoint-sms-voice-v2")  # ContextMap: max 5 entries
    context = {f"k{i}": "v" for i in range(6)}
    _refused(lambda: sms.send_text_message(DestinationPhoneNumber="+14255550123", MessageBody="hi",
                                           Context=context), "Context")


def test_a_number_over_the_models_maximum_value_is_refused(fakes, aws):
    sms = aws.client("pinpoint-sms-voice-v2")  # TimeToLive: max 259200 seconds
    _refused(lambda: sms.send_text_message(DestinationPhoneNumber="+14255550123", MessageBody="hi",
                                           TimeToLive=259201), "TimeToLive")


def test_a_string_that_breaks_the_models_pattern_is_refused(fakes, aws):
    sms = aws.client("pinpoint-sms-voice-v2")  # OptOutListNameOrArn: [A-Za-z0-9_:/-]+
    _refused(lambda: sms.put_opted_out_number(OptOutListName="not allowed!", OptedOutNumber="+14255550123"),
             "OptOutListName")


def test_a_value_outside_the_models_enum_is_refused(fakes, aws):
    sms = aws.client("pinpoint-sms-voice-v2")
    _refused(lambda: sms.send_text_message(DestinationPhoneNumber="+14255550123", MessageBody="hi",
                                           MessageType="MARKETING"), "MessageType")


def test_a_nested_member_is_checked_and_named_by_its_path(fakes, aws):
    pinpoint = aws.client("pinpoint")  # ChannelType is an enum inside each batch item
    message = _refused(lambda: pinpoint.update_endpoints_batch(ApplicationId="app", EndpointBatchRequest={
        "Item": [{"Id": "e1"}, {"Id": "e2", "ChannelType": "CARRIER_PIGEON"}]}), "ChannelType")
    assert "EndpointBatchRequest.Item[1].ChannelType" in message
    assert fakes.pinpoint.endpoints == {}


def test_documented_batch_limits_the_model_lacks_are_refused(fakes, aws):
    pinpoint = aws.client("pinpoint")
    items = [{"Id": f"e{i}"} for i in range(101)]
    _refused(lambda: pinpoint.update_endpoints_batch(ApplicationId="app", EndpointBatchRequest={"Item": items}),
             "up to 100 endpoint definitions")
    pinpoint.update_endpoints_batch(ApplicationId="app", EndpointBatchRequest={"Item": items[:100]})
    assert len(fakes.pinpoint.endpoints) == 100


def test_documented_formats_the_model_lacks_are_refused(fakes, aws):
    sms = aws.client("pinpoint-sms-voice-v2")  # the model's pattern takes a number without "+"; AWS wants E.164
    _refused(lambda: sms.send_text_message(DestinationPhoneNumber="14255550123", MessageBody="hi"), "E.164")
    _refused(lambda: sms.put_opted_out_number(OptOutListName="Default", OptedOutNumber="14255550123"), "E.164")


def test_refused_values_stay_out_of_the_message(fakes, aws):
    sms = aws.client("pinpoint-sms-voice-v2")
    message = _refused(lambda: sms.send_text_message(DestinationPhoneNumber="14255550123", MessageBody="hi"),
                       "DestinationPhoneNumber")
    assert "14255550123" not in message


def test_every_model_pattern_of_the_faked_services_is_checked_but_a_known_few():
    """Java patterns Python cannot compile (\\p{...} classes) go unchecked; this keeps that list known and short."""
    import botocore.session

    from due_local import fakes as fakes_module

    session = botocore.session.get_session()
    unchecked = set()
    for service in ("sesv2", "pinpoint", "pinpoint-sms-voice-v2", "connect", "athena", "dynamodb"):
        model = session.get_service_model(service)
        for name in model.shape_names:
            pattern = model.shape_for(name).metadata.get("pattern")
            if pattern and fakes_module._model_pattern(pattern) is None:
                unchecked.add(pattern)
    assert unchecked <= fakes_module.UNCHECKED_PATTERNS
    assert all("p{" in p or "P{" in p for p in unchecked), unchecked
    assert len(unchecked) == 15  # botocore 1.44.8: Connect's and DynamoDB's \\p{...} classes


def test_carrier_lookup_answers_in_e164_with_the_line_type(fakes, aws):
    sms = aws.client("pinpoint-sms-voice-v2")
    mobile = sms.carrier_lookup(PhoneNumber="+1 (206) 555-0100")  # formatting characters are removed
    assert (mobile["E164PhoneNumber"], mobile["PhoneNumberType"], mobile["IsoCountryCode"],
            mobile["DialingCountryCode"]) == ("+12065550100", "MOBILE", "US", "1")
    assert sms.carrier_lookup(PhoneNumber="+442079460018")["PhoneNumberType"] == "LANDLINE"
    assert sms.carrier_lookup(PhoneNumber="+447700900123")["PhoneNumberType"] == "INVALID"  # no operator holds it
    fakes.sms.lookup_answers["+12065550100"] = {"PhoneNumberType": "VOIP", "Carrier": "Example Voice"}
    voip = sms.carrier_lookup(PhoneNumber="+12065550100")
    assert (voip["PhoneNumberType"], voip["Carrier"]) == ("VOIP", "Example Voice")


def test_carrier_lookup_refuses_a_number_without_its_country_code(fakes, aws):
    sms = aws.client("pinpoint-sms-voice-v2")
    _refused(lambda: sms.carrier_lookup(PhoneNumber="(206) 555-0100"), "PhoneNumber")


def test_phone_number_validate_reads_a_national_number_in_the_given_country(fakes, aws):
    pinpoint = aws.client("pinpoint")
    answer = pinpoint.phone_number_validate(
        NumberValidateRequest={"PhoneNumber": "020 7946 0018", "IsoCountryCode": "GB"})["NumberValidateResponse"]
    assert (answer["CleansedPhoneNumberE164"], answer["PhoneType"], answer["PhoneTypeCode"],
            answer["CountryCodeIso2"]) == ("+442079460018", "LANDLINE", 1, "GB")
    fakes.pinpoint.lookup_answers["+442079460018"] = {"PhoneType": "PREPAID"}
    prepaid = pinpoint.phone_number_validate(NumberValidateRequest={"PhoneNumber": "+442079460018"})
    assert prepaid["NumberValidateResponse"]["PhoneTypeCode"] == 5
    with pytest.raises(pinpoint.exceptions.BadRequestException):
        pinpoint.phone_number_validate(NumberValidateRequest={"PhoneNumber": "call me"})
