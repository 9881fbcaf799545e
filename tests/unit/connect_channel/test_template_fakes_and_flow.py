"""The contact flow the template creates is the example's; the fakes answer as Connect and End User Messaging do."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from botocore.exceptions import ClientError

from due.connect_channel.requests import MESSAGE_ATTRIBUTE
from scripts.cfn import load_template

REPO = Path(__file__).resolve().parents[3]
FLOW = json.loads((REPO / "examples" / "connect_as_a_channel" / "contact_flow.json").read_text())
CALL = {"DestinationPhoneNumber": "+14255550123", "ContactFlowId": "flow", "InstanceId": "inst", "QueueId": "q"}


def test_the_template_creates_the_example_contact_flow():
    content = load_template("Connect_as_a_Channel")["Resources"]["ContactFlow"]["Properties"]["Content"]
    assert json.loads(content) == FLOW


def test_the_flow_speaks_the_attribute_the_dialler_sets_then_hangs_up():
    actions = {a["Identifier"]: a for a in FLOW["Actions"]}
    action, spoken = actions[FLOW["StartAction"]], []
    while action["Type"] != "DisconnectParticipant":
        if action["Type"] == "MessageParticipant":
            spoken.append(action["Parameters"]["Text"])
        action = actions[action["Transitions"]["NextAction"]]
    assert spoken == [f"$.Attributes.{MESSAGE_ATTRIBUTE}"]


def test_taskcat_deploys_it_only_where_connect_and_its_campaigns_exist():
    import cfnlint

    providers = Path(cfnlint.__file__).parent / "data" / "schemas" / "providers"
    (test,) = [t for t in yaml.safe_load((REPO / ".taskcat.yml").read_text())["tests"].values()
               if t["template"] == "templates/Connect_as_a_Channel.yaml"]
    for region in test["regions"]:
        types = json.loads((providers / f"{region}.json").read_text())
        assert {"AWS::Connect::ContactFlow", "AWS::ConnectCampaignsV2::Campaign"} <= set(types), region


def test_a_token_returns_the_call_while_it_is_up_and_starts_another_once_it_ended(fakes, aws):
    connect = aws.client("connect")
    first = connect.start_outbound_voice_contact(ClientToken="t", **CALL)["ContactId"]
    assert connect.start_outbound_voice_contact(ClientToken="t", **CALL)["ContactId"] == first
    event = fakes.connect.disconnect(first)
    assert (event["detail"]["eventType"], event["detail"]["contactId"]) == ("DISCONNECTED", first)
    assert connect.start_outbound_voice_contact(ClientToken="t", **CALL)["ContactId"] != first


@pytest.mark.parametrize(("change", "code"), [
    ({"QueueId": None}, "InvalidRequestException"),
    ({"Attributes": {"not a key": "x"}}, "InvalidParameterException"),
    ({"Attributes": {"a": "x" * 20_000, "b": "x" * 20_000}}, "InvalidParameterException")])
def test_the_connect_fake_refuses_what_connect_refuses(fakes, aws, change, code):
    call = {k: v for k, v in {**CALL, **change}.items() if v is not None}
    with pytest.raises(ClientError) as refused:
        aws.client("connect").start_outbound_voice_contact(**call)
    assert refused.value.response["Error"]["Code"] == code


def test_a_call_over_the_instances_limit_is_a_fast_busy_not_an_error(fakes, aws):
    fakes.connect.concurrent_limit = 1
    connect = aws.client("connect")
    connect.start_outbound_voice_contact(**CALL)
    connect.start_outbound_voice_contact(**{**CALL, "DestinationPhoneNumber": "+14255550124"})
    assert [c["DestinationPhoneNumber"] for c in fakes.connect.fast_busy] == ["+14255550124"]


def test_voice_messages_and_the_opt_out_filter(fakes, aws):
    sms = aws.client("pinpoint-sms-voice-v2")
    sms.put_opted_out_number(OptOutListName="Default", OptedOutNumber="+14255550123")
    assert sms.describe_opted_out_numbers(OptOutListName="Default", OptedOutNumbers=["+14255550999"])[
        "OptedOutNumbers"] == []
    with pytest.raises(ClientError) as refused:
        sms.send_voice_message(DestinationPhoneNumber="+14255550123", OriginationIdentity="pool-1",
                               MessageBody="hi")
    assert refused.value.response["Error"]["Code"] == "ConflictException"
    with pytest.raises(ClientError):  # E.164 only, as the API reference says (the model allows no "+")
        sms.send_voice_message(DestinationPhoneNumber="14255550124", OriginationIdentity="pool-1", MessageBody="hi")
    sms.send_voice_message(DestinationPhoneNumber="+14255550124", OriginationIdentity="pool-1", MessageBody="hi",
                           VoiceId="JOANNA")
    assert [m["DestinationPhoneNumber"] for m in fakes.sms.voice_messages] == ["+14255550124"]


def test_every_action_that_can_fail_names_its_error_branch():
    # Amazon Connect API reference, flow language actions: UpdateContactTextToSpeechVoice and MessageParticipant
    # "Errors: NoMatchingError - if no other Error matches. Must always be defined."; DisconnectParticipant has none.
    for action in FLOW["Actions"]:
        if action["Type"] == "DisconnectParticipant":
            continue
        errors = action["Transitions"].get("Errors", [])
        assert [e["ErrorType"] for e in errors] == ["NoMatchingError"], action["Type"]


def _sender_environment(given: dict[str, str]) -> dict[str, str]:
    """The sender's environment as CloudFormation would set it (Ref, Sub with a map, If), other values stubbed."""
    from scripts.cfn import evaluate_conditions, parameter_values, resolve_conditionals

    template = load_template("Connect_as_a_Channel")
    parameters = parameter_values(template, given)
    variables = resolve_conditionals(template["Resources"]["SenderFunction"]["Properties"]["Environment"]["Variables"],
                                     evaluate_conditions(template, parameters))

    def value(item):
        if isinstance(item, dict) and set(item) == {"Ref"}:
            return parameters.get(item["Ref"], "resource")
        if isinstance(item, dict) and set(item) == {"Fn::Sub"} and isinstance(item["Fn::Sub"], list):
            text, names = item["Fn::Sub"]
            for name, inner in names.items():
                text = text.replace("${" + name + "}", value(inner))
            return text
        return item if isinstance(item, str) else "resource"

    return {name: value(item) for name, item in variables.items()}


