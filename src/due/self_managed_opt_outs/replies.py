"""Confirmation and help texts, sent from the number the customer wrote to, as transactional messages."""

from __future__ import annotations


class SmsReplies:
    def __init__(self, sms):
        self._sms = sms

    def send(self, to: str, from_number: str, text: str) -> None:
        self._sms.send_text_message(DestinationPhoneNumber=to, OriginationIdentity=from_number, MessageBody=text,
                                    MessageType="TRANSACTIONAL")


class PinpointReplies:
    def __init__(self, pinpoint, application_id: str):
        self._pinpoint, self._application_id = pinpoint, application_id

    def send(self, to: str, from_number: str, text: str) -> None:
        response = self._pinpoint.send_messages(ApplicationId=self._application_id, MessageRequest={
            "Addresses": {to: {"ChannelType": "SMS"}},
            "MessageConfiguration": {"SMSMessage": {"Body": text, "MessageType": "TRANSACTIONAL",
                                                    "OriginationNumber": from_number}},
        })
        result = response["MessageResponse"]["Result"][to]
        if result.get("DeliveryStatus") != "SUCCESSFUL":
            raise RuntimeError(f"Pinpoint did not accept the reply: {result.get('DeliveryStatus')} "
                               f"{result.get('StatusMessage', '')}")
