"""The profile contract as the import writes it: keys, attributes, limits and ownership, against the fake."""

import pytest

from due import aws as due_aws
from due import profiles
from due.profiles import ProfileStore, RowFailure, attribute_name
from due.s3_triggered_import.rows import ImportRow

DOMAIN, OBJECT_TYPE = "contacts", "ImportedContact"
HEADER = ["Customer ID", "Email", "First Name", "Plan Type"]


@pytest.fixture
def client(fakes, aws):
    client = aws.client("customer-profiles")
    client.create_domain(DomainName=DOMAIN, DefaultExpirationDays=366)
    return client


@pytest.fixture
def paced():
    return []


@pytest.fixture
def store(client, paced):
    store = ProfileStore(client, DOMAIN, OBJECT_TYPE, pace=lambda: paced.append(1))
    store.ensure_object_type(HEADER, "Customer ID", expiration_days=366)
    return store


def rows(*values, header=HEADER, first=1):
    return [ImportRow(first + i, dict(zip(header, row, strict=True))) for i, row in enumerate(values)]


def only_profile(fakes):
    assert len(fakes.profiles.profiles) == 1
    return next(iter(fakes.profiles.profiles.values()))


def test_attribute_names_are_lower_case_words_joined_by_underscores():
    assert attribute_name("Plan Type") == "plan_type"
    assert attribute_name("  Lifetime-Value (EUR) ") == "lifetime_value_eur"
    assert attribute_name("2024 spend") == "col_2024_spend"
    with pytest.raises(ValueError, match="'---'"):
        attribute_name("---")
    with pytest.raises(ValueError, match="longer than 64"):
        attribute_name("x" * 65)


def test_the_object_type_maps_known_columns_to_profile_fields_and_others_to_attributes(store, fakes):
    definition = fakes.profiles.object_types[(DOMAIN, OBJECT_TYPE)]
    assert definition["Fields"]["email"]["Target"] == "_profile.EmailAddress"
    assert definition["Fields"]["first_name"]["Target"] == "_profile.FirstName"
    assert definition["Fields"]["plan_type"]["Target"] == "_profile.Attributes.plan_type"
    assert definition["Keys"]["customer_id"] == [{"StandardIdentifiers": ["PROFILE", "UNIQUE"],
                                                  "FieldNames": ["customer_id"]}]
    assert definition["Keys"]["_email"] == [{"FieldNames": ["email"]}]  # indexed, never used to match
    assert definition["AllowProfileCreation"] is True and definition["ExpirationDays"] == 366


def test_the_object_type_is_put_only_when_the_header_brings_something_new(store, fakes, paced):
    store.ensure_object_type(HEADER, "Customer ID", expiration_days=366)
    assert len(fakes.profiles.calls_of("PutProfileObjectType")) == 1
    store.ensure_object_type(["id", "Loyalty Tier"], "id", expiration_days=366)
    fields = fakes.profiles.object_types[(DOMAIN, OBJECT_TYPE)]["Fields"]
    assert {"plan_type", "loyalty_tier", "email"} <= set(fields)  # an earlier file's fields stay
    assert len(fakes.profiles.calls_of("PutProfileObjectType")) == len(paced) == 2


def test_columns_the_store_already_maps_cost_no_call(store, fakes):
    store.ensure_object_type(HEADER, "Customer ID", expiration_days=366)
    reads = len(fakes.profiles.calls_of("GetProfileObjectType"))
    for _ in range(3):  # the import asks before every chunk of rows
        store.ensure_object_type(HEADER, "Customer ID", expiration_days=366)
    assert len(fakes.profiles.calls_of("GetProfileObjectType")) == reads
    assert len(fakes.profiles.calls_of("PutProfileObjectType")) == 1


