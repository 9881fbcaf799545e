"""One inbound SMS: record the opt-out or opt-in, tell other systems, confirm to the customer.

Messages from one number can arrive out of order (a STOP quickly followed by
a START): a decision is applied only if it was received after the last one
applied for that number, so the final state is the customer's last word.

The order of steps matters and each is remembered per ``inboundMessageId``:
the opt-out is recorded before anything else, so a failed confirmation never
loses it; a redelivered message (or the retry after a failed step) skips the
steps already done, so nobody gets two confirmations and other systems get
one notification.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from due.self_managed_opt_outs.keywords import Intent, KeywordRules
from due.sms_events import InboundSms

STEP_RECORD, STEP_NOTIFY, STEP_REPLY, STEP_STALE = "record", "notify", "reply", "stale"


class ProcessedSteps:
    """Which steps of an inbound message are done; items expire after ``keep_days``."""

    def __init__(self, dynamodb, table_name: str, keep_days: int = 7):
        self._dynamodb, self._table, self._keep = dynamodb, table_name, keep_days * 86400

    def done(self, message_id: str) -> set[str]:
        item = self._dynamodb.get_item(TableName=self._table, Key={"inbound_message_id": {"S": message_id}},
                                       ConsistentRead=True).get("Item", {})
        return set(item.get("steps", {}).get("SS", []))

    def newest_decision(self, number: str, received_at: str, message_id: str) -> bool:
        """Record this message as the number's latest decision, unless a later one was applied already."""
        try:
            self._dynamodb.update_item(
                TableName=self._table, Key={"inbound_message_id": {"S": f"number:{number}"}},
                UpdateExpression="SET decided_at = :at, decided_by = :id",
                ConditionExpression="attribute_not_exists(decided_at) OR decided_at <= :at",
                ExpressionAttributeValues={":at": {"S": received_at}, ":id": {"S": message_id}},
            )
            return True
        except self._dynamodb.exceptions.ConditionalCheckFailedException:
            return False

    def mark(self, message_id: str, step: str) -> None:
        self._dynamodb.update_item(
            TableName=self._table, Key={"inbound_message_id": {"S": message_id}},
            UpdateExpression="ADD steps :step SET expires_at = if_not_exists(expires_at, :expires)",
            ExpressionAttributeValues={":step": {"SS": [step]}, ":expires": {"N": str(int(time.time()) + self._keep)}},
        )


@dataclass(frozen=True)
class Texts:
    opt_out_confirmation: str
    opt_in_confirmation: str
    help: str

    def for_intent(self, intent: Intent) -> str:
        return {Intent.OPT_OUT: self.opt_out_confirmation, Intent.OPT_IN: self.opt_in_confirmation,
                Intent.HELP: self.help}[intent]


class OptOutProcessor:
    def __init__(self, rules: KeywordRules, store, replies, sns, notifications_topic_arn: str,
                 steps: ProcessedSteps, texts: Texts):
        self._rules, self._store, self._replies, self._sns = rules, store, replies, sns
        self._topic, self._steps, self._texts = notifications_topic_arn, steps, texts

    def handle(self, sms: InboundSms) -> tuple[Intent, str]:
        """The intent and keyword; Intent.NONE also when a later message from the number already decided."""
        intent, keyword = self._rules.classify(sms.body)
        if intent is Intent.NONE:
            return intent, keyword
        done = self._steps.done(sms.inbound_message_id)
        if STEP_STALE in done:
            return Intent.NONE, keyword
        if intent in (Intent.OPT_OUT, Intent.OPT_IN):
            if STEP_RECORD not in done and not self._steps.newest_decision(
                    sms.customer_number, sms.received_at, sms.inbound_message_id):
                self._steps.mark(sms.inbound_message_id, STEP_STALE)  # confirming it now would mislead
                return Intent.NONE, keyword
            if STEP_RECORD not in done:
                (self._store.opt_out if intent is Intent.OPT_OUT else self._store.opt_in)(sms.customer_number)
                self._steps.mark(sms.inbound_message_id, STEP_RECORD)
            if STEP_NOTIFY not in done:
                self._notify(sms, intent, keyword)
                self._steps.mark(sms.inbound_message_id, STEP_NOTIFY)
        if STEP_REPLY not in done and self._texts.for_intent(intent):
            # From the number the customer wrote to; a reply to a keyword is transactional.
            self._replies.send(sms.customer_number, sms.our_number, self._texts.for_intent(intent), "TRANSACTIONAL")
            self._steps.mark(sms.inbound_message_id, STEP_REPLY)
        return intent, keyword

    def _notify(self, sms: InboundSms, intent: Intent, keyword: str) -> None:
        action = "opted_out" if intent is Intent.OPT_OUT else "opted_in"
        self._sns.publish(
            TopicArn=self._topic,
            Message=json.dumps({"action": action, "phoneNumber": sms.customer_number, "keyword": keyword,
                                "ourNumber": sms.our_number, "inboundMessageId": sms.inbound_message_id,
                                "recordedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}),
            MessageAttributes={"action": {"DataType": "String", "StringValue": action}},
        )
