"""Where an opt-out is recorded: an End User Messaging opt-out list, or a Pinpoint endpoint.

Both keep transactional messages possible:
* End User Messaging: the stack's list is for promotional traffic only. It is
  not attached to your phone number (self-managed opt-outs are on), so the
  service does not block transactional sends; promotional senders check it.
* Pinpoint: the endpoint's OptOut = ALL stops campaigns and journeys, while
  direct sends (SendMessages) still reach the number.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from due import aws


class OptInRefused(Exception):
    """End User Messaging refused to take a number off the list; it stays opted out."""


class SmsOptOutList:
    def __init__(self, sms, list_name: str):
        self._sms, self.list_name = sms, list_name

    def opt_out(self, number: str) -> None:
        self._sms.put_opted_out_number(OptOutListName=self.list_name, OptedOutNumber=number)

    def opt_in(self, number: str) -> None:
        """Raises OptInRefused when the service refuses for good; throttling and server errors propagate.

        "Each destination phone number can only be deleted once every 30 days" (DeleteOptedOutNumber, End
        User Messaging SMS API reference); which error a second START then meets is not documented, so
        every refusal other than throttling counts (a 4xx answer).
        """
        try:
            self._sms.delete_opted_out_number(OptOutListName=self.list_name, OptedOutNumber=number)
        except self._sms.exceptions.ResourceNotFoundException:
            return  # never opted out: nothing to undo
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 500)
            # AccessDenied is this stack's own configuration, not End User Messaging's rule about the number:
            # retried into the DLQ (and its alarm), never told to the customer as "only once every 30 days".
            if code in aws.THROTTLING_CODES or status == 429 or status >= 500 or code.startswith("AccessDenied"):
                raise
            raise OptInRefused(f"{code}: {error.response.get('Error', {}).get('Message', '')}") from error


class PinpointEndpoints:
    """Endpoint ids follow the convention: the E.164 number without its '+'."""

    def __init__(self, pinpoint, application_id: str):
        self._pinpoint, self._application_id = pinpoint, application_id

    def opt_out(self, number: str) -> None:
        self._update(number, "ALL")

    def opt_in(self, number: str) -> None:
        self._update(number, "NONE")

    def _update(self, number: str, opt_out: str) -> None:
        self._pinpoint.update_endpoint(
            ApplicationId=self._application_id, EndpointId=number.lstrip("+"),
            EndpointRequest={"Address": number, "ChannelType": "SMS", "OptOut": opt_out},
        )
