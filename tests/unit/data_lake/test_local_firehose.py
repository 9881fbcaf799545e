"""The local Firehose reads records for Parquet as the OpenX JSON SerDe the stream declares would."""

import json

import pytest

from due_local.firehose import FormatConversionFailed, openx_json_keys, resolve_sub

ROW = {"recipients": ["Jose.Muller@example.com"],
       "recipient_details": {"Jose.Muller@example.com": {"status": "5.1.1"}},
       "attributes": {"campaignName": "Nov"}}


def line(value: dict) -> bytes:
    return json.dumps(value).encode() + b"\n"


@pytest.mark.parametrize("serde", [{}, {"CaseInsensitive": True}])
def test_by_default_every_key_is_lower_cased_map_keys_included(serde):
    assert json.loads(openx_json_keys(line(ROW), serde)) == {
        "recipients": ["Jose.Muller@example.com"],  # values keep their case
        "recipient_details": {"jose.muller@example.com": {"status": "5.1.1"}},
        "attributes": {"campaignname": "Nov"}}


def test_keys_that_differ_only_by_case_fail_conversion_by_default():
    with pytest.raises(FormatConversionFailed, match="campaignname"):
        openx_json_keys(line({"attributes": {"campaignName": "a", "campaignname": "b"}}), {})


def test_case_insensitive_false_keeps_every_key_as_written():
    clashing = {**ROW, "attributes": {"campaignName": "a", "campaignname": "b"}}
    assert json.loads(openx_json_keys(line(clashing), {"CaseInsensitive": False})) == clashing


@pytest.mark.parametrize("serde", [{"ConvertDotsInJsonKeysToUnderscores": True},
                                   {"ColumnToJsonKeyMappings": {"ts": "timestamp"}}])
def test_settings_the_emulator_does_not_model_are_refused_not_ignored(serde):
    with pytest.raises(AssertionError, match="does not model"):
        openx_json_keys(line(ROW), serde)


def test_sub_resolves_its_own_variables_and_known_names_and_keeps_literals():
    value = {"Fn::Sub": ["s3://${DataBucket}/events/${Format}/dt=${!dt}/", {"Format": "json"}]}
    assert resolve_sub(value, {"DataBucket": "b"}) == "s3://b/events/json/dt=${dt}/"