@pytest.mark.parametrize(("header", "message"), [
    (["id", "SMS Messageable"], "phone validation owns"),
    (["id", "Email", "email_address"], "'Email' and 'email_address' both write 'email'"),
    (["id", "Customer_ID"], "holds the id column"),
    (["Email"], "id column 'id' is not among"),
])
def test_a_header_that_cannot_be_mapped_is_refused_naming_the_columns(client, header, message, fakes):
    with pytest.raises(ValueError, match=message):
        ProfileStore(client, DOMAIN, OBJECT_TYPE).ensure_object_type(header, "id", expiration_days=30)
    assert fakes.profiles.calls_of("PutProfileObjectType") == []


def test_importing_a_person_again_updates_their_profile(store, fakes):
    assert store.put_rows(rows(["c1", "ann@example.com", "Ann", "basic"]), "Customer ID") == []
    assert store.put_rows(rows(["c1", "", "Anne", "gold"]), "Customer ID") == []
    profile = only_profile(fakes)
    assert profile["FirstName"] == "Anne" and profile["Attributes"]["plan_type"] == "gold"
    assert profile["EmailAddress"] == "ann@example.com"  # an empty value leaves what the profile holds
    assert profile["Attributes"]["customer_id"] == "c1"


def test_people_sharing_an_address_stay_two_profiles_and_both_are_found(store, fakes):
    store.put_rows(rows(["c1", "family@example.com", "Ann", ""], ["c2", "Family@Example.com", "Bob", ""]),
                   "Customer ID")
    assert len(fakes.profiles.profiles) == 2
    assert {p["FirstName"] for p in store.find(email="family@example.com")} == {"Ann", "Bob"}
    assert [p["FirstName"] for p in store.find(key="c2")] == ["Bob"]


def test_a_value_over_255_characters_fails_its_row_by_column_and_the_others_go_in(store, fakes):
    long_value = "g" * 256
    failures = store.put_rows(rows(["c1", "", "Ann", long_value], ["c2", "", "Bob", "x" * 255]), "Customer ID")
    assert failures == [RowFailure(1, "column 'Plan Type' is longer than 255 characters, the most a profile "
                                      "value holds")]
    assert [p["FirstName"] for p in fakes.profiles.profiles.values()] == ["Bob"]
    assert all(long_value not in str(call.params) for call in fakes.profiles.calls)


def test_rows_without_a_usable_id_fail_without_quoting_it(store, fakes):
    failures = store.put_rows(rows(["", "a@example.com", "Ann", ""], ["i" * 256, "", "Bob", ""]), "Customer ID")
    assert failures == [RowFailure(1, "no value in the id column 'Customer ID'"),
                        RowFailure(2, "the id column 'Customer ID' is longer than 255 characters")]
    assert fakes.profiles.calls_of("BatchPutProfileObject") == []


def test_rows_go_ten_a_call_each_call_paced(store, fakes, paced):
    store.put_rows(rows(*[[f"c{i}", "", "", ""] for i in range(25)]), "Customer ID")
    calls = fakes.profiles.calls_of("BatchPutProfileObject")
    assert [len(call.params["Items"]) for call in calls] == [10, 10, 5]
    assert len(paced) == 1 + 3  # the object type's put, then each batch
    assert len(fakes.profiles.profiles) == 25


def test_one_persons_rows_never_share_a_call_so_the_later_row_wins(store, fakes):
    store.put_rows(rows(["c1", "", "", "basic"], ["c1", "", "", "gold"]), "Customer ID")
    assert len(fakes.profiles.calls_of("BatchPutProfileObject")) == 2
    assert only_profile(fakes)["Attributes"]["plan_type"] == "gold"


def test_the_import_never_writes_phone_validations_attributes_unless_given_them(store, fakes):
    store.put_rows(rows(["c1", "", "Ann", ""]), "Customer ID")
    assert not set(only_profile(fakes)["Attributes"]) & set(profiles.PHONE_VALIDATION_ATTRIBUTES)
    verdict = {profiles.SMS_MESSAGEABLE: "false", profiles.SMS_NOT_MESSAGEABLE_REASON: "INVALID"}
    store.put_rows(rows(["c1", "", "Ann", ""], first=7), "Customer ID", extra={7: verdict})
    assert only_profile(fakes)["Attributes"][profiles.SMS_MESSAGEABLE] == "false"
    store.put_rows(rows(["c1", "", "Ann", ""]), "Customer ID")  # a later import without validation
    assert only_profile(fakes)["Attributes"][profiles.SMS_MESSAGEABLE] == "false"
    with pytest.raises(ValueError, match="'segment_x' is not one the import writes"):
        store.put_rows(rows(["c2", "", "", ""]), "Customer ID", extra={1: {"segment_x": "true"}})


