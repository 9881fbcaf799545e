"""The reader of both architectures: audience file dropped under incoming/ -> checked rows -> chunks on the FIFO
send queue, through the shared pipeline (``due.row_queue_reader``).

A file whose campaign cannot be sent (#12: no content in the default locale; #11: the SES template is missing)
is refused whole before any row is queued, and announced on the notifications topic; an accepted file is
announced too, so whoever dropped it hears either way. ``handler`` is given the architecture's campaign check
(raises ``CampaignRefused`` with the reason) and its row format's columns.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from typing import Any

from due import aws, row_queue_reader
from due.dropped_file import FileRefused
from due.send_time import audience


class CampaignRefused(Exception):
    """The campaign cannot be sent; the message says why."""


def _announce(service: str, message: dict[str, Any]) -> None:
    aws.client("sns").publish(TopicArn=os.environ["NOTIFICATIONS_TOPIC_ARN"],
                              Message=json.dumps(message, ensure_ascii=False),
                              Subject=f"{service}: {message['outcome']}"[:100])


def handler(check_campaign: Callable[[str], None], service: str, *, key_column: Callable[[], str] = lambda: "",
            locale_column: Callable[[], str] = lambda: "") -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    def check_file(file: str) -> None:
        campaign = audience.campaign_of(file)
        where = f"s3://{file.rsplit('@', 1)[0]}"
        try:
            check_campaign(campaign)
        except CampaignRefused as refused:
            reason = f"nothing was sent: {refused}"
            _announce(service, {"outcome": "refused", "file": where, "campaign": campaign, "reason": reason})
            raise FileRefused(reason) from None
        _announce(service, {"outcome": "accepted", "file": where, "campaign": campaign})

    @functools.lru_cache(maxsize=1)  # built at the first invocation, from that invocation's environment
    def reader():
        row_format = audience.row_format(chunk_size=int(os.environ["CHUNK_SIZE"]), key_column=key_column(),
                                         locale_column=locale_column(), check_file=check_file, s3=aws.client("s3"))
        return row_queue_reader.handler(row_format, service)

    def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return reader()(event, context)

    lambda_handler.cache_clear = reader.cache_clear  # a cold start (due_local's runtime) forgets the reader
    return lambda_handler
