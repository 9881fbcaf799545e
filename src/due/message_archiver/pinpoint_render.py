"""Re-rendering a Pinpoint campaign or journey message for the archive, from the send event that names it.

For each send event (``pinpoint_send``) the archiver reads, through the Pinpoint API (API reference, "Campaigns",
"Campaign Versions", "Journeys", "Message templates", "Endpoints"):

* the campaign as it was when the message was sent: ``GetCampaign`` answers the current version with its
  ``Version`` (a number that grows with each ``UpdateCampaign``) and ``LastModifiedDate``; a campaign changed
  after the send is read back version by version (``GetCampaignVersion``) to the last one modified before it
  (a version's ``LastModifiedDate`` taken as when it was written; if even version 1 is dated later, version 1).
  Then the treatment the event names: an entry of ``AdditionalTreatments`` by its ``Id``, else, for ``"0"``, the
  campaign's own message (the default treatment);
* or the journey (``GetJourney``) and the activity the event names (``Activities[journey_activity_id]``: its
  ``EMAIL``, ``SMS`` or ``PUSH`` member, each a template name and optional ``TemplateVersion``);
* the message template at the version the campaign or activity names (``TemplateConfiguration.<X>Template``:
  ``Name``, ``Version``). Get{Email,Sms,Push,Voice}Template with ``Version`` answers that version; without it,
  the template's active version, which is also the one Pinpoint sends when no version is named (API reference,
  "Template": "If you don't specify a value for this property, Amazon Pinpoint uses the active version");
  or, without a template, the campaign's inline message (``MessageConfiguration``);
* the endpoint (``GetEndpoint``): its ``Address`` (the recipient; the event never carries it), ``Attributes``,
  ``User.UserAttributes`` and the rest, overlaid with what the event's endpoint snapshot holds (the values sent).

Content is cached per invocation (``PinpointContent``): one campaign read per campaign, one per version, one
template read per template and version, one journey read per journey, however many messages share them.

Substitution (Pinpoint User Guide, "Adding personalized content to message templates"): ``{{Path.To.Value}}`` is
the endpoint's value at that path (``{{Attributes.City}}``, ``{{User.UserAttributes.FirstName}}``,
``{{Address}}``, ``{{Id}}``, ``{{Demographic.Timezone}}`` ...); where the endpoint has none, the template's
``DefaultSubstitutions`` (a JSON object whose keys are the variables, "Each key defines a message variable in the
template. The corresponding value defines the default value", API reference) gives it, else nothing. Attribute
values are lists; several values are written comma-separated, as Handlebars (which Pinpoint templates are based
on, User Guide "Using message template helpers") writes a list. Helpers and blocks (``{{#if}}``, ``{{#each}}``,
``{{formatDate ...}}``) are not rendered here: a message using them fails with that reason, rather than being
archived as something it was not.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from due.archive import SentMessage
from due.logs import get_logger
from due.message_archiver.pinpoint_send import SendEvent

logger = get_logger("message_archiver.pinpoint_render")

VARIABLE = re.compile(r"\{\{(\{?)([^{}]*)\}?\}\}")
PUSH_PLATFORMS = {"GCM": "GCM", "APNS": "APNS", "APNS_SANDBOX": "APNS", "APNS_VOIP": "APNS",
                  "APNS_VOIP_SANDBOX": "APNS", "ADM": "ADM", "BAIDU": "Baidu"}
CHANNELS = {"EMAIL": "email", "SMS": "sms", "VOICE": "voice", **dict.fromkeys(PUSH_PLATFORMS, "push")}
TEMPLATE_KINDS = {"email": "Email", "sms": "SMS", "push": "Push", "voice": "Voice"}
# Get*Template operations and the member their answer comes in (API reference)
TEMPLATE_READS = {"email": ("get_email_template", "EmailTemplateResponse"),
                  "sms": ("get_sms_template", "SMSTemplateResponse"),
                  "push": ("get_push_template", "PushNotificationTemplateResponse"),
                  "voice": ("get_voice_template", "VoiceTemplateResponse")}
JOURNEY_MESSAGE_ACTIVITIES = {"email": "EMAIL", "sms": "SMS", "push": "PUSH"}  # journeys have no voice activity


class ContentMissing(Exception):
    """The campaign, treatment, journey, activity, template (version) or endpoint is not there (any more)."""


class RenderError(Exception):
    """The content is there but cannot be rendered faithfully; the reason says why."""


class PinpointContent:
    """Campaigns, journeys and templates read once each per invocation; ``fetches`` counts the reads."""

    def __init__(self, pinpoint):
        self._pinpoint = pinpoint
        self._cache: dict[tuple, dict[str, Any]] = {}
        self.fetches: Counter[str] = Counter()

    def _read(self, key: tuple, operation: str, member: str, what: str, **params) -> dict[str, Any]:
        if key not in self._cache:
            self.fetches[operation] += 1
            try:
                self._cache[key] = getattr(self._pinpoint, operation)(**params)[member]
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") == "NotFoundException":
                    raise ContentMissing(f"{what} not found") from None
                raise
        return self._cache[key]

    def campaign_at(self, application_id: str, campaign_id: str, sent_at: str) -> dict[str, Any]:
        """The campaign's version in force when the message was sent."""
        campaign = self._read(("campaign", application_id, campaign_id), "get_campaign", "CampaignResponse",
                              f"campaign {campaign_id}", ApplicationId=application_id, CampaignId=campaign_id)
        sent = _instant(sent_at)
        version = int(campaign.get("Version") or 1)
        while not _modified_by(campaign, sent):
            version -= 1
            if version < 1:
                # Even the first version is dated after the send (its date moved without a new version, or the
                # clocks disagree): the first version is the oldest content there is, and the header says which.
                logger.warning("every campaign version is dated after the send; the first one is archived",
                               extra={"campaign_id": campaign_id})
                return campaign
            campaign = self._read(("campaign", application_id, campaign_id, version), "get_campaign_version",
                                  "CampaignResponse", f"campaign {campaign_id} version {version}",
                                  ApplicationId=application_id, CampaignId=campaign_id, Version=str(version))
        return campaign

    def journey(self, application_id: str, journey_id: str) -> dict[str, Any]:
        return self._read(("journey", application_id, journey_id), "get_journey", "JourneyResponse",
                          f"journey {journey_id}", ApplicationId=application_id, JourneyId=journey_id)

    def template(self, channel: str, name: str, version: str | None) -> dict[str, Any]:
        operation, member = TEMPLATE_READS[channel]
        params = {"TemplateName": name, **({"Version": version} if version else {})}
        return self._read(("template", channel, name, version or ""), operation, member,
                          f"{TEMPLATE_KINDS[channel]} template {name} version {version or '(active)'}", **params)

    def endpoint(self, application_id: str, endpoint_id: str) -> dict[str, Any]:
        """Not cached: one per message, as each message has its own recipient."""
        self.fetches["get_endpoint"] += 1
        try:
            return self._pinpoint.get_endpoint(ApplicationId=application_id,
                                               EndpointId=endpoint_id)["EndpointResponse"]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "NotFoundException":
                # The endpoint id is left out of the reason: it may be an address (pinpoint_send).
                raise ContentMissing("the endpoint is not found (deleted since the send?)") from None
            raise

    def content_fetches(self) -> int:
        return sum(count for operation, count in self.fetches.items() if operation != "get_endpoint")


