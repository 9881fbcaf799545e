"""The two ways a call is placed: Amazon Connect (a contact flow speaks the message) or End User Messaging voice.

``ConnectCalls.call`` is StartOutboundVoiceContact (Amazon Connect API reference): InstanceId, ContactFlowId,
DestinationPhoneNumber, and QueueId or SourcePhoneNumber ("If you do not specify a queue, you must specify a
source phone number"); the message and the row's attributes travel as contact Attributes, which the flow
reads as ``$.Attributes.message``. ClientToken is the call's deduplication id: "The token is valid for 7
days after creation. If a contact is already started, the contact ID is returned. If the contact is
disconnected, a new contact is started." So the token stops a second dial only while the first call is
still up: the stored marker (due.send_markers) is what stops a redial after it ends. An unanswered call
rings for RingTimeoutInSeconds (15 to 60, the service model; 60 when not given, as here).

``EndUserMessagingVoice.call`` is SendVoiceMessage (End User Messaging SMS and voice v2 API reference):
DestinationPhoneNumber, OriginationIdentity (a phone number or pool that can place voice calls),
MessageBody (1 to 6,000 characters, the service model: a longer message is refused before dialling, not
cut), MessageBodyTextType TEXT, VoiceId (an enum of the model, e.g. JOANNA), Context (at most 5 entries).
It takes no client token: the marker alone keeps it at most once. Connect's concurrent-call limit does not apply.

Both return the service's id for the call (ContactId, MessageId).

The clients that place calls (``placing_client``) try each request once. botocore's standard retry mode (the
shared ``due.aws`` clients) repeats a request after a 5xx or a read time-out with the same parameters, the
client token included, and a call that went and has already ended would then be dialled again ("If the
contact is disconnected, a new contact is started"); SendVoiceMessage has no token at all. So the dialler
retries throttling itself (a refusal: nothing was placed) and treats a 5xx or a lost answer as unknown.
"""

from __future__ import annotations

import functools

import boto3
from botocore.config import Config

from due.connect_channel.requests import MESSAGE_ATTRIBUTE, CallRequest

# One attempt (botocore retry configuration: total_max_attempts counts the first request), the shared timeouts.
PLACING_CONFIG = Config(retries={"mode": "standard", "total_max_attempts": 1}, connect_timeout=5, read_timeout=20)


@functools.cache
def placing_client(service_name: str):
    """A client for placing calls (``connect`` or ``pinpoint-sms-voice-v2``) that never repeats a request."""
    return boto3.client(service_name, config=PLACING_CONFIG)

MAX_VOICE_MESSAGE = 6000  # SendVoiceMessage MessageBody (service model)


class ConnectCalls:
    uses_slots = True

    def __init__(self, connect, instance_id: str, contact_flow: str, queue_id: str = "", source_number: str = ""):
        if not queue_id and not source_number:
            raise ValueError("a Connect call needs a queue or a source phone number")
        self._connect, self._instance = connect, instance_id
        self._flow = contact_flow.rsplit("/", 1)[-1]  # an ARN (the stack's own flow) or an id
        self._queue, self._source = queue_id, source_number
        # What the message archive names as the call's origination: the number it is placed from, else the queue.
        self.origination = source_number or f"queue {queue_id}"

    def message_refusal(self, message: str) -> str | None:
        return None  # the message's size is checked with the attributes when the row is read (32,768 bytes)

    def call(self, request: CallRequest, message: str, token: str) -> str:
        placement = {"QueueId": self._queue} if self._queue else {"SourcePhoneNumber": self._source}
        response = self._connect.start_outbound_voice_contact(
            DestinationPhoneNumber=request.number, ContactFlowId=self._flow, InstanceId=self._instance,
            ClientToken=token, Attributes={**request.attributes, MESSAGE_ATTRIBUTE: message}, **placement)
        return response["ContactId"]


class EndUserMessagingVoice:
    uses_slots = False

    def __init__(self, sms_voice, origination_identity: str, voice_id: str = "JOANNA"):
        self._sms_voice, self._origination, self._voice = sms_voice, origination_identity, voice_id
        self.origination = origination_identity

    def message_refusal(self, message: str) -> str | None:
        """Why SendVoiceMessage would refuse the message (refused before dialling, never cut short), or None."""
        if len(message) > MAX_VOICE_MESSAGE:
            return f"the message has {len(message)} characters; SendVoiceMessage speaks {MAX_VOICE_MESSAGE} at most"
        return None

    def call(self, request: CallRequest, message: str, token: str) -> str:
        context = {"row": str(request.row), "external_id": request.external_id}
        response = self._sms_voice.send_voice_message(
            DestinationPhoneNumber=request.number, OriginationIdentity=self._origination,
            MessageBody=message, MessageBodyTextType="TEXT", VoiceId=self._voice,
            Context={k: v[:800] for k, v in context.items() if v})
        return response["MessageId"]
