"""SES_Auto_Reply wires its receipt rule, permission and activation correctly, for every parameter choice."""

import pytest

from scripts.cfn import evaluate_conditions, load_template, parameter_values, resolve_conditionals

TEMPLATE = load_template("SES_Auto_Reply")
STACK_UUID = {"Fn::Select": [2, {"Fn::Split": ["/", {"Ref": "AWS::StackId"}]}]}
# The rule set and rule names fit SES's 64 characters whatever the stack name (test_stack_name_limits).
RULE_NAME = {"Fn::Sub": ["auto-reply-${StackUuid}", {"StackUuid": STACK_UUID}]}


def resources(**parameters) -> dict:
    values = parameter_values(TEMPLATE, {"TemplateName": "t", **parameters})
    return resolve_conditionals(TEMPLATE["Resources"], evaluate_conditions(TEMPLATE, values))


def test_the_permission_exists_before_the_rule_and_names_exactly_that_rule():
    rule, permission = TEMPLATE["Resources"]["ReceiptRule"], TEMPLATE["Resources"]["SesInvokePermission"]["Properties"]
    assert rule["DependsOn"] == "SesInvokePermission"
    assert permission["Principal"] == "ses.amazonaws.com"
    assert permission["SourceAccount"] == {"Ref": "AWS::AccountId"}
    arn, variables = permission["SourceArn"]["Fn::Sub"]
    assert arn.endswith(":receipt-rule-set/${RuleSet}:receipt-rule/auto-reply-${StackUuid}")
    assert variables["StackUuid"] == STACK_UUID
    assert rule["Properties"]["Rule"]["Name"] == RULE_NAME
    assert permission["FunctionName"] == {"Fn::GetAtt": ["ResponderFunction", "Arn"]}


@pytest.mark.parametrize(("given", "rule_set"), [
    ({}, {"Ref": "ReceiptRuleSet"}),
    ({"ReceiptRuleSetName": "existing"}, {"Ref": "ReceiptRuleSetName"}),
])
def test_rule_and_permission_agree_on_the_rule_set(given, rule_set):
    decided = resources(**given)
    assert decided["ReceiptRule"]["Properties"]["RuleSetName"] == rule_set
    permission_rule_set = decided["SesInvokePermission"]["Properties"]["SourceArn"]["Fn::Sub"][1]["RuleSet"]
    if given:
        assert permission_rule_set == {"Ref": "ReceiptRuleSetName"}
    else:
        assert permission_rule_set == RULE_NAME == TEMPLATE["Resources"]["ReceiptRuleSet"]["Properties"][
            "RuleSetName"]


def test_the_rule_invokes_the_responder_asynchronously_with_scanning_on():
    rule = resources()["ReceiptRule"]["Properties"]["Rule"]
    assert rule["ScanEnabled"] is True
    assert rule["Actions"] == [{"LambdaAction": {"FunctionArn": {"Fn::GetAtt": ["ResponderFunction", "Arn"]},
                                                 "InvocationType": "Event"}}]
    assert "Recipients" not in rule  # empty parameter: every recipient


def test_recipients_become_a_list_and_stop_is_optional():
    rule = resources(Recipients="a@example.com,example.org", StopAfterReply="true")["ReceiptRule"]["Properties"]
    assert rule["Rule"]["Recipients"] == {"Fn::Split": [",", {"Ref": "Recipients"}]}
    assert rule["Rule"]["Actions"][1] == {"StopAction": {"Scope": "RuleSet"}}
    assert "After" not in rule
    assert resources(After="first-rule")["ReceiptRule"]["Properties"]["After"] == {"Ref": "After"}


@pytest.mark.parametrize(("given", "activated"), [
    ({}, True), ({"ActivateRuleSet": "false"}, False), ({"ReceiptRuleSetName": "existing"}, False),
])
def test_activation_only_for_a_created_rule_set_and_after_its_rule(given, activated):
    conditions = evaluate_conditions(TEMPLATE, parameter_values(TEMPLATE, {"TemplateName": "t", **given}))
    assert conditions["DoActivateRuleSet"] is activated
    activation = TEMPLATE["Resources"]["RuleSetActivation"]
    assert activation["Condition"] == "DoActivateRuleSet"
    assert activation["DependsOn"] == "ReceiptRule"
    assert activation["Properties"]["RuleSetName"] == RULE_NAME
    assert TEMPLATE["Outputs"]["ReceiptRuleName"]["Value"] == RULE_NAME


def test_failed_replies_are_retried_then_kept():
    config = TEMPLATE["Resources"]["ResponderInvokeConfig"]["Properties"]
    assert config["FunctionName"] == {"Ref": "ResponderFunction"}
    assert config["MaximumRetryAttempts"] == 2
    assert config["DestinationConfig"]["OnFailure"]["Destination"] == {"Fn::GetAtt": ["FailedRepliesQueue", "Arn"]}


@pytest.mark.parametrize(("source", "action"), [("SESv2", "ses:GetEmailTemplate"),
                                                 ("Pinpoint", "mobiletargeting:GetEmailTemplate")])
def test_the_role_reads_only_the_chosen_template(source, action):
    statements = resources(TemplateSource=source)["ResponderRole"]["Properties"]["Policies"][0]["PolicyDocument"][
        "Statement"]
    (read,) = [s for s in statements if s["Sid"] == "ReadTemplate"]
    assert read["Action"] == action
    assert read["Resource"]["Fn::Sub"].endswith("${TemplateName}" if source == "SESv2" else "${TemplateName}/EMAIL")