def rebuild(send: SendEvent, content: PinpointContent, secret: bytes) -> SentMessage:
    """The message the send event stands for, rendered for its endpoint, as the archive keeps it; ``secret`` (the
    recipient secret) makes the message id's endpoint part (``SendEvent.message_id``)."""
    endpoint = _endpoint_as_sent(content.endpoint(send.application_id, send.endpoint_id), send.endpoint_snapshot)
    channel_type = endpoint.get("ChannelType", "")
    channel = CHANNELS.get(channel_type)
    if channel is None:
        raise RenderError(f"endpoint channel {channel_type or '(none)'} is not archived (email, SMS, voice, push)")
    if not endpoint.get("Address"):
        raise ContentMissing("the endpoint has no address")
    headers = {"Pinpoint-Application-Id": send.application_id, "Pinpoint-Endpoint-Id": send.endpoint_id,
               "Pinpoint-Channel-Type": channel_type}
    if send.is_campaign:
        campaign = content.campaign_at(send.application_id, send.campaign_id, send.sent_at)
        treatment = _treatment(campaign, send.treatment_id)
        headers.update({"Pinpoint-Campaign-Version": str(campaign.get("Version", "")),
                        "Pinpoint-Treatment-Id": send.treatment_id,
                        "Pinpoint-Campaign-Activity-Id": send.campaign_activity_id})
        parts = _campaign_parts(treatment, channel, channel_type, content)
    else:
        journey = content.journey(send.application_id, send.journey_id)
        headers.update({"Pinpoint-Journey-Activity-Id": send.journey_activity_id,
                        "Pinpoint-Journey-Run-Id": send.journey_run_id})
        parts = _journey_parts(journey, send.journey_activity_id, channel, channel_type, content)
    headers.update(parts.pop("headers"))
    defaults = parts.pop("defaults")
    rendered = {name: render(text, endpoint, defaults) for name, text in parts.pop("texts").items()}
    return SentMessage(channel=channel, recipient=endpoint["Address"], message_id=send.message_id(secret),
                       sent_at=send.sent_at, campaign_id=send.campaign_id, journey_id=send.journey_id,
                       headers=headers, **parts, **rendered)


