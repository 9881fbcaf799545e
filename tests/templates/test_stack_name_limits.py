"""Every name a template builds from its stack name fits the service's limits, whatever the stack name.

A stack name is 1 to 128 characters: a letter, then letters, digits and hyphens
(CloudFormation API Reference, CreateStack: StackName). Many services allow 64
characters or fewer in a name, so ``!Sub "${AWS::StackName}-suffix"`` deploys
under a short stack name and fails under a long one. This test evaluates every
property built from ``AWS::StackName`` or ``AWS::StackId`` in every template with
the longest and the most awkward valid stack names, and checks the result
against the limit documented for that resource type and property (LIMITS). A
property built from the stack name that is in neither LIMITS nor NOT_NAMES
fails: add its documented limit.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Any

import pytest

from scripts.cfn import available_templates, load_template


@dataclass(frozen=True)
class NameLimit:
    max_length: int
    pattern: str  # the whole name must match
    source: str


_SES_NAME = "ASCII letters, digits, _ and -; 64 characters or fewer"
LIMITS: dict[tuple[str, str], NameLimit] = {
    ("AWS::SES::ReceiptRuleSet", "RuleSetName"): NameLimit(
        64, r"[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?",
        "SES API Reference, CreateReceiptRuleSet: " + _SES_NAME + ", starting and ending with a letter or digit"),
    ("AWS::SES::ReceiptRule", "Rule.Name"): NameLimit(
        64, r"[A-Za-z0-9](?:[A-Za-z0-9_.-]*[A-Za-z0-9])?",
        "SES API Reference, ReceiptRule: " + _SES_NAME + " (and .), starting and ending with a letter or digit"),
    ("AWS::SES::ConfigurationSet", "Name"): NameLimit(
        64, r"[A-Za-z0-9_-]+", "SES API Reference, ConfigurationSet: " + _SES_NAME),
    ("AWS::SES::ConfigurationSetEventDestination", "EventDestination.Name"): NameLimit(
        64, r"[A-Za-z0-9_-]+", "SES API Reference, EventDestination: " + _SES_NAME),
    ("AWS::SMSVOICE::OptOutList", "OptOutListName"): NameLimit(
        64, r"[A-Za-z0-9_-]+", "CloudFormation, AWS::SMSVOICE::OptOutList: pattern ^[A-Za-z0-9_-]+$, 1 to 64"),
    ("AWS::SMSVOICE::ConfigurationSet", "ConfigurationSetName"): NameLimit(
        64, r"[A-Za-z0-9_-]+", "CloudFormation, AWS::SMSVOICE::ConfigurationSet: pattern ^[A-Za-z0-9_-]+$, 1 to 64"),
    ("AWS::CustomerProfiles::Domain", "DomainName"): NameLimit(
        64, r"[a-zA-Z0-9_-]+", "Customer Profiles API Reference, CreateDomain: DomainName 1 to 64, ^[a-zA-Z0-9_-]+$"),
    ("AWS::CustomerProfiles::SegmentDefinition", "SegmentDefinitionName"): NameLimit(
        64, r"[a-zA-Z0-9_-]+", "Customer Profiles API Reference, CreateSegmentDefinition: SegmentDefinitionName 1 to "
                               "64, ^[a-zA-Z0-9_-]+$"),
    ("AWS::SES::ContactList", "ContactListName"): NameLimit(
        64, r"[A-Za-z0-9_-]+", "taken as SES's other names (ASCII letters, digits, _ and -, 64 characters): the "
                               "CreateContactList reference states no limit, so the stricter one"),
    ("AWS::Athena::WorkGroup", "Name"): NameLimit(
        128, r"[a-zA-Z0-9._-]{1,128}", "Athena API Reference, WorkGroup: pattern [a-zA-Z0-9._-]{1,128}"),
    ("AWS::Athena::NamedQuery", "WorkGroup"): NameLimit(
        128, r"[a-zA-Z0-9._-]{1,128}", "Athena API Reference, WorkGroup: pattern [a-zA-Z0-9._-]{1,128}"),
    ("AWS::Connect::ContactFlow", "Name"): NameLimit(
        127, r".+", "AWS::Connect::ContactFlow Name: 1 to 127 characters (CloudFormation resource schema)"),
    ("AWS::ConnectCampaignsV2::Campaign", "Name"): NameLimit(
        127, r".+", "AWS::ConnectCampaignsV2::Campaign Name (CampaignName): 1 to 127 characters (CloudFormation "
                    "resource schema)"),
    ("AWS::IAM::Policy", "PolicyName"): NameLimit(
        128, r"[\w+=,.@-]+", "IAM API Reference, PutRolePolicy: PolicyName 1 to 128 characters, pattern [\\w+=,.@-]+"),
}

# Properties that carry the stack name without naming anything, and why their length does not matter here.
NOT_NAMES = {
    "Policies": "IAM policy documents: ARNs that must match the names checked above, not names themselves",
    "PolicyDocument": "IAM policy documents (see Policies)",
    "KeyPolicy": "KMS key policy: ARNs and conditions, not names",
    "SourceArn": "an ARN matching a resource named elsewhere in the template",
    "Environment": "a function's environment: values our code reads (4 KB in all), not names",
    "Description": "free text",
    "Tags": "tag values (256 characters), not names",
}

# Our own custom resources take the names their real resources got (checked in LIMITS) as input.
_CUSTOM = ("Custom::", "AWS::CloudFormation::CustomResource")

# The longest valid stack name (mixed case), one ending in a hyphen, the shortest (CreateStack: StackName).
STACK_NAMES = [("Dev-Stack-" * 13)[:128], "a-" * 64, "a"]
assert all(re.fullmatch(r"[A-Za-z][A-Za-z0-9-]{0,127}", name) for name in STACK_NAMES)
STACK_UUID = "51af3dc0-da77-11e4-872e-1234567db123"
PSEUDO = {"AWS::Region": "ap-southeast-2", "AWS::AccountId": "123456789012", "AWS::Partition": "aws-us-gov",
          "AWS::URLSuffix": "amazonaws.com"}
_STACK_REFS = ("AWS::StackName", "AWS::StackId")


class CannotEvaluate(Exception):
    pass


def _refers_to_the_stack(value: Any) -> bool:
    if isinstance(value, str):
        return any(f"${{{ref}}}" in value for ref in _STACK_REFS)
    if isinstance(value, dict):
        return value.get("Ref") in _STACK_REFS or any(_refers_to_the_stack(v) for v in value.values())
    if isinstance(value, list):
        return any(_refers_to_the_stack(v) for v in value)
    return False


def _without_conditions(value: Any) -> list[Any]:
    """Every form ``value`` can take, one per combination of its Fn::If branches."""
    if isinstance(value, dict) and "Fn::If" in value:
        _, when_true, when_false = value["Fn::If"]
        return _without_conditions(when_true) + _without_conditions(when_false)
    if isinstance(value, dict):
        keys = list(value)
        return [dict(zip(keys, combination, strict=True))
                for combination in itertools.product(*(_without_conditions(value[k]) for k in keys))]
    if isinstance(value, list):
        return [list(combination) for combination in itertools.product(*(_without_conditions(v) for v in value))]
    return [value]


def evaluate(value: Any, stack_name: str) -> Any:
    """``value`` as CloudFormation would compute it for ``stack_name`` (the functions names are built with)."""
    if isinstance(value, (str, int)):
        return str(value)
    if isinstance(value, list):
        return [evaluate(v, stack_name) for v in value]
    (function, arguments), = value.items()
    if function == "Ref":
        if arguments == "AWS::StackName":
            return stack_name
        if arguments == "AWS::StackId":
            return f"arn:aws:cloudformation:ap-southeast-2:123456789012:stack/{stack_name}/{STACK_UUID}"
        if arguments in PSEUDO:
            return PSEUDO[arguments]
        raise CannotEvaluate(f"Ref {arguments}")
    if function == "Fn::Sub":
        text, variables = arguments if isinstance(arguments, list) else (arguments, {})

        def substitute(match: re.Match) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            return evaluate(variables.get(name, {"Ref": name}), stack_name)

        return re.sub(r"\$\{([^}]+)\}", substitute, text)
    if function == "Fn::Join":
        delimiter, values = arguments
        return delimiter.join(evaluate(values, stack_name))
    if function == "Fn::Select":
        index, values = arguments
        return evaluate(values, stack_name)[int(evaluate(index, stack_name))]
    if function == "Fn::Split":
        delimiter, source = arguments
        return evaluate(source, stack_name).split(delimiter)
    raise CannotEvaluate(function)


def _property_values(value: Any, path: str = ""):
    """(dotted path, value) for every property value that is a literal or an intrinsic function."""
    if isinstance(value, dict) and not any(k == "Ref" or k.startswith("Fn::") for k in value):
        for key, inner in value.items():
            yield from _property_values(inner, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for inner in value:
            yield from _property_values(inner, path)
    else:
        yield path, value


def names_built_from_the_stack(template: dict[str, Any]):
    """(logical id, resource type, property path, one conditional form of its value)."""
    for logical_id, resource in template.get("Resources", {}).items():
        if resource["Type"].startswith(_CUSTOM):
            continue
        for path, value in _property_values(resource.get("Properties", {})):
            if NOT_NAMES.keys() & set(path.split(".")):
                continue
            for form in _without_conditions(value):
                if _refers_to_the_stack(form):
                    yield logical_id, resource["Type"], path, form


def problems(template: dict[str, Any], stack_name: str) -> list[str]:
    found = []
    for logical_id, resource_type, path, form in names_built_from_the_stack(template):
        limit = LIMITS.get((resource_type, path))
        if limit is None:
            found.append(f"{logical_id}.{path} ({resource_type}) is built from the stack name: add its documented "
                         f"limit to LIMITS, or the reason it is not a name to NOT_NAMES")
            continue
        try:
            name = evaluate(form, stack_name)
        except CannotEvaluate as exc:
            found.append(f"{logical_id}.{path}: cannot evaluate {exc}")
            continue
        if len(name) > limit.max_length or not re.fullmatch(limit.pattern, name):
            found.append(f"{logical_id}.{path} = {name!r} ({len(name)} characters) breaks {limit.source}")
    return found


@pytest.mark.parametrize("stack_name", STACK_NAMES, ids=["longest", "ends-with-hyphen", "shortest"])
@pytest.mark.parametrize("template_name", available_templates())
def test_names_built_from_the_stack_name_fit_their_limits(template_name, stack_name):
    assert problems(load_template(template_name), stack_name) == []


# ------------------------------------------------------------- the check itself
def _template(resource_type: str, properties: dict) -> dict:
    return {"Resources": {"Thing": {"Type": resource_type, "Properties": properties}}}


def test_a_name_that_outgrows_its_limit_is_found():
    # SES_Auto_Reply named its rule set this way until any stack over 53 characters failed to deploy.
    template = _template("AWS::SES::ReceiptRuleSet", {"RuleSetName": {"Fn::Sub": "${AWS::StackName}-auto-reply"}})
    assert problems(template, "a") == []
    (problem,) = problems(template, STACK_NAMES[0])
    assert problem.startswith("Thing.RuleSetName = 'Dev-Stack-") and "(139 characters)" in problem


def test_a_pattern_the_stack_name_can_break_is_found():
    template = _template("AWS::SES::ReceiptRule", {"Rule": {"Name": {"Fn::Join": ["", [{"Ref": "AWS::StackName"}]]}}})
    assert problems(template, "a") == []
    assert "breaks SES API Reference, ReceiptRule" in problems(template, "a-" * 20)[0]  # ends with a hyphen


def test_every_branch_of_a_condition_is_checked_and_user_values_are_not():
    name = {"Fn::If": ["Create", {"Fn::Sub": "${AWS::StackName}-promotional"}, {"Ref": "OptOutListName"}]}
    (problem,) = problems(_template("AWS::SMSVOICE::OptOutList", {"OptOutListName": name}), STACK_NAMES[0])
    assert "Dev-Stack-" in problem and "-promotional" in problem


def test_the_uuid_of_the_stack_id_fits_any_stack_name():
    uuid = {"Fn::Select": [2, {"Fn::Split": ["/", {"Ref": "AWS::StackId"}]}]}
    template = _template("AWS::SES::ReceiptRuleSet", {"RuleSetName": {"Fn::Sub": ["auto-reply-${Id}", {"Id": uuid}]}})
    assert all(problems(template, stack_name) == [] for stack_name in STACK_NAMES)


def test_an_unknown_name_property_must_be_added_to_the_table():
    (problem,) = problems(_template("AWS::Lambda::Function", {"FunctionName": {"Fn::Sub": "${AWS::StackName}-f"}}),
                          "a")
    assert "add its documented limit to LIMITS" in problem


def test_properties_that_are_not_names_are_left_alone():
    policy = {"Statement": [{"Resource": {"Fn::Sub": "arn:aws:athena:::workgroup/${AWS::StackName}-events"}}]}
    assert problems(_template("AWS::IAM::Role", {"Policies": [{"PolicyDocument": policy}]}), STACK_NAMES[0]) == []
