"""The segment definition custom resource: created on the token's attribute, refused twice, deleted with the stack."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from due.advanced_segmentation import segment_definition


@pytest.fixture
def profiles(aws, fakes):
    client = aws.client("customer-profiles")
    client.create_domain(DomainName="people", DefaultExpirationDays=30)
    return client


def test_the_definition_selects_the_profiles_whose_token_attribute_is_true(profiles, fakes):
    physical_id = segment_definition.create(profiles, "people", "openers", "email_openers")
    assert physical_id == "people/segment_openers"
    tagged = profiles.create_profile(DomainName="people", Attributes={"segment_openers": "true"})["ProfileId"]
    profiles.create_profile(DomainName="people", Attributes={"segment_other": "true"})
    assert fakes.profiles.segment_members("people", "segment_openers") == {tagged}


def test_a_second_stack_with_the_same_token_is_refused_and_delete_removes_it_once(profiles, fakes):
    physical_id = segment_definition.create(profiles, "people", "openers", "email_openers")
    with pytest.raises(ClientError):
        segment_definition.create(profiles, "people", "openers", "email_openers")
    segment_definition.delete(profiles, physical_id)
    segment_definition.delete(profiles, physical_id)  # already gone: nothing to do
    segment_definition.delete(profiles, "DefinitionFailedToCreate")  # a Create that made nothing
    assert fakes.profiles.segment_definitions == {}
