"""One inbound SMS: record the opt-out or opt-in, tell other systems, confirm to the customer.

Messages from one number can arrive out of order (a STOP quickly followed by
a START): a decision is applied only if it was received after the last one
applied for that number, so the final state is the customer's last word.

The order of steps matters and each is remembered per ``inboundMessageId``:
the opt-out is recorded before anything else, so a failed confirmation never
loses it; a redelivered message (or the retry after a failed step) skips the
steps already done, so nobody gets two confirmations and other systems get
one notification. The reply's step keeps its message id and time: a redelivery
that finds the reply sent archives it again from them (never sends it again),
so a reply whose archive record died with its invocation (a timeout before the
handler's flush) is archived after all; the archive's conditional write on the
same key keeps one copy.

End User Messaging takes a number off an opt-out list once every 30 days. A
START it refuses leaves the number opted out, and is answered as such: the
customer gets the refusal text (try again later), other systems get an
``opt_in_refused`` notification with the service's reason.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from due.archiving import SentArchive, now
from due.logs import get_logger
from due.self_managed_opt_outs.keywords import Intent, KeywordRules
from due.self_managed_opt_outs.opt_out_store import OptInRefused
from due.sms_events import InboundSms

logger = get_logger("self_managed_opt_outs")

STEP_RECORD, STEP_REFUSED, STEP_NOTIFY, STEP_REPLY, STEP_STALE = "record", "refused", "notify", "reply", "stale"


@dataclass(frozen=True)
class Progress:
    steps: frozenset[str]
    refused_because: str = ""  # End User Messaging's reason, once it refused an opt-in
    reply_message_id: str = ""  # the reply's send (STEP_REPLY): its message id and time, for the archive
    reply_sent_at: str = ""


class ProcessedSteps:
    """Which steps of an inbound message are done; items expire after ``keep_days``."""

    def __init__(self, dynamodb, table_name: str, keep_days: int = 7):
        self._dynamodb, self._table, self._keep = dynamodb, table_name, keep_days * 86400

    def progress(self, message_id: str) -> Progress:
        item = self._dynamodb.get_item(TableName=self._table, Key={"inbound_message_id": {"S": message_id}},
                                       ConsistentRead=True).get("Item", {})
        text = {name: value["S"] for name, value in item.items() if "S" in value}
        return Progress(frozenset(item.get("steps", {}).get("SS", [])), text.get("refused_because", ""),
                        text.get("reply_message_id", ""), text.get("reply_sent_at", ""))

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

    def mark(self, message_id: str, step: str, refused_because: str = "", **texts: str) -> None:
        """``texts``: more string attributes to keep with the step (the reply's message id and time)."""
        values = {":step": {"SS": [step]}, ":expires": {"N": str(int(time.time()) + self._keep)}}
        update = "ADD steps :step SET expires_at = if_not_exists(expires_at, :expires)"
        for name, value in {"refused_because": refused_because, **texts}.items():
            if value:
                update += f", {name} = :{name}"
                values[f":{name}"] = {"S": value}
        self._dynamodb.update_item(TableName=self._table, Key={"inbound_message_id": {"S": message_id}},
                                   UpdateExpression=update, ExpressionAttributeValues=values)


@dataclass(frozen=True)
class Texts:
    opt_out_confirmation: str
    opt_in_confirmation: str
    help: str
    opt_in_refused: str = ""

    def for_intent(self, intent: Intent) -> str:
        return {Intent.OPT_OUT: self.opt_out_confirmation, Intent.OPT_IN: self.opt_in_confirmation,
                Intent.HELP: self.help}[intent]


class OptOutProcessor:
    def __init__(self, rules: KeywordRules, store, replies, sns, notifications_topic_arn: str,
                 steps: ProcessedSteps, texts: Texts, archive: SentArchive | None = None):
        self._rules, self._store, self._replies, self._sns = rules, store, replies, sns
        self._topic, self._steps, self._texts = notifications_topic_arn, steps, texts
        self.archive = archive or SentArchive(None)  # replies sent, for the message archive (the handler flushes)

    def handle(self, sms: InboundSms) -> tuple[Intent, str]:
        """The intent and keyword; Intent.NONE also when a later message from the number already decided."""
        intent, keyword = self._rules.classify(sms.body)
        if intent is Intent.NONE:
            return intent, keyword
        progress = self._steps.progress(sms.inbound_message_id)
        done, refused_because = progress.steps, progress.refused_because
        if STEP_STALE in done:
            return Intent.NONE, keyword
        if intent in (Intent.OPT_OUT, Intent.OPT_IN):
            decided = STEP_RECORD in done or STEP_REFUSED in done
            if not decided and not self._steps.newest_decision(
                    sms.customer_number, sms.received_at, sms.inbound_message_id):
                self._steps.mark(sms.inbound_message_id, STEP_STALE)  # confirming it now would mislead
                return Intent.NONE, keyword
            if not decided:
                refused_because = self._record(sms, intent)
            if STEP_NOTIFY not in done:
                self._notify(sms, intent, keyword, refused_because)
                self._steps.mark(sms.inbound_message_id, STEP_NOTIFY)
        reply = self._texts.opt_in_refused if refused_because else self._texts.for_intent(intent)
        if STEP_REPLY not in done and reply:
            # From the number the customer wrote to; a reply to a keyword is transactional.
            message_id = self._replies.send(sms.customer_number, sms.our_number, reply, "TRANSACTIONAL")
            sent_at = now()
            self._steps.mark(sms.inbound_message_id, STEP_REPLY, reply_message_id=message_id or "",
                             reply_sent_at=sent_at)
            self._archive(sms, reply, message_id, sent_at)
        elif STEP_REPLY in done and reply and progress.reply_message_id:  # a redelivery: archived again, not sent
            self._archive(sms, reply, progress.reply_message_id, progress.reply_sent_at)
        return intent, keyword

    def _archive(self, sms: InboundSms, reply: str, message_id: str, sent_at: str) -> None:
        self.archive.add("sms", sms.customer_number, message_id, sent_at=sent_at, origination=sms.our_number,
                         message_type="TRANSACTIONAL", text=reply)

    def _record(self, sms: InboundSms, intent: Intent) -> str:
        """Applies the decision; returns the service's reason when it refused an opt-in ("" otherwise)."""
        try:
            (self._store.opt_out if intent is Intent.OPT_OUT else self._store.opt_in)(sms.customer_number)
        except OptInRefused as refusal:
            logger.warning("opt-in refused; the number stays opted out",
                           extra={"inbound_message_id": sms.inbound_message_id, "reason": str(refusal)})
            self._steps.mark(sms.inbound_message_id, STEP_REFUSED, refused_because=str(refusal))
            return str(refusal)
        self._steps.mark(sms.inbound_message_id, STEP_RECORD)
        return ""

    def _notify(self, sms: InboundSms, intent: Intent, keyword: str, refused_because: str) -> None:
        action = "opt_in_refused" if refused_because else "opted_out" if intent is Intent.OPT_OUT else "opted_in"
        notice = {"action": action, "phoneNumber": sms.customer_number, "keyword": keyword,
                  "ourNumber": sms.our_number, "inboundMessageId": sms.inbound_message_id,
                  "recordedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        if refused_because:
            notice["reason"] = refused_because
        self._sns.publish(
            TopicArn=self._topic, Message=json.dumps(notice),
            MessageAttributes={"action": {"DataType": "String", "StringValue": action}},
        )
