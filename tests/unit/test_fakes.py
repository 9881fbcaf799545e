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
              "ClientToken": "row-1", "QueueId": "queue"}
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


# --- Customer Profiles ---------------------------------------------------------
def _json(value) -> str:
    import json

    return json.dumps(value)


def _profiles_domain(aws, name="d"):
    client = aws.client("customer-profiles")
    client.create_domain(DomainName=name, DefaultExpirationDays=30)
    return client


def _contact_type(client, object_type="Contact", **keys):
    fields = {"acct": {"Source": "_source.acct"}, "email": {"Source": "_source.email", "ContentType": "EMAIL_ADDRESS",
                                                             "Target": "_profile.EmailAddress"},
              "tier": {"Source": "_source.tier", "Target": "_profile.Attributes.tier"}}
    client.put_profile_object_type(
        DomainName="d", ObjectTypeName=object_type, Description="d", AllowProfileCreation=True, Fields=fields,
        Keys=keys or {"acct": [{"StandardIdentifiers": ["PROFILE", "UNIQUE"], "FieldNames": ["acct"]}],
                      "_email": [{"FieldNames": ["email"]}]})


@pytest.mark.parametrize(("keys", "message"), [
    ({"acct": [{"StandardIdentifiers": ["PROFILE"], "FieldNames": ["acct"]}]}, "exactly one key with a UNIQUE"),
    ({"acct": [{"StandardIdentifiers": ["PROFILE", "UNIQUE"], "FieldNames": ["nope"]}]}, "fields defined"),
    ({"acct": [{"StandardIdentifiers": ["UNIQUE", "LOOKUP_ONLY", "PROFILE"], "FieldNames": ["acct"]}]},
     "UNIQUE cannot be combined"),
    ({"_acct": [{"StandardIdentifiers": ["PROFILE", "UNIQUE"], "FieldNames": ["acct"]}]}, "predefined key"),
])
def test_customer_profiles_refuses_an_object_type_that_breaks_the_documented_rules(fakes, aws, keys, message):
    client = _profiles_domain(aws)
    with pytest.raises(client.exceptions.BadRequestException, match=message):
        _contact_type(client, **keys)


def test_customer_profiles_targets_must_be_fields_of_the_standard_profile(fakes, aws):
    client = _profiles_domain(aws)
    with pytest.raises(client.exceptions.BadRequestException, match="Adress"):
        client.put_profile_object_type(
            DomainName="d", ObjectTypeName="T", Description="d", Fields={
                "id": {"Source": "_source.id"}, "city": {"Source": "_source.city", "Target": "_profile.Adress.City"}},
            Keys={"id": [{"StandardIdentifiers": ["PROFILE", "UNIQUE"], "FieldNames": ["id"]}]})


def test_customer_profiles_object_types_hold_at_most_250_fields(fakes, aws):
    client = _profiles_domain(aws)
    fields = {f"f{i}": {"Source": f"_source.f{i}"} for i in range(251)}
    _refused(lambda: client.put_profile_object_type(
        DomainName="d", ObjectTypeName="T", Description="d", Fields=fields,
        Keys={"f0": [{"StandardIdentifiers": ["PROFILE", "UNIQUE"], "FieldNames": ["f0"]}]}), "250 fields")


def test_customer_profiles_batches_hold_at_most_ten_objects_and_need_a_domain(fakes, aws):
    client = _profiles_domain(aws)
    _contact_type(client)
    items = [{"Id": str(i), "Object": _json({"acct": str(i)})} for i in range(11)]
    _refused(lambda: client.batch_put_profile_object(DomainName="d", ObjectTypeName="Contact", Items=items), "10")
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.batch_put_profile_object(DomainName="other", ObjectTypeName="Contact", Items=items[:1])


