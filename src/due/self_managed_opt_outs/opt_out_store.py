"""Where an opt-out is recorded: an End User Messaging opt-out list, or a Pinpoint endpoint.

Both keep transactional messages possible:
* End User Messaging: the stack's list is for promotional traffic only. It is
  not attached to your phone number (self-managed opt-outs are on), so the
  service does not block transactional sends; promotional senders check it.
* Pinpoint: the endpoint's OptOut = ALL stops campaigns and journeys, while
  direct sends (SendMessages) still reach the number.
"""

from __future__ import annotations

import contextlib


class SmsOptOutList:
    def __init__(self, sms, list_name: str):
        self._sms, self.list_name = sms, list_name

    def opt_out(self, number: str) -> None:
        self._sms.put_opted_out_number(OptOutListName=self.list_name, OptedOutNumber=number)

    def opt_in(self, number: str) -> None:
        # Opting in a number that was never opted out is fine.
        with contextlib.suppress(self._sms.exceptions.ResourceNotFoundException):
            self._sms.delete_opted_out_number(OptOutListName=self.list_name, OptedOutNumber=number)


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
