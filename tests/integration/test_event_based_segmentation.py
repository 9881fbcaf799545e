"""Event-based segmentation deployed on the emulator: Pinpoint mode, rules from S3, a rule set refused at deploy."""

from __future__ import annotations

import json

import pytest

from due_local.cfn_response import ResponseCatcher
from due_local.flows import EXAMPLES, put_segmentation_events
from scripts.deploy import deploy_local

pytestmark = pytest.mark.integration

AWS_EXAMPLES = EXAMPLES.parents[1] / "shared" / "aws-examples" / "pinpoint_events"


def deploy(emulator, artifacts, **parameters):
    stack = deploy_local(emulator, artifacts, "Event_Based_Segmentation", parameters)
    emulator.complete_wiring(stack)
    return stack


def test_pinpoint_mode_updates_endpoints_from_the_projects_event_stream(emulator, artifacts):
    pinpoint = emulator.client("pinpoint")
    project = pinpoint.create_app(CreateApplicationRequest={"Name": "webinars"})["ApplicationResponse"]["Id"]
    pinpoint.update_endpoint(ApplicationId=project, EndpointId="ep-ana", EndpointRequest={
        "Address": "ana@example.com", "ChannelType": "EMAIL", "Attributes": {"webinar_registration": ["webinar2"]}})
    stack = deploy(emulator, artifacts, Mode="Pinpoint", PinpointApplicationId=project)
    stream = pinpoint.get_event_stream(ApplicationId=project)["EventStream"]
    assert stream["DestinationStreamArn"] == stack.outputs["EventStreamArn"]

    # A custom event as Pinpoint streams it (PutEvents from the app): event_type, client, attributes.
    registrations = [{"event_type": "webinar.registration", "event_timestamp": 1795166110512 + n,
                      "arrival_timestamp": 1795166110600 + n, "application": {"app_id": project},
                      "client": {"client_id": "ep-ana"}, "attributes": {"webinar_id": webinar}}
                     for n, webinar in enumerate(("webinar5", "webinar2", "webinar5"))]
    put_segmentation_events(emulator, stack, [*registrations, {"event_type": "webinar.registration",
                                                              "client": {"client_id": "ep-unknown"},
                                                              "event_timestamp": 1795166110512,
                                                              "attributes": {"webinar_id": "webinar5"}}])

    endpoint = pinpoint.get_endpoint(ApplicationId=project, EndpointId="ep-ana")["EndpointResponse"]
    assert endpoint["Attributes"]["webinar_registration"] == ["webinar2", "webinar5"]
    assert len(emulator.fakes.pinpoint.calls_of("UpdateEndpointsBatch")) == 1  # one batch, one call
    with pytest.raises(pinpoint.exceptions.NotFoundException):  # no rule creates endpoints
        pinpoint.get_endpoint(ApplicationId=project, EndpointId="ep-unknown")


def test_pinpoint_mode_reads_pinpoints_own_email_open_example(emulator, artifacts):
    example = AWS_EXAMPLES / "email_open.json"
    if not example.exists():
        pytest.skip(f"{example} is absent (AWS's published examples live beside the repository)")
    record = json.loads(example.read_text())
    pinpoint = emulator.client("pinpoint")
    project = pinpoint.create_app(CreateApplicationRequest={"Name": "mail"})["ApplicationResponse"]["Id"]
    endpoint_id = record["client"]["client_id"]
    pinpoint.update_endpoint(ApplicationId=project, EndpointId=endpoint_id, EndpointRequest={"ChannelType": "EMAIL"})
    stack = deploy(emulator, artifacts, Mode="Pinpoint", PinpointApplicationId=project)
    put_segmentation_events(emulator, stack, [record])
    endpoint = pinpoint.get_endpoint(ApplicationId=project, EndpointId=endpoint_id)["EndpointResponse"]
    assert endpoint["Attributes"]["email_opened"] == ["true"]


def test_rules_from_s3_are_used_instead_of_the_parameter(emulator, artifacts):
    s3 = emulator.client("s3")
    s3.create_bucket(Bucket="segmentation-rules")
    s3.put_object(Bucket="segmentation-rules", Key="rules.json", Body=json.dumps({"rules": [
        {"name": "vip", "event_type": "purchase", "when": [{"path": "attributes.total", "equals": "1000"}],
         "set": {"attribute": "big_spender", "value": "true"}}]}))
    stack = deploy(emulator, artifacts, RulesBucket="segmentation-rules", RulesKey="rules.json")
    profiles = emulator.client("customer-profiles")
    ana = profiles.create_profile(DomainName=stack.outputs["ProfilesDomainName"],
                                  EmailAddress="ana@example.com")["ProfileId"]
    put_segmentation_events(emulator, stack, [
        {"event_type": "purchase", "person": {"email": "ana@example.com"}, "attributes": {"total": 1000}},
        {"event_type": "_email.open", "person": {"email": "ana@example.com"}}])  # the default rules are not used
    assert emulator.fakes.profiles.profiles[ana]["Attributes"] == {"big_spender": "true"}


BAD_RULES = json.dumps({"rules": [{"name": "consent", "event_type": "_SMS.OPTOUT",
                                  "set": {"attribute": "sms_opt_out", "value": "true"}}]})


@pytest.mark.parametrize(("properties", "message"), [
    ({"Rules": BAD_RULES}, "rule 1 ('consent'): attribute 'sms_opt_out' belongs to another writer"),
    ({"RulesBucket": "segmentation-rules", "RulesKey": "missing.json"},
     "the rule set at s3://segmentation-rules/missing.json cannot be read"),
])
def test_the_rule_check_tells_cloudformation_which_rule_is_wrong(emulator, artifacts, properties, message):
    """What CloudFormation shows as the stack's failure. moto never ends a stack whose custom resource answered
    FAILED (it waits, in progress), so the check is sent what CloudFormation sends on an update, and its answer
    read."""
    stack = deploy(emulator, artifacts)
    emulator.client("s3").create_bucket(Bucket="segmentation-rules")
    catcher = ResponseCatcher()
    try:
        event = catcher.event("Update", {"Mode": "profiles", **properties}, physical_id="rules",
                              old={"Mode": "profiles"})
        emulator.runtime.invoke(emulator.function_spec(stack, "RulesCheckFunction"), event)
    finally:
        catcher.close()
    [response] = catcher.responses
    assert response["Status"] == "FAILED"
    assert message in response["Reason"]
