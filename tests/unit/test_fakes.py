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
