from __future__ import annotations

from due.s3_triggered_import import pinpoint_import
from due.s3_triggered_import.rows import ImportRow, RowFailure
from tests.unit.s3_triggered_import.conftest import BUCKET, read_lines

APP = "app-1"
KEY = "pinpoint/run-1/endpoints.json"
ROLE = "arn:aws:iam::123456789012:role/import"
COLUMNS = {"id_column": "id", "email_column": "email", "phone_column": "phone"}


def _rows():
    return [
        ImportRow(1, {"id": "c1", "email": "ana@example.com", "phone": "+14255550101", "plan": "gold"}),
        ImportRow(2, {"id": "c2", "email": "bo@example.com", "phone": "", "email_opt_out": "true"}),
        ImportRow(3, {"id": "c3", "email": "", "phone": "+14255550103"}),
        ImportRow(4, {"id": "", "email": "dee@example.com", "phone": ""}),
        ImportRow(5, {"id": "c5", "email": "not an address", "phone": "425 555 0105"}),
        ImportRow(6, {"id": "c6", "email": "fay@example.com", "phone": "", "note": "n" * 101}),
    ]


EXTRA = {1: {"sms_messageable": "true", "phone_type": "MOBILE", "phone_country": "US"},
         3: {"sms_messageable": "false", "sms_not_messageable_reason": "LANDLINE", "phone_type": "LANDLINE"}}


def test_each_row_becomes_an_endpoint_per_usable_address_and_bad_rows_are_reported(s3):
    written, failures = pinpoint_import.write_import_file(_rows(), s3, BUCKET, KEY, extra=EXTRA, **COLUMNS)

    assert written == 3
    assert failures == [
        RowFailure(4, "no value in the id column 'id'"),
        RowFailure(5, "no usable email address in column 'email' and no E.164 phone number in column 'phone'"),
        RowFailure(6, "the value in column 'note' is longer than Pinpoint's 100-character attribute values"),
    ]
    endpoints = {e["Id"]: e for e in read_lines(s3, KEY)}
    assert sorted(endpoints) == ["c1-email", "c1-sms", "c2-email", "c3-sms"]
    assert endpoints["c1-email"] == {"Id": "c1-email", "ChannelType": "EMAIL", "Address": "ana@example.com",
                                     "User": {"UserId": "c1"}, "Attributes": {"plan": ["gold"]}}
    assert endpoints["c1-sms"]["Attributes"] == {"plan": ["gold"], "sms_messageable": ["true"],
                                                 "phone_type": ["MOBILE"], "phone_country": ["US"]}
    assert "OptOut" not in endpoints["c1-sms"]


def test_opted_out_and_not_messageable_endpoints_are_opted_out_and_nobody_is_opted_in(s3):
    pinpoint_import.write_import_file(_rows(), s3, BUCKET, KEY, extra=EXTRA, **COLUMNS)

    endpoints = {e["Id"]: e for e in read_lines(s3, KEY)}
    assert endpoints["c2-email"]["OptOut"] == "ALL"
    assert endpoints["c3-sms"]["OptOut"] == "ALL"
    assert endpoints["c3-sms"]["Attributes"]["sms_not_messageable_reason"] == ["LANDLINE"]
    assert all(e.get("OptOut", "ALL") == "ALL" for e in endpoints.values())


def test_opt_out_columns_count_however_the_file_spells_them_and_are_no_attributes(s3):
    rows = [ImportRow(1, {"id": "c1", "email": "eve@example.com", "phone": "+14255550101", "Email Opt Out": "yes",
                          "SMS-Opt-Out": "1", "plan": "gold"})]

    pinpoint_import.write_import_file(rows, s3, BUCKET, KEY, **COLUMNS)

    endpoints = {e["Id"]: e for e in read_lines(s3, KEY)}
    assert endpoints["c1-email"]["OptOut"] == "ALL"
    assert endpoints["c1-sms"]["OptOut"] == "ALL"
    assert endpoints["c1-email"]["Attributes"] == {"plan": ["gold"]}


def test_the_import_job_registers_the_endpoints_as_a_segment_and_is_polled_to_its_end(aws, fakes, s3):
    pinpoint = aws.client("pinpoint")
    pinpoint_import.write_import_file(_rows(), s3, BUCKET, KEY, extra=EXTRA, **COLUMNS)

    job_id = pinpoint_import.start_import(pinpoint, APP, f"s3://{BUCKET}/pinpoint/run-1/", ROLE, "import-run-1")
    states = [pinpoint_import.job_state(pinpoint, APP, job_id)]
    while not states[-1].done:
        states.append(pinpoint_import.job_state(pinpoint, APP, job_id))

    assert [s.status for s in states] == ["running", "succeeded"]
    assert (states[-1].processed, states[-1].failed) == (4, 0)
    segment = fakes.pinpoint.segments[(APP, states[-1].segment_id)]
    assert segment["Name"] == "import-run-1"
    assert sorted(segment["EndpointIds"]) == ["c1-email", "c1-sms", "c2-email", "c3-sms"]
    assert fakes.pinpoint.endpoints[(APP, "c1-sms")]["User"] == {"UserId": "c1"}
    (call,) = fakes.pinpoint.calls_of("CreateImportJob")
    assert call.params["ImportJobRequest"] == {
        "S3Url": f"s3://{BUCKET}/pinpoint/run-1/", "RoleArn": ROLE, "Format": "JSON", "DefineSegment": True,
        "SegmentName": "import-run-1", "RegisterEndpoints": True}


def test_a_failed_job_is_a_failure_with_pinpoints_first_messages(aws, fakes, s3):
    pinpoint = aws.client("pinpoint")
    pinpoint_import.write_import_file(_rows(), s3, BUCKET, KEY, **COLUMNS)
    fakes.pinpoint.import_job_endings.append(("FAILED", ["Access denied to s3://imports/pinpoint/run-1/"]))

    job_id = pinpoint_import.start_import(pinpoint, APP, f"s3://{BUCKET}/pinpoint/run-1/", ROLE, "import-run-1")
    state = pinpoint_import.job_state(pinpoint, APP, job_id)
    while not state.done:
        state = pinpoint_import.job_state(pinpoint, APP, job_id)

    assert state.status == "failed"
    assert state.error == "Access denied to s3://imports/pinpoint/run-1/"
