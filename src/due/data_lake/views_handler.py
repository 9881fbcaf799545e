"""Custom resource: the event table's views, created (and waited for) on create/update, dropped on delete."""

from __future__ import annotations

from typing import Any

from due import aws, custom_resource
from due.data_lake import views
from due.logs import get_logger

logger = get_logger("data_lake_views")


def _create_or_update(properties, _old, _physical_id):
    database, workgroup = properties["DatabaseName"], properties["WorkGroup"]
    names = views.create_views(aws.client("athena"), database=database, workgroup=workgroup)
    # The physical id names the database: moving the views to another database makes
    # CloudFormation delete them from the old one.
    return f"{database}/views", {"Views": ",".join(names)}


def _delete(properties, _old, physical_id):
    if not physical_id.endswith("/views"):  # creation failed before any view existed
        return physical_id, {}
    names = list(views.view_statements())
    views.drop_views(aws.client("athena"), names, database=properties["DatabaseName"],
                     workgroup=properties["WorkGroup"])
    return physical_id, {"Dropped": str(len(names))}


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> None:
    custom_resource.respond_to_cloudformation(event, context, create=_create_or_update, update=_create_or_update,
                                              delete=_delete)