def test_the_call_timeout_in_minutes_reaches_the_call_slots_in_seconds(aws, monkeypatch):
    from due.connect_channel import sender_handler

    environment = _sender_environment({"ConnectInstanceId": "i", "QueueId": "q", "CallTimeoutMinutes": "30"})
    for name, setting in environment.items():
        monkeypatch.setenv(name, setting)
    assert sender_handler._dialer()._slots._lease == 30 * 60


def test_pinpoint_invokes_the_hook_as_its_regional_principal_for_the_project_only():
    # Pinpoint Developer Guide, "Grant Amazon Pinpoint permission to invoke the Lambda function":
    # --principal pinpoint.us-east-1.amazonaws.com --source-arn arn:aws:mobiletargeting:...:apps/*.
    permission = load_template("Connect_as_a_Channel")["Resources"]["HookPermission"]["Properties"]
    assert permission["Principal"] == {"Fn::Sub": "pinpoint.${AWS::Region}.amazonaws.com"}
    assert permission["SourceArn"]["Fn::Sub"].endswith(":apps/${PinpointApplicationId}/*")


def _rule_holds(expression, parameters: dict[str, str]) -> bool:
    """A rule assertion for these parameter values (the rule functions the template uses)."""
    def value(operand):
        return parameters[operand["Ref"]] if isinstance(operand, dict) and "Ref" in operand else operand

    (function, arguments), = expression.items()
    if function == "Fn::Or":
        return any(_rule_holds(a, parameters) for a in arguments)
    if function == "Fn::Not":
        return not _rule_holds(arguments[0], parameters)
    if function == "Fn::Equals":
        return str(value(arguments[0])) == str(value(arguments[1]))
    if function == "Fn::Contains":
        return str(value(arguments[1])) in [str(v) for v in arguments[0]]
    raise AssertionError(f"unexpected rule function {function}")