def render(text: str, endpoint: dict[str, Any], defaults: dict[str, str]) -> str:
    def substitute(match: re.Match) -> str:
        name = match.group(2).strip()
        if not name or name[0] in "#/^>!@&" or name == "else" or any(c.isspace() for c in name):
            raise RenderError(f"template uses '{{{{{name.split()[0] if name.split() else name}...}}}}', a helper "
                              "or block the archiver does not render")
        value = _value_at(endpoint, name)
        return value if value is not None else str(defaults.get(name, ""))

    return VARIABLE.sub(substitute, text or "")


def _value_at(endpoint: dict[str, Any], path: str) -> str | None:
    value: Any = endpoint
    for step in path.split("."):
        if not isinstance(value, dict) or step not in value:
            return None
        value = value[step]
    if value is None or value == [] or value == "":
        return None
    if isinstance(value, list):
        return ",".join(_scalar(item) for item in value)
    if isinstance(value, dict):
        return None  # an object is not a value: Pinpoint renders no object into a message
    return _scalar(value)


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Metrics are doubles; 3.0 is written 3, as JavaScript (Handlebars) writes it
    return str(value)


def _endpoint_as_sent(endpoint: dict[str, Any], snapshot: dict[str, Any] | None) -> dict[str, Any]:
    """GetEndpoint's endpoint, with what the event's snapshot holds put over it, member by member (a snapshot's
    ``User`` may carry the UserId alone: the user attributes GetEndpoint gives stay)."""
    merged = dict(endpoint)
    for name, value in (snapshot or {}).items():
        if name == "Address" or value in (None, {}, [], ""):  # an empty snapshot part says nothing
            continue
        if isinstance(value, dict) and isinstance(merged.get(name), dict):
            merged[name] = {**merged[name], **{k: v for k, v in value.items() if v not in (None, {}, [], "")}}
        else:
            merged[name] = value
    return merged


def _treatment(campaign: dict[str, Any], treatment_id: str) -> dict[str, Any]:
    for treatment in campaign.get("AdditionalTreatments") or []:
        if str(treatment.get("Id")) == treatment_id:
            return treatment
    if treatment_id in ("", "0"):
        return campaign
    raise ContentMissing(f"campaign {campaign.get('Id')} version {campaign.get('Version')} has no treatment "
                         f"{treatment_id}")


