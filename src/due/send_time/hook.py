"""Pinpoint mode (the seed): a campaign hook in FILTER mode adds send-time data to the endpoints it is handed.

The event and the answer, as the Amazon Pinpoint Developer Guide documents them ("Customizing segments with
AWS Lambda", awsdocs/amazon-pinpoint-developer-guide doc-source/segments-dynamic.md):

* the event holds ``MessageConfiguration``, ``ApplicationId``, ``CampaignId``, ``TreatmentId``,
  ``ActivityId``, ``ScheduledTime`` and ``Endpoints``, a map of endpoint id to endpoint definition, at most 50
  endpoints per invocation (Pinpoint invokes the function again for the rest);
* the function answers the endpoints "in the same format provided by the event data, which is a map that
  associates endpoint IDs with endpoint definitions"; only endpoint definitions are taken from the answer, and
  an endpoint left out of the map is not sent to (that is how a FILTER hook filters);
* Pinpoint fails the delivery when the function takes longer than 15 seconds, when it cannot decode the answer,
  or after 3 failed invocations; so the lookups' time budget must leave room inside 15 seconds.

An endpoint's ``Attributes`` map names to lists of strings (Pinpoint API reference, EndpointResponse), so a
looked-up value ``v`` becomes ``Attributes[name] = [v]`` and a message reads it as ``{{Attributes.name}}``.
The recipient's key is the endpoint id, or its ``User.UserId`` (``key_source``); its locale is
``Demographic.Locale``.
"""

from __future__ import annotations

import copy
import html
from typing import Any

from due.events import BadEvent
from due.send_time.lookup import Lookup, MissingDataPolicy, Recipient, apply_policy

KEY_SOURCES = ("EndpointId", "UserId")
MAX_ENDPOINTS_PER_EVENT = 50  # "Each event data payload contains up to 50 endpoints"


def recipients(event: dict[str, Any], key_source: str = "EndpointId") -> list[Recipient]:
    endpoints = event.get("Endpoints")
    if not isinstance(endpoints, dict):
        raise BadEvent("not a campaign hook event: no Endpoints map")
    found = []
    for endpoint_id, endpoint in endpoints.items():
        if not isinstance(endpoint, dict):
            raise BadEvent(f"endpoint {endpoint_id} is not an object")
        key = endpoint_id if key_source == "EndpointId" else str((endpoint.get("User") or {}).get("UserId") or "")
        locale = str((endpoint.get("Demographic") or {}).get("Locale") or "")
        found.append(Recipient(ref=endpoint_id, key=key, locale=locale))
    return found


def email_may_be_html(event: dict[str, Any]) -> bool:
    """Whether the campaign's email may render values in HTML. The hook event's ``MessageConfiguration`` has "the
    same structure as the DirectMessageConfiguration" (Developer Guide, "Customizing segments with AWS Lambda"),
    whose EmailMessage carries HTML in ``SimpleEmail.HtmlPart`` (a campaign's own message calls it ``HtmlBody``),
    and a campaign that sends a template carries no body at all. So only an email shown to be text alone (a text
    body and no HTML part) gets values as written; HTML, a template, or no body shown: escaped."""
    email = (event.get("MessageConfiguration") or {}).get("EmailMessage") or {}
    simple = email.get("SimpleEmail") or {}
    html_part = email.get("HtmlBody") or (simple.get("HtmlPart") or {}).get("Data")
    text_part = email.get("Body") or (simple.get("TextPart") or {}).get("Data")
    return bool(html_part) or not text_part


def filter_endpoints(event: dict[str, Any], lookup: Lookup, policy: MissingDataPolicy,
                     default: dict[str, str] | None = None, *, key_source: str = "EndpointId",
                     escape_for_html: bool = True) -> dict[str, Any]:
    """The event's endpoints with the looked-up data in their attributes; the hook's answer to Pinpoint.

    ``escape_for_html``: values given to an EMAIL endpoint are escaped unless the email is shown to be text only
    (``email_may_be_html``): data such as an offer; content that is HTML itself (#12's ``html``) is passed as
    stored. Other channels' endpoints (SMS, push) get values as written."""
    campaign = str(event.get("CampaignId") or "")
    wanted = recipients(event, key_source)
    decided = apply_policy(wanted, lookup.look_up(campaign, wanted), policy, default)
    may_be_html = escape_for_html and email_may_be_html(event)
    answer: dict[str, Any] = {}
    for recipient, data in decided.send:
        endpoint = copy.deepcopy(event["Endpoints"][recipient.ref])
        attributes = endpoint.get("Attributes") if isinstance(endpoint.get("Attributes"), dict) else {}
        escape = may_be_html and endpoint.get("ChannelType") == "EMAIL"
        for name, value in data.items():
            attributes[name] = [html.escape(value, quote=True) if escape else value]
        if attributes:
            endpoint["Attributes"] = attributes
        answer[recipient.ref] = endpoint
    return answer