@pytest.mark.parametrize(("start", "end", "valid"), [
    (9, 20, True), (0, 24, True), (0, 1, True), (23, 24, True), (22, 23, True),
    (20, 9, False), (9, 9, False), (23, 1, False), (12, 12, False)])
def test_a_calling_window_that_is_no_span_of_hours_is_refused_at_deploy(start, end, valid):
    rule = load_template("Connect_as_a_Channel")["Rules"]["CallingWindowIsASpanOfHours"]
    values = {"CallingWindowStartHour": str(start), "CallingWindowEndHour": str(end)}
    assert all(_rule_holds(a["Assert"], values) for a in rule["Assertions"]) is valid


def test_a_default_time_zone_that_is_no_zone_is_a_named_configuration_error():
    from due.connect_channel.rules import CallRules

    with pytest.raises(ValueError, match="DefaultTimeZone 'America/Nowhere' is not an IANA time zone"):
        CallRules(default_time_zone="America/Nowhere")
    pattern = load_template("Connect_as_a_Channel")["Parameters"]["DefaultTimeZone"]["AllowedPattern"]
    import re

    assert all(re.fullmatch(pattern, z) for z in ("America/New_York", "America/Argentina/Buenos_Aires", "UTC",
                                                   "Etc/GMT+5"))
    assert not any(re.fullmatch(pattern, z) for z in ("", "EST5EDT x", "new_york", "America/"))


@pytest.mark.parametrize(("start", "end", "times"), [
    ("9", "20", ("T09:00", "T20:00")), ("0", "24", ("T00:00", "T23:59"))])
def test_the_outbound_campaign_calls_inside_the_calling_window_and_shows_in_the_console(start, end, times):
    campaign = load_template("Connect_as_a_Channel")["Resources"]["OutboundCampaign"]["Properties"]
    hours = {"CallingWindowStartHour": start, "CallingWindowEndHour": end}

    def pick(select):
        index, values = select["Fn::Select"]
        return values[int(hours[index["Ref"]])]

    daily = campaign["CommunicationTimeConfig"]["Telephony"]["OpenHours"]["DailyHours"]
    assert {d["Key"] for d in daily} == {"MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"}
    for day in daily:
        (window,) = day["Value"]
        assert (pick(window["StartTime"]), pick(window["EndTime"])) == times
    zones = campaign["CommunicationTimeConfig"]["LocalTimeZoneConfig"]
    assert zones["DefaultTimeZone"] == {"Ref": "DefaultTimeZone"}
    (owner,) = campaign["Tags"]
    assert owner["Key"] == "owner" and owner["Value"]["Fn::Sub"].endswith(":instance/${ConnectInstanceId}")


def test_the_campaign_is_refused_without_a_flow_of_its_own():
    rule = load_template("Connect_as_a_Channel")["Rules"]["CampaignNeedsConnectAndASegment"]
    given = {"Channel": "Connect", "CampaignSegmentArn": "arn:aws:profile:x", "ContactFlowId": ""}

    def holds(expression):
        (function, arguments), = expression.items()
        if function == "Fn::And":
            return all(holds(a) for a in arguments)
        return _rule_holds(expression, given)

    assert not all(holds(a["Assert"]) for a in rule["Assertions"])
    given["ContactFlowId"] = "flow-1"
    assert all(holds(a["Assert"]) for a in rule["Assertions"])