def test_customer_profiles_an_ambiguous_profile_key_is_skipped_and_a_new_profile_made(fakes, aws):
    client = _profiles_domain(aws)
    _contact_type(client)
    for acct, email in (("1", "shared@example.com"), ("2", "shared@example.com"), ("3", "own@example.com")):
        client.put_profile_object(DomainName="d", ObjectTypeName="Contact",
                                  Object=_json({"acct": acct, "email": email}))
    _contact_type(client, "Ticket", ticket=[{"StandardIdentifiers": ["UNIQUE"], "FieldNames": ["acct"]}],
                  _email=[{"StandardIdentifiers": ["PROFILE"], "FieldNames": ["email"]}])
    for ticket, email in (("t1", "Shared@example.com"), ("t2", "own@example.com")):
        client.put_profile_object(DomainName="d", ObjectTypeName="Ticket",
                                  Object=_json({"acct": ticket, "email": email}))
    assert len(fakes.profiles.profiles) == 4  # t1 matched two profiles: a new one; t2 went to account 3's
    found = client.search_profiles(DomainName="d", KeyName="_email", Values=["OWN@example.com"])["Items"]
    assert len(found) == 1


def test_customer_profiles_ingestion_keeps_what_update_profile_set_and_an_empty_string_removes(fakes, aws):
    client = _profiles_domain(aws)
    _contact_type(client)
    put = client.put_profile_object
    put(DomainName="d", ObjectTypeName="Contact", Object=_json({"acct": "1", "tier": "basic"}))
    profile_id = next(iter(fakes.profiles.profiles))
    client.update_profile(DomainName="d", ProfileId=profile_id, Attributes={"tier": "gold", "vip": "true"})
    put(DomainName="d", ObjectTypeName="Contact", Object=_json({"acct": "1", "tier": "silver"}))
    assert fakes.profiles.profiles[profile_id]["Attributes"] == {"tier": "gold", "vip": "true"}
    client.update_profile(DomainName="d", ProfileId=profile_id, Attributes={"vip": ""})
    assert fakes.profiles.profiles[profile_id]["Attributes"] == {"tier": "gold"}
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.update_profile(DomainName="d", ProfileId="0" * 32, Attributes={"vip": "true"})


def test_customer_profiles_created_profiles_are_found_by_email_and_phone(fakes, aws):
    client = _profiles_domain(aws)
    profile_id = client.create_profile(DomainName="d", EmailAddress="Ana@Example.com", PhoneNumber="+14255550100",
                                       Attributes={"email_opened": "true"})["ProfileId"]
    by_email = client.search_profiles(DomainName="d", KeyName="_email", Values=["ana@example.com"])["Items"]
    by_phone = client.search_profiles(DomainName="d", KeyName="_phone", Values=["+14255550100"])["Items"]
    assert [p["ProfileId"] for p in by_email] == [p["ProfileId"] for p in by_phone] == [profile_id]
    assert by_email[0]["Attributes"] == {"email_opened": "true"}


def test_customer_profiles_segment_definitions_select_profiles_by_custom_attribute(fakes, aws):
    client = _profiles_domain(aws)
    opened = client.create_profile(DomainName="d", Attributes={"email_opened": "true"})["ProfileId"]
    client.create_profile(DomainName="d", Attributes={"email_opened": "false"})
    client.create_profile(DomainName="d")
    groups = {"Include": "ALL", "Groups": [{"Type": "ALL", "Dimensions": [{"ProfileAttributes": {"Attributes": {
        "email_opened": {"DimensionType": "INCLUSIVE", "Values": ["true"]}}}}]}]}
    client.create_segment_definition(DomainName="d", SegmentDefinitionName="opened", DisplayName="Opened",
                                     SegmentGroups=groups)
    assert fakes.profiles.segment_members("d", "opened") == {opened}
    assert client.get_segment_definition(DomainName="d", SegmentDefinitionName="opened")["SegmentGroups"] == groups
    with pytest.raises(client.exceptions.BadRequestException, match="already exists"):
        client.create_segment_definition(DomainName="d", SegmentDefinitionName="opened", DisplayName="Opened")
    contains = {"Groups": [{"Dimensions": [{"ProfileAttributes": {"Attributes": {
        "email_opened": {"DimensionType": "CONTAINS", "Values": ["t"]}}}}]}]}
    with pytest.raises(client.exceptions.BadRequestException, match="CONTAINS"):
        client.create_segment_definition(DomainName="d", SegmentDefinitionName="c", DisplayName="C",
                                         SegmentGroups=contains)
