"""Phone validation: parse with a default country, look each number up once, remember it for a while."""

import pytest
from botocore.exceptions import ClientError

from due import aws as due_aws
from due import profiles
from due.phone_validation import (
    IMPOSSIBLE,
    NO_NUMBER,
    UNPARSEABLE,
    PhoneValidator,
    PhoneVerdict,
    carrier_lookup,
    pinpoint_phone_number_validate,
)
from due_local.tables import create_table

CACHE_DAYS = 30
US_MOBILE = "+12065550100"  # a US number the fakes call MOBILE unless told otherwise


class Clock:
    def __init__(self, now: float = 1_800_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def table(aws) -> str:
    return create_table(aws.client("dynamodb"), "phone-cache", "number")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def new_validator(aws, fakes, table, clock):
    """Another validator (another invocation) on the same cache table, asking End User Messaging."""

    def make(default_country: str = "US", memo_size: int = 10_000) -> PhoneValidator:
        return PhoneValidator(carrier_lookup(aws.client("pinpoint-sms-voice-v2")), aws.client("dynamodb"), table,
                              default_country=default_country, cache_days=CACHE_DAYS, memo_size=memo_size,
                              clock=clock)

    return make


def looked_up(fakes) -> list[str]:
    return [call.params["PhoneNumber"] for call in fakes.sms.calls_of("CarrierLookup")]


@pytest.mark.parametrize(("country", "raw", "e164"), [
    ("US", "(206) 555-0100", "+12065550100"),
    ("GB", "020 7946 0018", "+442079460018"),
    ("GB", "+1 206 555 0100", "+12065550100"),  # a written country code wins over the default
])
def test_the_default_country_is_applied_to_numbers_written_without_one(new_validator, fakes, country, raw, e164):
    verdict = new_validator(country).validate(raw)
    assert looked_up(fakes) == [e164]
    assert verdict.e164 == e164


@pytest.mark.parametrize(("raw", "reason"), [
    ("", NO_NUMBER), ("   ", NO_NUMBER), ("call me", UNPARSEABLE), ("12", IMPOSSIBLE), ("+1 206 555 01", IMPOSSIBLE),
])
def test_text_that_cannot_be_a_number_is_refused_without_a_lookup(new_validator, fakes, raw, reason):
    validator = new_validator()
    verdict = validator.validate(raw)
    assert (verdict.messageable, verdict.reason, verdict.e164) == (False, reason, None)
    assert validator.lookups == 0 and looked_up(fakes) == []


def test_a_number_appearing_a_thousand_times_is_looked_up_once(new_validator, fakes):
    validator = new_validator()
    spellings = ["(206) 555-0100", "+1 206 555 0100", "206.555.0100", "2065550100"]
    verdicts = {validator.validate(spellings[i % len(spellings)]) for i in range(1000)}
    assert len(verdicts) == 1 and verdicts.pop().messageable
    assert validator.lookups == 1 and looked_up(fakes) == [US_MOBILE]


def test_another_invocation_reads_the_cache_table_instead_of_the_service(new_validator, fakes):
    first = new_validator().validate(US_MOBILE)
    second_validator = new_validator()
    assert second_validator.validate(US_MOBILE) == first
    assert second_validator.lookups == 0 and len(looked_up(fakes)) == 1


def test_the_cache_item_expires_with_the_tables_ttl(new_validator, aws, table, clock):
    new_validator().validate(US_MOBILE)
    item = aws.client("dynamodb").get_item(TableName=table, Key={"number": {"S": US_MOBILE}})["Item"]
    assert int(item["expires_at"]["N"]) == int(clock.now) + CACHE_DAYS * 86_400
    assert item["messageable"] == {"BOOL": True} and item["phone_type"] == {"S": "MOBILE"}


def test_an_expired_verdict_is_looked_up_again_even_before_ttl_deletes_it(new_validator, fakes, clock):
    validator = new_validator()
    validator.validate(US_MOBILE)
    clock.now += CACHE_DAYS * 86_400  # the item is still in the table: TTL deletes lazily
    validator.validate(US_MOBILE)  # memo and table item both expired
    assert validator.lookups == 2
    later = new_validator()
    later.validate(US_MOBILE)  # the fresh verdict the lookup wrote
    assert later.lookups == 0 and len(looked_up(fakes)) == 2


def test_the_memo_holds_at_most_memo_size_numbers(new_validator, fakes, aws, table):
    validator = new_validator(memo_size=2)
    numbers = ["+12065550100", "+12065550101", "+12065550102"]
    for number in numbers:
        validator.validate(number)
    for number in numbers:  # only the memo can answer now
        aws.client("dynamodb").delete_item(TableName=table, Key={"number": {"S": number}})
    validator.validate(numbers[2])
    validator.validate(numbers[1])
    assert validator.lookups == 3
    validator.validate(numbers[0])  # the oldest was forgotten
    assert validator.lookups == 4


@pytest.mark.parametrize(("phone_type", "messageable", "reason"), [
    ("MOBILE", True, None), ("PREPAID", True, None), ("VOIP", True, None),
    ("LANDLINE", False, "landline"), ("OTHER", False, "other"), ("INVALID", False, "invalid"),
])
def test_which_line_types_are_messageable(new_validator, fakes, phone_type, messageable, reason):
    fakes.sms.lookup_answers[US_MOBILE] = {"PhoneNumberType": phone_type, "Carrier": "Example Wireless"}
    verdict = new_validator().validate(US_MOBILE)
    assert verdict == PhoneVerdict(US_MOBILE, messageable, reason, phone_type, "Example Wireless", "US")


def test_a_number_the_service_calls_invalid_is_kept_with_its_reason(new_validator):
    verdict = new_validator("GB").validate("07700 900123")  # a possible UK number no operator holds
    assert (verdict.e164, verdict.messageable, verdict.reason) == ("+447700900123", False, "invalid")


def test_a_refused_lookup_is_remembered_by_this_file_only(new_validator, fakes):
    fakes.sms.fail_next("CarrierLookup", "ValidationException")
    validator = new_validator()
    verdict = validator.validate(US_MOBILE)
    assert (verdict.messageable, verdict.reason) == (False, "lookup refused: ValidationException")
    assert validator.validate(US_MOBILE) == verdict and validator.lookups == 1
    assert new_validator().validate(US_MOBILE).messageable  # the table holds no refusal
    assert len(looked_up(fakes)) == 2


def test_throttling_is_retried_by_the_client(fakes, aws, table, clock, no_backoff):
    fakes.sms.fail_next("CarrierLookup", "ThrottlingException", times=2)
    validator = PhoneValidator(carrier_lookup(due_aws.client("pinpoint-sms-voice-v2")), aws.client("dynamodb"),
                               table, "US", CACHE_DAYS, clock=clock)
    assert validator.validate(US_MOBILE).messageable
    assert validator.lookups == 1 and len(looked_up(fakes)) == 3


def test_an_error_that_is_not_about_the_number_propagates_and_nothing_is_remembered(new_validator, fakes):
    fakes.sms.fail_next("CarrierLookup", "AccessDeniedException", status=403)
    validator = new_validator()
    with pytest.raises(ClientError, match="AccessDeniedException"):
        validator.validate(US_MOBILE)
    assert validator.validate(US_MOBILE).messageable
    assert len(looked_up(fakes)) == 2


def test_pinpoint_mode_asks_phone_number_validate(aws, fakes, table, clock):
    fakes.pinpoint.lookup_answers["+442079460018"] = {"Carrier": "Example Telecom"}
    fakes.pinpoint.fail_next("PhoneNumberValidate", "BadRequestException")
    validator = PhoneValidator(pinpoint_phone_number_validate(aws.client("pinpoint")), aws.client("dynamodb"),
                               table, "gb", CACHE_DAYS, clock=clock)
    assert validator.validate("0161 496 0000").reason == "lookup refused: BadRequestException"
    landline = validator.validate("020 7946 0018")
    assert landline == PhoneVerdict("+442079460018", False, "landline", "LANDLINE", "Example Telecom", "GB")
    assert [c.params for c in fakes.pinpoint.calls_of("PhoneNumberValidate")][-1] == {
        "NumberValidateRequest": {"PhoneNumber": "+442079460018"}}


def test_attributes_use_the_profile_contracts_names():
    assert PhoneVerdict(US_MOBILE, True, None, "MOBILE", "Example Wireless", "US").attributes() == {
        profiles.SMS_MESSAGEABLE: "true", profiles.PHONE_TYPE: "MOBILE",
        profiles.PHONE_CARRIER: "Example Wireless", profiles.PHONE_COUNTRY: "US"}
    assert PhoneVerdict(None, False, UNPARSEABLE, None, None, None).attributes() == {
        profiles.SMS_MESSAGEABLE: "false", profiles.SMS_NOT_MESSAGEABLE_REASON: UNPARSEABLE}


def test_a_default_country_without_a_numbering_plan_is_refused(aws, table):
    with pytest.raises(ValueError, match="'XX'"):
        PhoneValidator(lambda e164: None, aws.client("dynamodb"), table, "XX", CACHE_DAYS)