def test_an_opt_out_column_records_an_opt_out_but_never_withdraws_one(client, fakes):
    header = ["id", "Email Opt Out"]
    store = ProfileStore(client, DOMAIN, OBJECT_TYPE)
    store.ensure_object_type(header, "id", expiration_days=30)
    assert store.put_rows(rows(["c1", "TRUE"], header=header), "id") == []
    assert store.put_rows(rows(["c1", "false"], ["c2", "maybe"], header=header), "id") == [
        RowFailure(2, "column 'Email Opt Out' must be true, yes, 1, false, no, 0 or empty")]
    assert only_profile(fakes)["Attributes"][profiles.EMAIL_OPT_OUT] == "true"


def test_items_the_batch_throttles_are_sent_again_and_refused_ones_reported(store, fakes):
    fakes.profiles.fail_next_items(429)
    assert store.put_rows(rows(["c1", "", "", ""]), "Customer ID") == []
    assert len(fakes.profiles.calls_of("BatchPutProfileObject")) == 2
    fakes.profiles.fail_next_items(400)
    assert store.put_rows(rows(["c2", "", "", ""], first=5), "Customer ID") == [
        RowFailure(5, "Customer Profiles refused the row (HTTP 400)")]
    fakes.profiles.fail_next_items(503, times=3)
    assert store.put_rows(rows(["c3", "", "", ""], first=9), "Customer ID") == [
        RowFailure(9, "Customer Profiles still refused the row after 3 attempts (HTTP 503)")]


def test_a_throttled_call_is_retried_by_botocore(client, fakes, no_backoff):
    store = ProfileStore(due_aws.client("customer-profiles"), DOMAIN, OBJECT_TYPE)
    store.ensure_object_type(HEADER, "Customer ID", expiration_days=30)
    fakes.profiles.fail_next("BatchPutProfileObject", "ThrottlingException", times=2, status=429)
    assert store.put_rows(rows(["c1", "", "Ann", ""]), "Customer ID") == []
    assert len(fakes.profiles.calls_of("BatchPutProfileObject")) == 3
    assert only_profile(fakes)["FirstName"] == "Ann"


def test_a_json_line_with_a_new_key_extends_the_object_type_before_it_is_written(store, fakes):
    line = ImportRow(3, {"Customer ID": "c1", "Favourite Colour": "teal"})
    assert store.put_rows([line], "Customer ID") == []
    assert only_profile(fakes)["Attributes"]["favourite_colour"] == "teal"
    assert len(fakes.profiles.calls_of("PutProfileObjectType")) == 2


def test_another_writers_attributes_are_set_alone_and_an_empty_value_removes_one(store, fakes):
    store.put_rows(rows(["c1", "", "Ann", "basic"]), "Customer ID")
    profile_id = store.find(key="c1")[0]["ProfileId"]
    store.set_attributes(profile_id, {"segment_vip": "true"})
    store.set_attributes(profile_id, {"segment_vip": ""})
    assert only_profile(fakes)["Attributes"] == {"customer_id": "c1", "plan_type": "basic"}
    with pytest.raises(ValueError, match="'segment_vip' is longer than 255"):
        store.set_attributes(profile_id, {"segment_vip": "v" * 256})
    assert len(fakes.profiles.calls_of("UpdateProfile")) == 2


def test_find_takes_exactly_one_criterion(store):
    with pytest.raises(ValueError, match="exactly one"):
        store.find(email="a@example.com", key="c1")
