"""Custom resource: the Customer Profiles segment definition on the segment's attribute ``segment_<token>``.

Why not AWS::CustomerProfiles::SegmentDefinition: its dimension names the
attribute as a map key (``ProfileAttributes.Attributes.<name>``: CloudFormation
template reference, SegmentDefinition ProfileAttributes), and a template
cannot build a map key from a parameter, while the attribute is named after
the SegmentToken parameter. So the definition is created here with
CreateSegmentDefinition (the same shape: an INCLUSIVE dimension on the custom
attribute with the value "true") and deleted with the stack
(DeleteSegmentDefinition). Its physical id is ``<domain>/<name>``; a change of
either makes a new one, and CloudFormation then deletes the old one.
"""

from __future__ import annotations

import functools
from typing import Any

from due import aws
from due.advanced_segmentation.targets import profile_attribute
from due.custom_resource import respond_to_cloudformation
from due.logs import get_logger

logger = get_logger("advanced_segmentation_segment_definition")


def definition(token: str, query_name: str) -> dict[str, Any]:
    attribute = profile_attribute(token)
    return {
        # SegmentDefinitionName: 1 to 64 of [a-zA-Z_0-9-] (CreateSegmentDefinition, API reference); the token is
        # at most 56 of [a-z0-9_], so this fits.
        "SegmentDefinitionName": attribute,
        "DisplayName": f"Segment {token}",
        "Description": f"Profiles the segment query {query_name} selected at its last run (attribute {attribute}).",
        "SegmentGroups": {"Include": "ALL", "Groups": [{"Type": "ALL", "Dimensions": [{"ProfileAttributes": {
            "Attributes": {attribute: {"DimensionType": "INCLUSIVE", "Values": ["true"]}}}}]}]},
    }


def create(profiles, domain: str, token: str, query_name: str) -> str:
    """Creates the definition; returns the physical id. A definition of that name already there (another stack
    with the same token, which would race on the attribute) fails the stack with Customer Profiles' message."""
    wanted = definition(token, query_name)
    profiles.create_segment_definition(DomainName=domain, **wanted)
    return f"{domain}/{wanted['SegmentDefinitionName']}"


def delete(profiles, physical_id: str) -> None:
    domain, _, name = physical_id.partition("/")
    if not name:
        return  # a Create that failed before it made anything
    try:
        profiles.delete_segment_definition(DomainName=domain, SegmentDefinitionName=name)
    except profiles.exceptions.ResourceNotFoundException:
        logger.info("segment definition already gone", extra={"segment_definition": name})


@functools.lru_cache(maxsize=1)
def _profiles():
    return aws.client("customer-profiles")


def lambda_handler(event: dict[str, Any], context: Any) -> None:
    def on_create(properties, _old, _physical_id):
        return create(_profiles(), properties["DomainName"], properties["SegmentToken"], properties["QueryName"]), {}

    def on_update(properties, old, physical_id):
        if (properties["DomainName"], properties["SegmentToken"]) == (old.get("DomainName"), old.get("SegmentToken")):
            return physical_id, {}  # the description's query name is not worth a replacement
        return on_create(properties, old, physical_id)

    def on_delete(_properties, _old, physical_id):
        delete(_profiles(), physical_id)
        return physical_id, {}

    respond_to_cloudformation(event, context, create=on_create, update=on_update, delete=on_delete)