def _campaign_parts(treatment: dict[str, Any], channel: str, channel_type: str,
                    content: PinpointContent) -> dict[str, Any]:
    template_key = {"email": "EmailTemplate", "sms": "SMSTemplate", "push": "PushTemplate",
                    "voice": "VoiceTemplate"}[channel]
    named = (treatment.get("TemplateConfiguration") or {}).get(template_key) or {}
    messages = treatment.get("MessageConfiguration") or {}
    if named.get("Name"):
        parts = _template_parts(channel, channel_type, named["Name"], named.get("Version"), content)
        inline = messages.get({"email": "EmailMessage", "sms": "SMSMessage"}.get(channel, "")) or {}
        parts.update(_origination(channel, inline))
        return parts
    if channel == "email" and messages.get("EmailMessage"):
        message = messages["EmailMessage"]
        texts = {"subject": message.get("Title", ""), "html": message.get("HtmlBody", ""),
                 "text": message.get("Body", "")}
    elif channel == "sms" and messages.get("SMSMessage"):
        message = messages["SMSMessage"]
        texts = {"text": message.get("Body", "")}
    elif channel == "push" and (messages.get(f"{PUSH_PLATFORMS[channel_type]}Message")
                                or messages.get("DefaultMessage")):
        message = {**(messages.get("DefaultMessage") or {}),
                   **(messages.get(f"{PUSH_PLATFORMS[channel_type]}Message") or {})}
        texts = {"subject": message.get("Title", ""), "text": message.get("Body", "")}
    else:
        raise ContentMissing(f"the treatment has no {channel} template or message")
    return {"texts": texts, "defaults": {}, "headers": {"Pinpoint-Content": "inline message"},
            **_origination(channel, message)}


def _journey_parts(journey: dict[str, Any], activity_id: str, channel: str, channel_type: str,
                   content: PinpointContent) -> dict[str, Any]:
    activity = (journey.get("Activities") or {}).get(activity_id)
    if activity is None:
        raise ContentMissing(f"journey {journey.get('Id')} has no activity {activity_id}")
    kind = JOURNEY_MESSAGE_ACTIVITIES.get(channel)
    message_activity = activity.get(kind) if kind else None
    if not message_activity or not message_activity.get("TemplateName"):
        raise ContentMissing(f"journey activity {activity_id} has no {channel} message template")
    parts = _template_parts(channel, channel_type, message_activity["TemplateName"],
                            message_activity.get("TemplateVersion"), content)
    parts.update(_origination(channel, message_activity.get("MessageConfig") or {}))
    return parts


def _template_parts(channel: str, channel_type: str, name: str, version: str | None,
                    content: PinpointContent) -> dict[str, Any]:
    template = content.template(channel, name, version)
    headers = {"Pinpoint-Template": name, "Pinpoint-Template-Version": str(template.get("Version", version or ""))}
    if channel == "email":
        texts = {"subject": template.get("Subject", ""), "html": template.get("HtmlPart", ""),
                 "text": template.get("TextPart", "")}
    elif channel in ("sms", "voice"):
        texts = {"text": template.get("Body", "")}
        if channel == "voice":
            headers.update({"Pinpoint-Voice-Language": template.get("LanguageCode", ""),
                            "Pinpoint-Voice-Id": template.get("VoiceId", "")})
    else:  # push: the platform's own part of the template, field by field over its Default part
        message = {**(template.get("Default") or {}), **(template.get(PUSH_PLATFORMS[channel_type]) or {})}
        texts = {"subject": message.get("Title", ""), "text": message.get("Body", "")}
    return {"texts": texts, "defaults": _defaults(template, name), "headers": headers}


def _origination(channel: str, message: dict[str, Any]) -> dict[str, str]:
    if channel == "email":
        return {"origination": message.get("FromAddress", "")} if message.get("FromAddress") else {}
    if channel == "sms":
        found = {"origination": message.get("OriginationNumber") or message.get("SenderId") or "",
                 "message_type": message.get("MessageType") or ""}
        return {name: value for name, value in found.items() if value}
    return {}


def _defaults(template: dict[str, Any], name: str) -> dict[str, str]:
    text = template.get("DefaultSubstitutions")
    if not text:
        return {}
    try:
        defaults = json.loads(text)
    except ValueError:
        raise RenderError(f"template {name}: DefaultSubstitutions is not JSON") from None
    if not isinstance(defaults, dict):
        raise RenderError(f"template {name}: DefaultSubstitutions is not a JSON object")
    return {str(key): _scalar(value) for key, value in defaults.items()}


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _modified_by(campaign: dict[str, Any], sent: datetime) -> bool:
    modified = campaign.get("LastModifiedDate") or campaign.get("CreationDate")
    if not modified:
        return True  # nothing says it changed after the send
    when = _instant(modified)
    if when.tzinfo is None:
        when = when.replace(tzinfo=sent.tzinfo)
    return when <= sent
