"""Sending one SMS, with AWS End User Messaging or with Pinpoint: the one implementation every architecture uses.

Both return the message id and raise ``SendRefused`` when the service answered
without sending (Pinpoint reports that per address, not as an API error; End
User Messaging raises a ClientError, which callers treat the same way).
"""

from __future__ import annotations


class SendRefused(RuntimeError):
    """The service answered and did not send the message; ``permanent``: sending it again cannot succeed."""

    def __init__(self, message: str, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


# Pinpoint's MessageResult.DeliveryStatus values after which "Amazon Pinpoint won't attempt to send the
# message again" for a reason of the address (Pinpoint API reference, MessageResult); THROTTLED,
# TEMPORARY_FAILURE, TIMEOUT and UNKNOWN_FAILURE may go another time.
PINPOINT_PERMANENT_STATUSES = frozenset({"PERMANENT_FAILURE", "OPT_OUT", "DUPLICATE"})


class EndUserMessagingSms:
    def __init__(self, sms, configuration_set: str = ""):
        self._sms, self._configuration_set = sms, configuration_set

    def send(self, to: str, origination: str, body: str, message_type: str,
             context: dict[str, str] | None = None) -> str:
        extra = {"ConfigurationSetName": self._configuration_set} if self._configuration_set else {}
        if context:
            extra["Context"] = context
        response = self._sms.send_text_message(DestinationPhoneNumber=to, OriginationIdentity=origination,
                                               MessageBody=body, MessageType=message_type, **extra)
        return response["MessageId"]


class PinpointSms:
    def __init__(self, pinpoint, application_id: str):
        self._pinpoint, self._application_id = pinpoint, application_id

    def send(self, to: str, origination: str, body: str, message_type: str,
             context: dict[str, str] | None = None) -> str:
        request = {
            "Addresses": {to: {"ChannelType": "SMS"}},
            "MessageConfiguration": {"SMSMessage": {"Body": body, "MessageType": message_type,
                                                    "OriginationNumber": origination}},
        }
        if context:
            request["Context"] = context
        response = self._pinpoint.send_messages(ApplicationId=self._application_id, MessageRequest=request)
        result = response["MessageResponse"]["Result"][to]
        status = result.get("DeliveryStatus")
        if status != "SUCCESSFUL":
            raise SendRefused(f"Pinpoint answered {status} ({result.get('StatusCode')})",
                              permanent=status in PINPOINT_PERMANENT_STATUSES)
        return result.get("MessageId", "")
