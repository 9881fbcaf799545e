"""Each architecture's sample input from examples/, driven through a deployed stack.

A ``Flow`` prepares what the account needs before the stack (its parameters),
then pushes the architecture's sample input in where AWS would, delivers it
through the stack's queues and streams, and checks what came out. The
``--local`` run prints one line per flow; the integration tests assert on it.
"""

from __future__ import annotations

import datetime
import email
import email.policy
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from due_local.emulator import Emulator, Stack

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@dataclass
class FlowResult:
    template: str
    went_in: str
    came_out: str
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems

    def line(self) -> str:
        verdict = "PASS" if self.passed else "FAIL"
        text = f"{verdict} {self.template}: in: {self.went_in} -> out: {self.came_out}"
        return text + "".join(f"\n     problem: {p}" for p in self.problems)


@dataclass(frozen=True)
class Flow:
    template: str
    prepare: Callable[[Emulator], dict[str, str]]  # returns the stack's architecture parameters
    run: Callable[[Emulator, Stack], FlowResult]


def example(*parts: str) -> str:
    return (EXAMPLES.joinpath(*parts)).read_text()


def _address_items(emulator: Emulator, table: str, key: str = "email") -> dict[str, dict]:
    items = emulator.client("dynamodb").scan(TableName=table)["Items"]
    return {item[key]["S"]: item for item in items}


def _queue_depth(emulator: Emulator, queue_url: str) -> int:
    attributes = emulator.client("sqs").get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])
    return sum(int(v) for v in attributes["Attributes"].values())


def _check_suppressed(emulator, stack, expected: dict[str, str], problems: list[str]) -> dict[str, dict]:
    suppressed = emulator.fakes.sesv2.suppressed
    items = _address_items(emulator, stack.outputs["AddressTableName"])
    for address, reason in expected.items():
        if suppressed.get(address, {}).get("Reason") != reason:
            problems.append(f"{address} not on the suppression list with reason {reason}")
        if items.get(address, {}).get("status", {}).get("S") != "suppressed":
            problems.append(f"{address} not marked suppressed in the address table")
    return items


# ------------------------------------------------------------ SES (#1)
SES_SAMPLES = ("permanent_bounce.json", "complaint.json", "transient_bounce.json", "delivery.json")
SES_IDENTITIES = ("news@example.org", "example.org")


def _ses_prepare(emulator: Emulator) -> dict[str, str]:
    ses = emulator.client("ses")
    ses.verify_email_identity(EmailAddress=SES_IDENTITIES[0])
    ses.verify_domain_identity(Domain=SES_IDENTITIES[1])
    return {}


def _ses_run(emulator: Emulator, stack: Stack) -> FlowResult:
    problems: list[str] = []
    topic = stack.outputs["FeedbackTopicArn"]
    emulator.complete_wiring(stack)
    attributes = emulator.client("ses").get_identity_notification_attributes(Identities=list(SES_IDENTITIES))
    for identity in SES_IDENTITIES:
        wired = attributes["NotificationAttributes"][identity]
        if wired.get("BounceTopic") != topic or wired.get("ComplaintTopic") != topic:
            problems.append(f"identity {identity} not wired to the feedback topic")
    sns = emulator.client("sns")
    for sample in SES_SAMPLES:
        sns.publish(TopicArn=topic, Message=example("ses_event_processing", sample))
    emulator.pump(stack)
    items = _check_suppressed(emulator, stack, {"no-such-user@example.com": "BOUNCE",
                                                "annoyed.reader@example.net": "COMPLAINT"}, problems)
    soft = items.get("full.mailbox@example.com", {})
    if soft.get("soft_bounce_count", {}).get("N") != "1" or soft.get("status", {}).get("S") != "active":
        problems.append("transient bounce not counted as one soft bounce on an active address")
    if "full.mailbox@example.com" in emulator.fakes.sesv2.suppressed:
        problems.append("transient bounce suppressed the address")
    if "happy.reader@example.com" in items:
        problems.append("a delivery changed the address table")
    if _queue_depth(emulator, stack.outputs["DeadLetterQueueUrl"]):
        problems.append("messages in the dead-letter queue")
    return FlowResult(
        "SES_Event_Processing",
        went_in=f"{len(SES_SAMPLES)} SES notifications ({', '.join(s[:-5] for s in SES_SAMPLES)}) on the topic",
        came_out=f"{len(SES_IDENTITIES)} identities wired, 2 addresses suppressed (BOUNCE, COMPLAINT), "
                 "1 soft bounce counted, 1 delivery ignored, DLQ empty",
        problems=problems,
    )


# -------------------------------------------------------- Pinpoint (#4)
PINPOINT_SAMPLES = ("hardbounce.json", "complaint.json", "open.json")


def _pinpoint_prepare(emulator: Emulator) -> dict[str, str]:
    application = emulator.client("pinpoint").create_app(CreateApplicationRequest={"Name": "local-project"})
    return {"PinpointApplicationId": application["ApplicationResponse"]["Id"]}


def _pinpoint_run(emulator: Emulator, stack: Stack) -> FlowResult:
    problems: list[str] = []
    kinesis = emulator.client("kinesis")
    for sample in PINPOINT_SAMPLES:
        record = json.loads(example("pinpoint_event_processing", sample))
        kinesis.put_record(StreamName=stack.outputs["EventStreamName"], Data=json.dumps(record).encode(),
                           PartitionKey=record["client"]["client_id"])
    emulator.pump(stack)
    items = _check_suppressed(emulator, stack, {"gone.away@example.com": "BOUNCE",
                                                "not.interested@example.net": "COMPLAINT"}, problems)
    if "reader@example.com" in items:
        problems.append("an open event changed the address table")
    if _queue_depth(emulator, stack.outputs["FailedBatchesQueueUrl"]):
        problems.append("failed batches reported")
    return FlowResult(
        "Pinpoint_Event_Processing",
        went_in=f"{len(PINPOINT_SAMPLES)} Pinpoint events ({', '.join(s[:-5] for s in PINPOINT_SAMPLES)}) "
                "on the Kinesis stream",
        came_out="2 addresses suppressed (BOUNCE, COMPLAINT), 1 open ignored, no failed batches",
        problems=problems,
    )


# ---------------------------------------------------------- Auto Reply (#2)
AUTO_REPLY_RULE_SET = "local-inbound"


def sent_mail() -> list[email.message.EmailMessage]:
    """What SES sent, parsed (moto keeps it in this process)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return [email.message_from_string(m.raw_data, policy=email.policy.default)
            for m in ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages if hasattr(m, "raw_data")]


def _auto_reply_prepare(emulator: Emulator) -> dict[str, str]:
    emulator.client("ses").verify_domain_identity(Domain="example.com")
    emulator.client("sesv2").create_email_template(**json.loads(example("ses_auto_reply", "template.json")))
    # An existing rule set: moto's CloudFormation does not create SES rule sets itself.
    emulator.client("ses").create_receipt_rule_set(RuleSetName=AUTO_REPLY_RULE_SET)
    return {"TemplateName": "auto-reply", "Recipients": "no-reply@example.com",
            "ReceiptRuleSetName": AUTO_REPLY_RULE_SET}


def _auto_reply_run(emulator: Emulator, stack: Stack) -> FlowResult:
    problems: list[str] = []
    emulator.complete_wiring(stack)
    rules = emulator.client("ses").describe_receipt_rule_set(RuleSetName=AUTO_REPLY_RULE_SET)["Rules"]
    actions = [a for rule in rules for a in rule["Actions"]]
    if not any(a.get("LambdaAction", {}).get("FunctionArn", "").endswith(stack.physical("ResponderFunction"))
               for a in actions):
        problems.append("the receipt rule does not invoke the responder")
    invoker = emulator.async_invoker(stack, "ResponderFunction")
    before = len(sent_mail())
    inbound = json.loads(example("ses_auto_reply", "inbound.json"))
    again = json.loads(example("ses_auto_reply", "inbound.json"))  # BATV signs each message's return path anew
    again["Records"][0]["ses"]["mail"]["source"] = "prvs=0123abcdef=jose.muller@example.net"
    results = [invoker.invoke(emulator.runtime, inbound), invoker.invoke(emulator.runtime, again)]
    auto = json.loads(example("ses_auto_reply", "inbound.json"))
    auto["Records"][0]["ses"]["mail"]["headers"].append({"name": "Auto-Submitted", "value": "auto-replied"})
    results.append(invoker.invoke(emulator.runtime, auto))
    replies = sent_mail()[before:]
    if [r["outcome"] for r in results if r] != ["replied", "already_replied", "not_replying"]:
        problems.append(f"outcomes were {results}")
    if len(replies) != 1:
        problems.append(f"{len(replies)} replies sent, expected 1")
    else:
        reply = replies[0]
        expected = {"From": "no-reply@example.com", "To": "jose.muller@example.net",
                    "Subject": "Thanks for writing: Question about my order", "Auto-Submitted": "auto-replied",
                    "In-Reply-To": "<CAF1234abcd@mail.example.net>"}
        problems += [f"reply {k} is {reply[k]!r}" for k, v in expected.items() if reply[k] != v]
        if "José Müller" not in reply.get_body(("plain",)).get_content():
            problems.append("%%NAME%% not substituted in the text part")
    if _queue_depth(emulator, stack.outputs["FailedRepliesQueueUrl"]):
        problems.append("failed replies reported")
    return FlowResult(
        "SES_Auto_Reply",
        went_in="3 receipt events (a question, the same sender again under a BATV-signed return path, an "
                "auto-reply) through the receipt rule",
        came_out="1 reply (From, To, Subject prefix, Auto-Submitted, In-Reply-To, %%NAME%%), 1 rate-limited, "
                 "1 refused by the loop guard, no failed replies",
        problems=problems,
    )


# ------------------------------------------------ Self-managed opt-outs (#8)
OUR_NUMBER = "+18445550100"


PREVIOUS_TWO_WAY_ROLE = "arn:aws:iam::123456789012:role/previous-two-way-role"


def _opt_outs_prepare(emulator: Emulator) -> dict[str, str]:
    # A number already used for two-way SMS, with a role of its own that cannot reach the stack's topic.
    return {"PhoneNumberId": emulator.fakes.sms.add_phone_number(
        OUR_NUMBER, TwoWayEnabled=True, TwoWayChannelArn="arn:aws:sns:us-east-1:123456789012:previous-inbound",
        TwoWayChannelRole=PREVIOUS_TWO_WAY_ROLE)}


def listen(sns, sqs, topic_arn: str) -> Callable[[], list[dict]]:
    """A queue subscribed to ``topic_arn``, standing in for other systems; returns a reader of what arrived."""
    queue = sqs.create_queue(QueueName=f"listener-{uuid.uuid4().hex}")["QueueUrl"]  # one per listener
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})

    def heard() -> list[dict]:
        messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
        return [json.loads(m["Body"]) for m in messages]

    return heard


def _opt_outs_run(emulator: Emulator, stack: Stack) -> FlowResult:
    problems: list[str] = []
    sms = emulator.fakes.sms
    emulator.complete_wiring(stack)
    (number,) = sms.phone_numbers.values()
    if (number.get("TwoWayChannelArn"), number.get("SelfManagedOptOutsEnabled")) != (
            stack.outputs["InboundTopicArn"], True):
        problems.append("the phone number's two-way channel and self-managed opt-outs were not set")
    if number.get("TwoWayChannelRole") in (None, PREVIOUS_TWO_WAY_ROLE):
        problems.append("the number's previous two-way role was not replaced by the stack's")
    heard = listen(emulator.client("sns"), emulator.client("sqs"), stack.outputs["NotificationsTopicArn"])
    sent_before = len(sms.sent)  # other flows may share the emulator
    samples = ("help", "none", "start", "stop")
    for sample in samples:
        emulator.client("sns").publish(TopicArn=stack.outputs["InboundTopicArn"],
                                       Message=example("self_managed_opt_outs", f"inbound_{sample}.json"))
    emulator.pump(stack)
    opted_out = list(sms.opt_out_lists.get(stack.outputs["OptOutListName"], {}))
    if opted_out != ["+14255550182"]:
        problems.append(f"opt-out list holds {len(opted_out)} numbers, expected the customer's")
    notices = heard()
    if sorted(n["action"] for n in notices) != ["opted_in", "opted_out"]:
        problems.append(f"notifications were {[n['action'] for n in notices]}")
    replies = [(m["OriginationIdentity"], m["DestinationPhoneNumber"]) for m in sms.sent[sent_before:]]
    if replies != [(OUR_NUMBER, "+14255550182")] * 3:
        problems.append(f"{len(replies)} replies, expected 3 (help, start, stop) from our number")
    if _queue_depth(emulator, stack.outputs["DeadLetterQueueUrl"]):
        problems.append("messages in the dead-letter queue")
    return FlowResult(
        "Self-managed_Opt_Outs",
        went_in=f"{len(samples)} inbound SMS ({', '.join(samples)}) on the two-way topic",
        came_out="number's two-way channel and role replaced, customer opted out at the end, 2 notifications "
                 "(opted_in, opted_out), 3 replies from our number, 1 message ignored, DLQ empty",
        problems=problems,
    )


# --------------------------------------------------------- SMS S3 drop (#9)
def _s3_drop_prepare(emulator: Emulator) -> dict[str, str]:
    return {"MessagesPerSecond": "50"}  # the sample's few messages need not take seconds


def _s3_drop_run(emulator: Emulator, stack: Stack) -> FlowResult:
    problems: list[str] = []
    emulator.complete_wiring(stack)
    s3, bucket = emulator.client("s3"), stack.outputs["DropBucketName"]
    sent_before = len(emulator.fakes.sms.sent)  # other flows may share the emulator
    s3.put_object(Bucket=bucket, Key="incoming/sample.csv", Body=(EXAMPLES / "sms_s3_drop" / "sample.csv").read_bytes())
    emulator.pump(stack)
    sent = [(m["DestinationPhoneNumber"], m["OriginationIdentity"], m["MessageType"])
            for m in emulator.fakes.sms.sent[sent_before:]]
    expected = [("+14255550101", "+18445550100", "TRANSACTIONAL"), ("+14255550102", "12345", "PROMOTIONAL"),
                ("+447700900103", "+18445550100", "TRANSACTIONAL"), ("+14255550107", "+18445550100", "TRANSACTIONAL")]
    if sorted(sent) != sorted(expected):
        problems.append(f"sent {len(sent)} messages, not the 4 good rows with their own origination and type")
    report = json.loads(s3.get_object(Bucket=bucket, Key="incoming/sample.csv.report.json")["Body"].read())
    if [r["row"] for r in report["bad_rows"]] != [4, 5, 6] or report["enqueued"] != 4:
        problems.append(f"report says {report['enqueued']} enqueued, bad rows {report['bad_rows']}")
    for output in ("DropDeadLetterQueueUrl", "SendDeadLetterQueueUrl"):
        if _queue_depth(emulator, stack.outputs[output]):
            problems.append(f"messages in {output}")
    return FlowResult(
        "SMS_S3_drop",
        went_in="examples/sms_s3_drop/sample.csv (7 rows, one with a quoted line break) dropped in incoming/",
        came_out="4 SMS sent, each with its row's origination and type; report lists rows 4, 5, 6 as bad; "
                 "no dead letters",
        problems=problems,
    )


# ------------------------------------------------------- S3 Data Lake (#5)
DATA_LAKE_SAMPLES = ("ses_delivery.json", "ses_open.json", "ses_bounce.json", "sms_delivered.json",
                     "pinpoint_test_event.json", "not_an_event.txt")


def _data_lake_prepare(emulator: Emulator) -> dict[str, str]:
    return {}


def _data_lake_run(emulator: Emulator, stack: Stack) -> FlowResult:
    import tempfile

    from due.data_lake import views
    from due_local.firehose import FirehoseDelivery

    problems: list[str] = []
    athena = emulator.fakes.athena
    created = [e for e in athena.executions.values()
               if e["WorkGroup"] == stack.outputs["WorkGroupName"] and e["Status"]["State"] == "SUCCEEDED"
               and e["QueryExecutionContext"].get("Database") == stack.outputs["DatabaseName"]]
    expected_views = len(views.view_statements())
    if len(created) < expected_views:
        problems.append(f"{len(created)} view statements succeeded in the stack's workgroup and database, "
                        f"expected {expected_views}")
    firehose = FirehoseDelivery(emulator, stack)
    delivered = firehose.put_record_batch([(EXAMPLES / "s3_data_lake" / name).read_bytes()
                                           for name in DATA_LAKE_SAMPLES])
    if delivered.results != {"Ok": 4, "Dropped": 1, "ProcessingFailed": 1}:
        problems.append(f"transformation results {dict(delivered.results)}")
    errors = [key for key in delivered.objects if key.startswith("errors/processing-failed/")]
    if len(errors) != 1:
        problems.append(f"{len(errors)} objects under errors/processing-failed/, expected 1")
    with tempfile.TemporaryDirectory() as folder:
        athena.local.load(firehose.download(Path(folder)), firehose.storage_format)
        counts = {view: athena.local.query(f"SELECT count(*) AS n FROM {view}")[0]["n"]
                  for view in ("email_delivered", "email_open", "email_hardbounce", "sms_success")}
        opened = athena.local.query("SELECT subject, user_agent FROM email_open")
    if counts != dict.fromkeys(counts, 1):
        problems.append(f"view row counts {counts}, expected 1 each")
    if opened and opened[0]["subject"] != "Ofertas de noviembre para José":
        problems.append("the subject's accented letters did not survive")
    return FlowResult(
        "S3_Data_Lake",
        went_in="6 records into the stream: SES delivery, open and bounce, an SMS delivery, Pinpoint's test "
                "event, a line that is no event",
        came_out=f"{len(created)} views created in the workgroup; {firehose.storage_format} files under "
                 f"events/{firehose.storage_format.lower()}/dt=2026-11-20/; one row each in email_delivered, "
                 "email_open, email_hardbounce, "
                 "sms_success; test event dropped; the bad line under errors/processing-failed/",
        problems=problems,
    )


# ------------------------------------------------------ S3 triggered import (#3)
def _import_prepare(emulator: Emulator) -> dict[str, str]:
    return {"PollSeconds": "1"}  # the sample's import jobs need not keep the run waiting


def import_file(emulator: Emulator, stack: Stack, key: str, body: bytes) -> tuple[dict, list[dict]]:
    """Drops a file under incoming/, runs its execution to the end; (the execution, the notifications)."""
    heard = listen(emulator.client("sns"), emulator.client("sqs"), stack.outputs["NotificationsTopicArn"])
    before = {e["executionArn"] for e in emulator.wait_for_executions(stack)}
    emulator.client("s3").put_object(Bucket=stack.outputs["ImportBucketName"], Key=key, Body=body)
    emulator.pump(stack)
    new = [e for e in emulator.wait_for_executions(stack) if e["executionArn"] not in before]
    notifications = []
    while batch := heard():
        notifications += batch
    return (new[0] if new else {}), notifications


def _import_run(emulator: Emulator, stack: Stack) -> FlowResult:
    problems: list[str] = []
    emulator.complete_wiring(stack)
    execution, notifications = import_file(emulator, stack, "incoming/contacts.csv",
                                           (EXAMPLES / "s3_triggered_import" / "contacts.csv").read_bytes())
    if execution.get("status") != "SUCCEEDED":
        problems.append(f"the execution ended {execution.get('status')}: {execution.get('cause')}")
    outcomes = [n["outcome"] for n in notifications]
    if outcomes != ["started", "succeeded"]:
        problems.append(f"notifications were {outcomes}")
    counts = notifications[-1].get("counts", {}) if notifications else {}
    expected = {"rows": 8, "imported": 5, "bad_rows": 3, "invalid_numbers": 2, "lookups": 3}
    if {k: counts.get(k) for k in expected} != expected:
        problems.append(f"counts were {counts}")
    profiles = {p["Attributes"].get("customer_id"): p for p in emulator.fakes.profiles.profiles.values()}
    jose = profiles.get("c-1002", {})
    if jose.get("PhoneNumber") != "+14255550102" or jose.get("FirstName") != "José":
        problems.append("José's profile does not hold his number in E.164 and his name as written")
    not_messageable = {person: p["Attributes"].get("sms_not_messageable_reason") for person, p in profiles.items()
                       if p["Attributes"].get("sms_messageable") == "false"}
    if not_messageable != {"c-1003": "landline", "c-1004": "not a phone number"}:
        problems.append(f"marked not messageable: {not_messageable}")
    report = json.loads(emulator.client("s3").get_object(
        Bucket=stack.outputs["ImportBucketName"], Key="incoming/contacts.csv.report.json")["Body"].read())
    if [r["row"] for r in report["bad_rows"]] != [6, 7, 8]:
        problems.append(f"the report lists rows {[r['row'] for r in report['bad_rows']]} as bad")
    return FlowResult(
        "S3_triggered_import",
        went_in="examples/s3_triggered_import/contacts.csv (8 rows) dropped in incoming/",
        came_out=f"1 execution {execution.get('status')}; started and succeeded announced; {len(profiles)} "
                 "profiles (numbers in E.164; a landline and a non-number marked not messageable); 3 distinct numbers "
                 "looked up; "
                 "report lists rows 6, 7, 8 as bad",
        problems=problems,
    )


# ------------------------------------------------ Event-based segmentation (#7)
SEGMENTATION = EXAMPLES / "event_based_segmentation"


def _segmentation_prepare(_emulator: Emulator) -> dict[str, str]:
    # The seed's two rules and three more (a removal, a count with a condition, one that creates profiles), as
    # the Rules parameter; the stack creates its domain, configuration sets, stream and segment definitions.
    return {"Rules": json.dumps(json.loads((SEGMENTATION / "rules.json").read_text()))}


def put_segmentation_events(emulator: Emulator, stack: Stack, documents: list[dict]) -> str:
    """SES and SMS events go where their configuration sets publish them (the engagement topic); anything else
    is the application's (or Pinpoint's) and goes on the stream, partitioned by person as the page says."""
    from due.event_segmentation.events import Person, partition_key

    published = put = 0
    for document in documents:
        if "mail" in document or "destinationPhoneNumber" in document:
            emulator.client("sns").publish(TopicArn=stack.outputs["EngagementTopicArn"], Message=json.dumps(document))
            published += 1
            continue
        person = document.get("person") if isinstance(document.get("person"), dict) else {}
        known = {k: v for k, v in person.items() if k in ("email", "phone", "profile_id", "endpoint_id") and v}
        key = partition_key(Person(**known)) if known else "unnamed"
        emulator.client("kinesis").put_record(StreamName=stack.outputs["EventStreamName"],
                                              Data=json.dumps(document).encode(), PartitionKey=key)
        put += 1
    emulator.pump(stack)
    return f"{published} event(s) published on the engagement topic, {put} record(s) put on the stream"


def _segmentation_run(emulator: Emulator, stack: Stack) -> FlowResult:
    problems: list[str] = []
    emulator.complete_wiring(stack)
    profiles = emulator.client("customer-profiles")
    domain = stack.outputs["ProfilesDomainName"]
    ids = {}
    for person in json.loads((SEGMENTATION / "profiles.json").read_text()):
        ids[person["FirstName"]] = profiles.create_profile(DomainName=domain, **person)["ProfileId"]
    application = json_documents(SEGMENTATION / "application_events.jsonl")
    put_segmentation_events(emulator, stack, [json.loads(example("event_based_segmentation", sample))
                                              for sample in ("ses_open.json", "ses_click.json")] + application)
    fake = emulator.fakes.profiles
    ana, bo = (fake.profiles[ids[name]]["Attributes"] for name in ("Ana", "Bo"))
    expected_ana = {"customer_id": "c-2001", "email_opened": "true", "webinar_registration_webinar5": "true",
                    "pricing_clicks": "1"}
    if ana != expected_ana:
        problems.append(f"Ana's attributes are {sorted(ana)}")
    if {k for k in bo if k.startswith("webinar_registration_")} != {"webinar_registration_webinar5",
                                                                   "webinar_registration_webinar6"}:
        problems.append(f"Bo's attributes are {sorted(bo)}")
    created = [p for pid, p in fake.profiles.items()  # this stack's domain: other flows' share the fake
               if pid not in ids.values() and fake.domain_of_profile(pid) == domain]
    if [(p.get("EmailAddress"), sorted(p["Attributes"])) for p in created] != [("new.customer@example.org",
                                                                                 ["signed_up"])]:
        problems.append(f"profiles created: {len(created)} (only the signup's rule creates one)")
    opened = fake.segment_members(domain, stack.outputs["EmailOpenedSegmentName"])
    webinar5 = fake.segment_members(domain, stack.outputs["Webinar5SegmentName"])
    if opened != {ids["Ana"]} or webinar5 != {ids["Ana"], ids["Bo"]}:
        problems.append(f"segments hold {len(opened)} (email opened) and {len(webinar5)} (webinar5) people")
    rejected = emulator.client("sqs").receive_message(QueueUrl=stack.outputs["RejectedEventsQueueUrl"],
                                                      MaxNumberOfMessages=10).get("Messages", [])
    reasons = [reason for m in rejected for reason in json.loads(m["Body"])["reasons"]]
    if len(reasons) != 1 or "attributes.webinar_id" not in reasons[0]:
        problems.append(f"set aside: {reasons}")
    for output in ("FailedBatchesQueueUrl", "EngagementDeadLetterQueueUrl"):
        if _queue_depth(emulator, stack.outputs[output]):
            problems.append(f"messages in {output}")
    return FlowResult(
        "Event_Based_Segmentation",
        went_in="rules.json as the Rules parameter; 2 profiles; an SES open and a click (engagement topic) and 6 "
                "application events (stream) from examples/event_based_segmentation/",
        came_out="Ana email_opened, webinar5, 1 pricing click; Bo webinar5 and webinar6; the email-opened segment "
                 "holds Ana, webinar5 both; the signup created its profile, the registration of someone without "
                 "one created none; 1 registration without a webinar id set aside with the reason",
        problems=problems,
    )


# --------------------------------------------------- Advanced segmentation (#10)
ADVANCED_SEGMENTATION = EXAMPLES / "advanced_segmentation"
SEGMENT_ATTRIBUTE = "segment_frequent_openers"  # the template's default token
SEGMENT_DOMAIN = "due-local-people"


def _advanced_segmentation_prepare(emulator: Emulator) -> dict[str, str]:
    # The people live in a domain that exists before the stack (the import's, in an account); the data lake's
    # bucket is only named in the stack's policies: the emulator's Athena reads the table from local files.
    emulator.client("customer-profiles").create_domain(DomainName=SEGMENT_DOMAIN, DefaultExpirationDays=30)
    return {"DomainName": SEGMENT_DOMAIN, "DataBucketName": "due-local-data-lake", "PollSeconds": "1",
            # the sample's opens are dated 2026-11-20 to 26: a window that always covers them
            "QueryValues": "minimum_opens=2,days=3650"}


def load_data_lake_table(emulator: Emulator, lines: list[bytes]) -> dict[str, int]:
    """Event records into the data lake's events table as its delivery stream writes them (its transformation,
    GZIP JSON lines by event date), replacing what the table held; the results of the transformation."""
    import atexit
    import base64
    import shutil
    import tempfile
    from collections import Counter

    from due.data_lake import transform_handler
    from due_local.athena_local import lines_by_partition, write_objects

    transformed = [transform_handler.transform({"recordId": str(number), "data": base64.b64encode(line).decode()})
                   for number, line in enumerate(lines)]
    folder = Path(tempfile.mkdtemp(prefix="due-data-lake-"))
    atexit.register(shutil.rmtree, folder, True)  # the table reads the files whenever a query runs
    write_objects(folder, lines_by_partition(transformed), "JSON")
    emulator.fakes.athena.local.load(folder, "JSON")
    return dict(Counter(record["result"] for record in transformed))


def refresh_segment(emulator: Emulator, stack: Stack) -> tuple[dict, list[dict]]:
    """One refresh, started as the schedule starts it (input {}); (the execution, the notifications)."""
    heard = listen(emulator.client("sns"), emulator.client("sqs"), stack.outputs["NotificationsTopicArn"])
    before = {e["executionArn"] for e in emulator.wait_for_executions(stack)}
    # The scheduler names each execution uniquely (moto would name every unnamed one "None").
    emulator.client("stepfunctions").start_execution(stateMachineArn=stack.outputs["StateMachineArn"], input="{}",
                                                     name=f"scheduled-{uuid.uuid4()}")
    new = [e for e in emulator.wait_for_executions(stack) if e["executionArn"] not in before]
    notifications = []
    while batch := heard():
        notifications += batch
    return (new[0] if new else {}), notifications


def _segment_members(emulator: Emulator) -> set[str]:
    return {p.get("EmailAddress") for p in emulator.fakes.profiles.profiles.values()
            if p.get("Attributes", {}).get(SEGMENT_ATTRIBUTE) == "true"}


def _advanced_segmentation_run(emulator: Emulator, stack: Stack) -> FlowResult:
    import csv

    problems: list[str] = []
    emulator.complete_wiring(stack)
    profiles = emulator.client("customer-profiles")
    with (ADVANCED_SEGMENTATION / "people.csv").open(encoding="utf-8") as people:
        for person in csv.DictReader(people):
            profiles.create_profile(DomainName=SEGMENT_DOMAIN, EmailAddress=person["email"],
                                    FirstName=person["first_name"], Attributes={"customer_id": person["id"]})
    runs = []
    for sample in ("opens_first.jsonl", "opens_later.jsonl"):
        load_data_lake_table(emulator, (ADVANCED_SEGMENTATION / sample).read_bytes().splitlines())
        writes_before = len(emulator.fakes.profiles.calls_of("UpdateProfile"))
        execution, notifications = refresh_segment(emulator, stack)
        writes = len(emulator.fakes.profiles.calls_of("UpdateProfile")) - writes_before
        runs.append((execution.get("status"), [n.get("outcome") for n in notifications], writes,
                     _segment_members(emulator)))
    expected = [("SUCCEEDED", ["succeeded"], 2, {"ana@example.com", "bo@example.com"}),
                ("SUCCEEDED", ["succeeded"], 2, {"ana@example.com", "cy@example.com"})]
    if runs != expected:
        problems.append(f"runs (status, notifications, profile writes, members) were {runs}, expected {expected}")
    # Run 3: the workgroup cancels the query, as it cancels one that would scan more than its cutoff.
    emulator.fakes.athena.query_endings.append(("CANCELLED", "Query exceeded the workgroup's data usage limit"))
    writes_before = len(emulator.fakes.profiles.calls_of("UpdateProfile"))
    execution, notifications = refresh_segment(emulator, stack)
    failed = [n for n in notifications if n.get("outcome") == "failed"]
    if execution.get("status") != "FAILED" or len(failed) != 1 or "data usage limit" not in failed[0]["error"]:
        problems.append(f"the cancelled query's run ended {execution.get('status')} announcing {notifications}")
    if len(emulator.fakes.profiles.calls_of("UpdateProfile")) != writes_before or _segment_members(emulator) != {
            "ana@example.com", "cy@example.com"}:
        problems.append("the failed run changed profiles")
    definition = emulator.fakes.profiles.segment_definitions.get((SEGMENT_DOMAIN, SEGMENT_ATTRIBUTE))
    if definition is None:
        problems.append(f"no segment definition {SEGMENT_ATTRIBUTE} in {SEGMENT_DOMAIN}")
    bucket, key = stack.outputs["AudienceFile"].removeprefix("s3://").split("/", 1)
    audience = emulator.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read().decode().splitlines()
    if audience != ["id,email,phone,opens,last_opened_on", ",ana@example.com,,2,2026-11-26",
                    ",cy@example.com,,2,2026-11-26"]:
        problems.append(f"the audience file reads {audience}")
    return FlowResult(
        "Advanced_Segmentation_S3",
        went_in="examples/advanced_segmentation/opens_first.jsonl, then opens_later.jsonl, in the data lake's table; "
                "4 profiles from people.csv; three scheduled refreshes, the third's query cancelled by the workgroup",
        came_out="run 1: ana and bo tagged segment_frequent_openers=true (dee has no profile: counted, not created), "
                 "2 writes; run 2: bo untagged, cy tagged, ana untouched, 2 writes; run 3: failed announced, nothing "
                 "written; segment definition "
                 f"{SEGMENT_ATTRIBUTE}; audience file {stack.outputs['AudienceFile']} (ana, cy)",
        problems=problems,
    )


# ------------------------------------------------- Connect as a Channel (#13)
CONNECT_INSTANCE = "11111111-2222-3333-4444-555555555555"
CONNECT_FLOW = "22222222-3333-4444-5555-666666666666"
CONNECT_QUEUE = "33333333-4444-5555-6666-777777777777"
CONNECT_OPTED_OUT = "+14255550105"  # row 5 of examples/connect_as_a_channel/sample.csv


def _connect_prepare(emulator: Emulator) -> dict[str, str]:
    emulator.client("pinpoint-sms-voice-v2").put_opted_out_number(OptOutListName="Default",
                                                                  OptedOutNumber=CONNECT_OPTED_OUT)
    # The whole day is the window, so the local run does not depend on the hour it runs at; the calls are
    # paced faster than Connect's default quota so the sample takes no seconds.
    return {"ConnectInstanceId": CONNECT_INSTANCE, "ContactFlowId": CONNECT_FLOW, "QueueId": CONNECT_QUEUE,
            "CallingWindowStartHour": "0", "CallingWindowEndHour": "24", "CallsPerSecond": "50",
            "DefaultTimeZone": "UTC"}


def connect_outcomes(emulator: Emulator, stack: Stack) -> list[dict]:
    """Every outcome line the stack wrote under results/."""
    s3, bucket = emulator.client("s3"), stack.outputs["BucketName"]
    keys = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="results/")
            for o in page.get("Contents", [])]
    return [json.loads(line) for key in keys
            for line in s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode().splitlines()]


def drop_for_calls(emulator: Emulator, stack: Stack, key: str, body: bytes) -> None:
    emulator.client("s3").put_object(Bucket=stack.outputs["BucketName"], Key=key, Body=body)
    emulator.pump(stack)


def end_calls(emulator: Emulator, stack: Stack, through_event_bridge: bool = False) -> int:
    """Ends every call in progress as Connect would, its DISCONNECTED contact event delivered to the stack's queue
    as the rule's SQS target delivers it (the event itself is the message body), or put on the default bus
    (moto's PutEvents fails once any stack of the emulator has a schedule rule: one stack at a time only)."""
    connect, sqs = emulator.fakes.connect, emulator.client("sqs")
    ended = [connect.disconnect(contact_id, region=emulator.region) for contact_id in list(connect.active)]
    queue = sqs.get_queue_url(QueueName=stack.physical("ContactEventsQueue").rsplit("/", 1)[1])["QueueUrl"]
    for event in ended:
        if through_event_bridge:
            emulator.client("events").put_events(Entries=[{
                "Source": event["source"], "DetailType": event["detail-type"], "Resources": event["resources"],
                "Detail": json.dumps(event["detail"])}])
        else:
            sqs.send_message(QueueUrl=queue, MessageBody=json.dumps(event))
    emulator.pump(stack)
    return len(ended)


def _drop_calls_file(emulator: Emulator, stack: Stack, path: Path) -> str:
    emulator.complete_wiring(stack)
    drop_for_calls(emulator, stack, f"incoming/{path.name}", path.read_bytes())
    return (f"s3://{stack.outputs['BucketName']}/incoming/{path.name} written; "
            f"{len(connect_outcomes(emulator, stack))} outcome(s) under results/")


def _connect_crash_after_dialling(emulator: Emulator, stack: Stack, outcomes: list[dict]) -> str:
    """Row 1 again, its marker "sending" as a sender that crashed mid-call would leave it: the start of the
    reason it is set aside with (never its number), or what went wrong."""
    from due.connect_channel.requests import CallRequest

    row = next(o for o in outcomes if o["row"] == 1)
    dynamodb, sqs = emulator.client("dynamodb"), emulator.client("sqs")
    request = {"file": row["source"], "row": 1, "number": row["number"], "message": "again", "recipient": "1"}
    deduplication_id = CallRequest.from_dict(request).deduplication_id
    dynamodb.update_item(TableName=stack.physical("SentTable"), Key={"deduplication_id": {"S": deduplication_id}},
                         UpdateExpression="SET #status = :sending", ExpressionAttributeNames={"#status": "status"},
                         ExpressionAttributeValues={":sending": {"S": "sending"}})
    sqs.send_message(QueueUrl=stack.outputs["SendQueueUrl"], MessageBody=json.dumps(request),
                     MessageGroupId=row["number"], MessageDeduplicationId=f"redelivered-{deduplication_id[:40]}")
    emulator.pump(stack)
    dead = sqs.receive_message(QueueUrl=stack.outputs["SendDeadLetterQueueUrl"], MessageAttributeNames=["All"])
    messages = dead.get("Messages", [])
    return messages[0]["MessageAttributes"]["reason"]["StringValue"][:8] if len(messages) == 1 else f"{messages}"


def _connect_run(emulator: Emulator, stack: Stack) -> FlowResult:
    from due.connect_channel.call_slots import CallSlots

    problems: list[str] = []
    emulator.complete_wiring(stack)
    connect = emulator.fakes.connect
    placed_before = len(connect.contacts)
    sample = (EXAMPLES / "connect_as_a_channel" / "sample.csv").read_bytes()
    drop_for_calls(emulator, stack, "incoming/sample.csv", sample)
    placed = connect.contacts[placed_before:]
    called = sorted(c["DestinationPhoneNumber"] for c in placed)
    if called != ["+14255550101", "+14255550102"]:
        problems.append(f"called {called}, not the two good rows")
    for contact in placed:
        if (contact["InstanceId"], contact["ContactFlowId"], contact.get("QueueId")) != (
                CONNECT_INSTANCE, CONNECT_FLOW, CONNECT_QUEUE) or not contact["Attributes"].get("message"):
            problems.append("a call without the stack's instance, flow, queue or message attribute")
    outcomes = sorted((o["row"], o["outcome"]) for o in connect_outcomes(emulator, stack))
    expected = [(1, "called"), (2, "called"), (3, "invalid number"), (4, "refused"), (5, "refused")]
    if outcomes != expected:
        problems.append(f"outcomes {outcomes}, expected {expected}")
    s3, bucket = emulator.client("s3"), stack.outputs["BucketName"]
    report = json.loads(s3.get_object(Bucket=bucket, Key="incoming/sample.csv.report.json")["Body"].read())
    if [r["row"] for r in report["bad_rows"]] != [6] or report["enqueued"] != 5:
        problems.append(f"report says {report['enqueued']} enqueued, bad rows {report['bad_rows']}")
    slots = CallSlots(emulator.client("dynamodb"), stack.physical("PacingTable"),
                      f"calls-in-progress:{CONNECT_INSTANCE}")
    in_progress = slots.in_progress()
    ended = end_calls(emulator, stack)
    if (in_progress, ended, slots.in_progress()) != (2, 2, 0):
        problems.append(f"calls in progress {in_progress}, ended {ended}, left {slots.in_progress()}: not 2, 2, 0")
    set_aside = _connect_crash_after_dialling(emulator, stack, connect_outcomes(emulator, stack))
    if set_aside != "row 1 of" or len(connect.contacts) != placed_before + 2:
        problems.append(f"a call whose outcome was unknown was not set aside ({set_aside!r}) or was dialled again")
    if _queue_depth(emulator, stack.outputs["DropDeadLetterQueueUrl"]):
        problems.append("messages in DropDeadLetterQueueUrl")
    return FlowResult(
        "Connect_as_a_Channel",
        went_in="examples/connect_as_a_channel/sample.csv (6 rows) dropped in incoming/, +14255550105 on the opt-out "
                "list; then each call's DISCONNECTED contact event, as the stack's rule delivers it",
        came_out="2 calls through the instance's flow and queue with the message attribute; outcomes: 2 called, "
                 "1 invalid number, 2 refused (country, opt-out); report lists row 6 as bad; call slots 2 then 0; "
                 "row 1 redelivered as if its sender had crashed while dialling: set aside, not dialled again",
        problems=problems,
    )


# ------------------------------------------- External attributes (#11) and templates (#12)
SEND_TIME_CONTACT_LIST, SEND_TIME_TOPIC, SEND_TIME_DOMAIN = "due-local-news", "offers", "due-local-send-time"


def _send_time_account(emulator: Emulator) -> dict[str, str]:
    """What both senders check consent against: a contact list with a topic, and a Customer Profiles domain."""
    from botocore.exceptions import ClientError

    sesv2, profiles = emulator.client("sesv2"), emulator.client("customer-profiles")
    try:
        sesv2.create_contact_list(ContactListName=SEND_TIME_CONTACT_LIST, Topics=[
            {"TopicName": SEND_TIME_TOPIC, "DisplayName": "Offers", "DefaultSubscriptionStatus": "OPT_IN"}])
    except ClientError as error:  # the other sender's flow made it (one contact list per account)
        if error.response["Error"]["Code"] != "AlreadyExistsException":
            raise
    if SEND_TIME_DOMAIN not in emulator.fakes.profiles.domains:
        profiles.create_domain(DomainName=SEND_TIME_DOMAIN, DefaultExpirationDays=30)
    return {"FromAddress": "news@example.com", "EmailsPerSecond": "50", "ContactListName": SEND_TIME_CONTACT_LIST,
            "TopicName": SEND_TIME_TOPIC, "ProfilesDomainName": SEND_TIME_DOMAIN,
            "UnsubscribeUrl": "https://example.com/unsubscribe?who={address}"}


def _no_answer_once_for(emulator: Emulator, address: str) -> Callable[[], None]:
    """The next SendBulkEmail call to ``address`` gets no answer (HTTP 500, nothing sent), as a call that timed
    out might; returns the function that puts the fake back."""
    from due_local.fakes import FakeError

    fake = emulator.fakes.sesv2
    original = fake.send_bulk_email
    left = [1]

    def flaky(DefaultContent, BulkEmailEntries, **kwargs):
        if left and any(address in e["Destination"]["ToAddresses"] for e in BulkEmailEntries):
            left.pop()
            raise FakeError("InternalFailure", "no answer", status=500)
        return original(DefaultContent, BulkEmailEntries, **kwargs)

    fake.send_bulk_email = flaky
    return lambda: setattr(fake, "send_bulk_email", original)


def _send_time_outcome(emulator: Emulator, stack: Stack, key: str, problems: list[str]) -> dict:
    """The file's report, its results, its notifications' outcomes and what the send dead-letter queue holds."""
    s3, bucket = emulator.client("s3"), stack.outputs["AudienceBucketName"]
    report = json.loads(s3.get_object(Bucket=bucket, Key=f"{key}.report.json")["Body"].read())
    results = [json.loads(s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read())
               for o in s3.list_objects_v2(Bucket=bucket, Prefix=f"{key}.results/").get("Contents", [])]
    dead = emulator.client("sqs").receive_message(QueueUrl=stack.outputs["SendDeadLetterQueueUrl"],
                                                  MaxNumberOfMessages=10, MessageAttributeNames=["All"])
    set_aside = [(json.loads(m["Body"]), m["MessageAttributes"]["reason"]["StringValue"])
                 for m in dead.get("Messages", [])]
    if _queue_depth(emulator, stack.outputs["DropDeadLetterQueueUrl"]):
        problems.append("messages in the drop dead-letter queue")
    return {"report": report, "results": results, "set_aside": set_aside,
            "skipped": {s["row"]: s["reason"] for r in results for s in r["skipped"]}}


def _external_attributes_prepare(emulator: Emulator) -> dict[str, str]:
    template = json.loads(example("external_attributes", "template.json"))
    emulator.client("sesv2").create_email_template(**template)
    return {**_send_time_account(emulator), "TemplateName": template["TemplateName"], "ChunkSize": "3",
            "MissingDataPolicy": "UseDefault", "DefaultOffer": "A welcome gift"}


def _external_attributes_run(emulator: Emulator, stack: Stack) -> FlowResult:
    problems: list[str] = []
    emulator.complete_wiring(stack)
    dynamodb, sesv2 = emulator.client("dynamodb"), emulator.client("sesv2")
    for item in json.loads(example("external_attributes", "offers.json")):
        dynamodb.put_item(TableName=stack.outputs["TableName"], Item=item)
    sesv2.put_suppressed_destination(EmailAddress="sam.doe@example.com", Reason="BOUNCE")
    sesv2.create_contact(ContactListName=SEND_TIME_CONTACT_LIST, EmailAddress="lee.chen@example.org",
                         TopicPreferences=[{"TopicName": SEND_TIME_TOPIC, "SubscriptionStatus": "OPT_OUT"}])
    profiles = emulator.client("customer-profiles")
    kim = profiles.create_profile(DomainName=SEND_TIME_DOMAIN, EmailAddress="kim.lee@example.com")["ProfileId"]
    profiles.update_profile(DomainName=SEND_TIME_DOMAIN, ProfileId=kim, Attributes={"email_opt_out": "true"})
    heard = listen(emulator.client("sns"), emulator.client("sqs"), stack.outputs["NotificationsTopicArn"])
    sent_before = len(emulator.fakes.sesv2.sent_bulk)
    restore = _no_answer_once_for(emulator, "alex.kim@example.com")
    try:
        emulator.client("s3").put_object(Bucket=stack.outputs["AudienceBucketName"], Key="incoming/audience.csv",
                                         Body=(EXAMPLES / "external_attributes" / "audience.csv").read_bytes())
        emulator.pump(stack)
    finally:
        restore()
    sent = {m["To"][0]: m for m in emulator.fakes.sesv2.sent_bulk[sent_before:]}
    html = {address: m["Rendered"].get("Html", "") for address, m in sent.items()}
    expected = {"ana.silva@example.com": "20% off walking boots",
                "jose.muller@example.net": "Socks &amp; laces &lt;free&gt;",
                "ngozi.okafor@example.org": "A welcome gift"}
    if sorted(sent) != sorted(expected) or any(offer not in html[a] for a, offer in expected.items() if a in html):
        problems.append(f"sent to {sorted(sent)}, expected each of {sorted(expected)} with their offer")
    if any(h["Name"] == "List-Unsubscribe" and "who=" not in h["Value"] for m in sent.values() for h in m["Headers"]):
        problems.append("a message's List-Unsubscribe does not name its recipient")
    outcome = _send_time_outcome(emulator, stack, "incoming/audience.csv", problems)
    if [r["row"] for r in outcome["report"]["bad_rows"]] != [7]:
        problems.append(f"report lists rows {[r['row'] for r in outcome['report']['bad_rows']]} as bad")
    if sorted(outcome["skipped"]) != [4, 5, 6, 8]:
        problems.append(f"skipped rows {sorted(outcome['skipped'])}, expected 4, 5, 6, 8 (consent)")
    if [body[0]["row"] if isinstance(body, list) else body["row"] for body, _ in outcome["set_aside"]] != [9]:
        problems.append("row 9, whose call got no answer, was not set aside alone")
    notices = [n["outcome"] for n in heard()]
    if notices != ["accepted"]:
        problems.append(f"notifications were {notices}")
    return FlowResult(
        "External_Attributes",
        went_in="examples/external_attributes/audience.csv (9 rows) dropped in incoming/, offers.json in the table; "
                "one SendBulkEmail call gets no answer",
        came_out="3 emails, each with its own offer (HTML-escaped; a row without one gets the default) and its own "
                 "List-Unsubscribe; rows 4, 5, 6, 8 skipped (topic unsubscribe, suppression list, the file's "
                 "opt-out, the profile's opt-out); row 9 set aside, not resent; row 7 bad; file announced",
        problems=problems,
    )


def _drop_audience_with_offers(emulator: Emulator, stack: Stack, path: Path) -> str:
    """An audience CSV under incoming/, with the sample offers in the table (your rows' ids find them or not)."""
    for item in json.loads(example("external_attributes", "offers.json")):
        emulator.client("dynamodb").put_item(TableName=stack.outputs["TableName"], Item=item)
    key = f"incoming/{path.name}"
    emulator.client("s3").put_object(Bucket=stack.outputs["AudienceBucketName"], Key=key, Body=path.read_bytes())
    return f"s3://{stack.outputs['AudienceBucketName']}/{key} written (the sample offers are in the table)"


def _external_templates_prepare(emulator: Emulator) -> dict[str, str]:
    return {**_send_time_account(emulator), "MissingDataPolicy": "Skip"}


def _external_templates_run(emulator: Emulator, stack: Stack) -> FlowResult:
    problems: list[str] = []
    emulator.complete_wiring(stack)
    s3 = emulator.client("s3")
    content = EXAMPLES / "external_templates" / "content"
    for path in sorted(content.rglob("*.json")):
        s3.put_object(Bucket=stack.outputs["ContentBucketName"], Key=f"content/{path.relative_to(content)}",
                      Body=path.read_bytes())
    heard = listen(emulator.client("sns"), emulator.client("sqs"), stack.outputs["NotificationsTopicArn"])
    sent_before = len(emulator.fakes.sesv2.sent_bulk)
    audience = (EXAMPLES / "external_templates" / "audience.csv").read_bytes()
    restore = _no_answer_once_for(emulator, "claire.martin@example.fr")
    try:
        for key in ("incoming/spring/audience.csv", "incoming/autumn/audience.csv"):
            s3.put_object(Bucket=stack.outputs["AudienceBucketName"], Key=key, Body=audience)
        emulator.pump(stack)
    finally:
        restore()
    subjects = {m["To"][0]: m["Rendered"]["Subject"] for m in emulator.fakes.sesv2.sent_bulk[sent_before:]}
    expected = {"ana.silva@example.com": "Spring is here, Ana", "jose.muller@example.net": "¡Ya es primavera, José!",
                "maria.garcia@example.com": "Llegó la primavera, María & <Co>",
                "sam.jones@example.com": "Spring is here, Sam"}
    if subjects != expected:
        problems.append(f"subjects were {subjects}")
    maria = [m for m in emulator.fakes.sesv2.sent_bulk[sent_before:] if m["To"] == ["maria.garcia@example.com"]]
    if maria and "María &amp; &lt;Co&gt;" not in maria[0]["Rendered"].get("Html", ""):
        problems.append("a name with & and < was not escaped in the HTML part")
    outcome = _send_time_outcome(emulator, stack, "incoming/spring/audience.csv", problems)
    if [body[0]["row"] if isinstance(body, list) else body["row"] for body, _ in outcome["set_aside"]] != [4]:
        problems.append("row 4, whose call got no answer, was not set aside alone")
    refused = json.loads(s3.get_object(Bucket=stack.outputs["AudienceBucketName"],
                                       Key="incoming/autumn/audience.csv.report.json")["Body"].read())
    if not refused["bad_rows"] or refused["bad_rows"][0]["row"] != 0 or "autumn" not in refused["bad_rows"][0][
            "reason"]:
        problems.append("the autumn file (no content) was not refused whole")
    notices = sorted(n["outcome"] for n in heard())
    if notices != ["accepted", "refused"]:
        problems.append(f"notifications were {notices}")
    return FlowResult(
        "External_Templates",
        went_in="examples/external_templates/audience.csv (6 rows) dropped in incoming/spring/ and incoming/autumn/, "
                "the content folder in the content bucket; one SendBulkEmail call gets no answer",
        came_out="spring: 4 emails, each in its locale's content (es_MX as its own, es_ES as es, none as en_US), "
                 "names HTML-escaped in the HTML part only; the fr_FR row set aside, not resent; row 6 bad. "
                 "autumn (no content): refused whole, nothing sent; both files announced",
        problems=problems,
    )


def _drop_audience_for_spring(emulator: Emulator, stack: Stack, path: Path) -> str:
    """An audience CSV under incoming/spring/, with the sample content (spring and default) in the content bucket."""
    content = EXAMPLES / "external_templates" / "content"
    for sample in sorted(content.rglob("*.json")):
        emulator.client("s3").put_object(Bucket=stack.outputs["ContentBucketName"],
                                         Key=f"content/{sample.relative_to(content)}", Body=sample.read_bytes())
    key = f"incoming/spring/{path.name}"
    emulator.client("s3").put_object(Bucket=stack.outputs["AudienceBucketName"], Key=key, Body=path.read_bytes())
    return f"s3://{stack.outputs['AudienceBucketName']}/{key} written (campaign spring: the sample content)"


# ------------------------------------------------------- Message archiver (#6)
def _archiver_prepare(_emulator: Emulator) -> dict[str, str]:
    return {}


def _archived_files(emulator: Emulator, stack: Stack) -> dict[str, bytes]:
    s3, bucket = emulator.client("s3"), stack.outputs["ArchiveBucketName"]
    versions = [v for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket)
                for v in page.get("Versions", [])]
    return {f"{v['Key']}#{v['VersionId']}": s3.get_object(Bucket=bucket, Key=v["Key"], VersionId=v["VersionId"])[
        "Body"].read() for v in versions}


def _archiver_run(emulator: Emulator, stack: Stack) -> FlowResult:
    """The SMS S3 drop deployed with this archive: its sample file's SMS, each one MIME file at its number's key."""
    from email.utils import parsedate_to_datetime

    from due.archive import recipient_folder
    from due.message_archiver.secret import recipient_secret
    from scripts.deploy import LocalArtifacts, deploy_local

    problems: list[str] = []
    emulator.complete_wiring(stack)
    artifacts = LocalArtifacts(stack.parameters["CodeBucket"], stack.parameters["CodeKey"])
    drop = deploy_local(emulator, artifacts, "SMS_S3_drop", {
        **_s3_drop_prepare(emulator), "ArchiveQueueArn": stack.outputs["ArchiveQueueArn"],
        "ArchiveKeyArn": stack.outputs["ArchiveKeyArn"]}, stack_prefix=stack.name)
    emulator.complete_wiring(drop)
    sent_before = len(emulator.fakes.sms.sent)
    emulator.client("s3").put_object(Bucket=drop.outputs["DropBucketName"], Key="incoming/sample.csv",
                                     Body=(EXAMPLES / "sms_s3_drop" / "sample.csv").read_bytes())
    emulator.pump(drop)
    emulator.pump(stack)
    sent = emulator.fakes.sms.sent[sent_before:]
    secret = recipient_secret(emulator.client("secretsmanager"), stack.outputs["RecipientSecretArn"])
    files = _archived_files(emulator, stack)
    if len(files) != len(sent) or len(sent) != 4:
        problems.append(f"{len(sent)} SMS sent and {len(files)} object versions archived, expected 4 and 4")
    archived = {}
    for versioned_key, body in files.items():
        key = versioned_key.split("#")[0]
        parsed = email.message_from_bytes(body, policy=email.policy.default)
        when = parsedate_to_datetime(parsed["Date"])
        message_id = parsed["Message-ID"].strip("<>").removesuffix("@archive.invalid")
        derived = f"archive/{recipient_folder(secret, 'sms', parsed['To'])}/{when:%Y/%m/%d/%H}/{message_id}.eml"
        if key != derived:
            problems.append(f"{key} is not the derived path {derived}")
        archived[message_id] = (parsed["To"], parsed["X-Archive-Origination"], parsed["X-Archive-Message-Type"],
                                parsed.get_body(("plain",)).get_content().replace("\r\n", "\n").strip())
    expected = {m["MessageId"]: (m["DestinationPhoneNumber"], m["OriginationIdentity"], m["MessageType"],
                                 m["MessageBody"].replace("\r\n", "\n").strip()) for m in sent}
    for message_id, fields in expected.items():
        if archived.get(message_id) != fields:
            problems.append(f"the SMS {message_id} is not archived as sent: {archived.get(message_id)} != {fields}")
    if any(number in "".join(files) for number, *_ in expected.values()):
        problems.append("a key names a phone number")
    for output in ("ArchiveDeadLetterQueueUrl",):
        if _queue_depth(emulator, stack.outputs[output]):
            problems.append(f"messages in {output}")
    return FlowResult(
        "Message_Archiver",
        went_in="SMS_S3_drop deployed with this stack's ArchiveQueueArn and ArchiveKeyArn; "
                "examples/sms_s3_drop/sample.csv dropped in its incoming/",
        came_out=f"{len(sent)} SMS sent; {len(files)} MIME files, each at archive/<HMAC of the number>/<hour>/"
                 "<message id>.eml with the number, origination, type and text sent; no dead letters",
        problems=problems,
    )


def _queue_sent_messages(emulator: Emulator, stack: Stack, path: Path) -> str:
    from due.archive import ArchiveQueue, SentMessage

    try:
        messages = [SentMessage(**document) for document in json_documents(path)]
    except TypeError as exc:
        raise ValueError(f"{path}: not sent messages ({exc})") from None
    lost = ArchiveQueue(emulator.client("sqs"), stack.outputs["ArchiveQueueUrl"]).submit(messages)
    return f"{len(messages) - lost} sent message(s) queued on the archive queue ({lost} could not be)"


# ------------------------------------- Message archiver, Mode Pinpoint (#6, engineer B)
def pinpoint_archiver_prepare(emulator: Emulator) -> dict[str, str]:
    """Mode Pinpoint's parameters: a project (moto's) whose event stream the stack creates."""
    application = emulator.client("pinpoint").create_app(CreateApplicationRequest={"Name": "archived-project"})
    return {"Mode": "Pinpoint", "PinpointApplicationId": application["ApplicationResponse"]["Id"]}


def pinpoint_archiver_run(emulator: Emulator, stack: Stack) -> FlowResult:
    """A project's campaign and journey sends through the stack's event stream: each archived as rendered.

    The content covers every read the renderer makes: an email campaign with two A/B treatments, an SMS campaign
    edited after its send (so the version sent is read back), push and voice templates, a journey's email
    activity at a pinned template version and SMS activity at the active one; plus an open event and a send
    Pinpoint did not make (QUIET_TIME), which pass through unarchived."""
    from due.archive import recipient_folder
    from due.message_archiver.secret import recipient_secret
    from due_local.firehose import FirehoseDelivery

    problems: list[str] = []
    emulator.complete_wiring(stack)
    project = stack.parameters["PinpointApplicationId"]
    pinpoint, fake = emulator.client("pinpoint"), emulator.fakes.pinpoint
    fake.segments[(project, "everyone")] = {"Id": "everyone"}
    people = {  # endpoint id -> channel, address, first name
        "ana": ("EMAIL", "ana@example.com", "Ana"), "bo": ("EMAIL", "bo@example.com", "Bo"),
        "cy": ("SMS", "+14255550141", "Cy"), "di": ("GCM", "device-token-di", "Di"),
        "ed": ("VOICE", "+14255550142", "Ed"), "fay": ("EMAIL", "fay@example.com", "Fay"),
        "gus": ("SMS", "+14255550143", "Gus"),
    }
    for endpoint_id, (channel, address, name) in people.items():
        pinpoint.update_endpoint(ApplicationId=project, EndpointId=endpoint_id, EndpointRequest={
            "ChannelType": channel, "Address": address, "User": {"UserAttributes": {"FirstName": [name]}}})
    for name, subject in (("spring-a", "Spring sale"), ("spring-b", "Spring offers")):
        pinpoint.create_email_template(TemplateName=name, EmailTemplateRequest={
            "Subject": f"{subject}, {{{{User.UserAttributes.FirstName}}}}", "TextPart": f"{subject} inside",
            "HtmlPart": f"<p>{subject} inside</p>"})
    pinpoint.create_push_template(TemplateName="spring-push", PushNotificationTemplateRequest={
        "Default": {"Title": "Spring", "Body": "Hi {{User.UserAttributes.FirstName}}"}})
    pinpoint.create_voice_template(TemplateName="spring-voice", VoiceTemplateRequest={
        "Body": "Hello {{User.UserAttributes.FirstName}}, spring is here.", "LanguageCode": "en-US"})
    pinpoint.create_email_template(TemplateName="welcome", EmailTemplateRequest={
        "Subject": "Welcome (version 1)", "TextPart": "first"})
    pinpoint.update_email_template(TemplateName="welcome", CreateNewVersion=True, EmailTemplateRequest={
        "Subject": "Welcome, {{User.UserAttributes.FirstName}}", "TextPart": "second"})
    pinpoint.create_sms_template(TemplateName="reminder", SMSTemplateRequest={"Body": "Reminder for {{Address}}"})

    sent_at = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=5)

    def campaign(**settings) -> str:
        campaign_id = pinpoint.create_campaign(ApplicationId=project, WriteCampaignRequest={
            "Name": "spring", "SegmentId": "everyone", "Schedule": {"StartTime": "IMMEDIATE"}, **settings,
        })["CampaignResponse"]["Id"]
        written = (sent_at - datetime.timedelta(hours=1)).isoformat()  # created an hour before its send
        fake.campaigns[(project, campaign_id)]["LastModifiedDate"] = written
        fake.campaign_versions[(project, campaign_id, 1)]["LastModifiedDate"] = written
        return campaign_id

    email_campaign = campaign(TemplateConfiguration={"EmailTemplate": {"Name": "spring-a"}}, AdditionalTreatments=[
        {"SizePercent": 50, "TemplateConfiguration": {"EmailTemplate": {"Name": "spring-b"}}}])
    other_channels = campaign(TemplateConfiguration={"PushTemplate": {"Name": "spring-push"},
                                                     "VoiceTemplate": {"Name": "spring-voice"}})
    sms_campaign = campaign(MessageConfiguration={"SMSMessage": {"Body": "Hi {{User.UserAttributes.FirstName}}",
                                                                 "OriginationNumber": "+18445550100"}})
    pinpoint.update_campaign(ApplicationId=project, CampaignId=sms_campaign, WriteCampaignRequest={
        "TemplateConfiguration": {"SMSTemplate": {"Name": "reminder"}}})  # after the send: not what was sent
    journey = pinpoint.create_journey(ApplicationId=project, WriteJourneyRequest={"Name": "welcome", "Activities": {
        "greet": {"EMAIL": {"TemplateName": "welcome", "TemplateVersion": "2"}},
        "remind": {"SMS": {"TemplateName": "reminder"}}}})["JourneyResponse"]["Id"]

    millis = int(sent_at.timestamp() * 1000)

    def send(endpoint_id, attributes, event_type="_campaign.send") -> bytes:
        return (json.dumps({"event_type": event_type, "event_timestamp": millis, "arrival_timestamp": millis + 90,
                            "event_version": "3.1", "application": {"app_id": project, "sdk": {}},
                            "client": {"client_id": endpoint_id}, "device": {"platform": {}}, "session": {},
                            "attributes": attributes, "awsAccountId": "123456789012"}) + "\n").encode()

    def campaign_send(endpoint_id, campaign_id, treatment="0", status="SUCCESS") -> bytes:
        return send(endpoint_id, {"campaign_id": campaign_id, "treatment_id": treatment,
                                  "campaign_activity_id": f"run-{campaign_id[:8]}", "campaign_send_status": status})

    records = [campaign_send("ana", email_campaign), campaign_send("bo", email_campaign, treatment="1"),
               campaign_send("cy", sms_campaign), campaign_send("di", other_channels),
               campaign_send("ed", other_channels),
               send("fay", {"journey_id": journey, "journey_activity_id": "greet", "journey_run_id": "run1",
                            "journey_send_status": "SUCCESS", "journey_activity_type": "EMAIL"}, "_journey.send"),
               send("gus", {"journey_id": journey, "journey_activity_id": "remind", "journey_run_id": "run1",
                            "journey_send_status": "SUCCESS", "journey_activity_type": "SMS"}, "_journey.send"),
               campaign_send("ana", email_campaign, status="QUIET_TIME"),
               send("ana", {"feedback": "opened"}, "_email.open")]
    delivered = FirehoseDelivery(emulator, stack, "PinpointEventsStream").put_record_batch(records)
    if delivered.results != {"Ok": len(records)}:
        problems.append(f"transformation results {dict(delivered.results)}, expected all {len(records)} Ok")
    emulator.pump(stack)

    secret = recipient_secret(emulator.client("secretsmanager"), stack.outputs["RecipientSecretArn"])
    s3, bucket = emulator.client("s3"), stack.outputs["ArchiveBucketName"]
    expected = {"ana": "Spring sale, Ana", "bo": "Spring offers, Bo", "cy": "Hi Cy", "di": "Hi Di",
                "ed": "Hello Ed, spring is here.", "fay": "Welcome, Fay", "gus": "Reminder for +14255550143"}
    for endpoint_id, want in expected.items():
        channel, address, _ = people[endpoint_id]
        kind = {"EMAIL": "email", "SMS": "sms", "GCM": "push", "VOICE": "voice"}[channel]
        folder = f"archive/{recipient_folder(secret, kind, address)}/"
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=folder).get("Contents", [])]
        if len(keys) != 1:
            problems.append(f"{endpoint_id}: {len(keys)} archived messages, expected 1")
            continue
        message = email.message_from_bytes(s3.get_object(Bucket=bucket, Key=keys[0])["Body"].read(),
                                           policy=email.policy.default)
        shown = message["Subject"] if kind == "email" else message.get_body(("plain",)).get_content().strip()
        if shown != want:
            problems.append(f"{endpoint_id}: archived {shown!r}, expected {want!r}")
    if _queue_depth(emulator, stack.outputs["PinpointRenderDeadLetterQueueUrl"]):
        problems.append("messages in the render dead-letter queue")
    return FlowResult(
        "Message_Archiver (Mode Pinpoint)",
        went_in=f"{len(records)} Pinpoint events into the stack's event stream: 5 campaign sends (email A/B, an SMS "
                "campaign edited since, push, voice), journey email and SMS sends, a send not made (QUIET_TIME), "
                "an open",
        came_out="7 MIME files, each at its endpoint's folder, rendered from the treatment, campaign version and "
                 "template version sent; the other events passed through; no dead letters",
        problems=problems,
    )


FLOWS = {
    flow.template: flow
    for flow in (
        Flow("SMS_S3_drop", _s3_drop_prepare, _s3_drop_run),
        Flow("Self-managed_Opt_Outs", _opt_outs_prepare, _opt_outs_run),
        Flow("SES_Event_Processing", _ses_prepare, _ses_run),
        Flow("SES_Auto_Reply", _auto_reply_prepare, _auto_reply_run),
        Flow("Pinpoint_Event_Processing", _pinpoint_prepare, _pinpoint_run),
        Flow("S3_Data_Lake", _data_lake_prepare, _data_lake_run),
        Flow("S3_triggered_import", _import_prepare, _import_run),
        Flow("Advanced_Segmentation_S3", _advanced_segmentation_prepare, _advanced_segmentation_run),
        Flow("Event_Based_Segmentation", _segmentation_prepare, _segmentation_run),
        Flow("Connect_as_a_Channel", _connect_prepare, _connect_run),
        Flow("External_Attributes", _external_attributes_prepare, _external_attributes_run),
        Flow("External_Templates", _external_templates_prepare, _external_templates_run),
        Flow("Message_Archiver", _archiver_prepare, _archiver_run),
    )
}


# ------------------------------------------------------- your own input
@dataclass(frozen=True)
class Feed:
    """Where a user's own file goes for one architecture (``python -m due_local --input``)."""

    takes: str  # what the file holds, for --help
    put: Callable[[Emulator, Stack, Path], str]  # delivers it; says what went in
    input_topic: str = ""  # the output naming the topic it publishes on (not reported as something that came out)


def json_documents(path: Path) -> list[dict]:
    """A file of one JSON document, a JSON array of them, or JSON lines; each must be an object."""
    text = path.read_text(encoding="utf-8")
    try:
        loaded = json.loads(text)
        documents = loaded if isinstance(loaded, list) else [loaded]
    except ValueError:
        try:
            documents = [json.loads(line) for line in text.splitlines() if line.strip()]
        except ValueError as exc:
            raise ValueError(f"{path}: neither a JSON document nor JSON lines ({exc})") from None
    if not documents or not all(isinstance(d, dict) for d in documents):
        raise ValueError(f"{path}: expected JSON objects")
    return documents


def _publish_each(output: str):
    def put(emulator: Emulator, stack: Stack, path: Path) -> str:
        documents = json_documents(path)
        for document in documents:
            emulator.client("sns").publish(TopicArn=stack.outputs[output], Message=json.dumps(document))
        return f"{len(documents)} message(s) published on {output}"
    return put


def _put_pinpoint_records(emulator: Emulator, stack: Stack, path: Path) -> str:
    records = json_documents(path)
    for record in records:
        emulator.client("kinesis").put_record(
            StreamName=stack.outputs["EventStreamName"], Data=json.dumps(record).encode(),
            PartitionKey=str(record.get("client", {}).get("client_id") or record.get("event_type") or "event"))
    return f"{len(records)} record(s) put on the Kinesis stream {stack.outputs['EventStreamName']}"


def _invoke_responder(emulator: Emulator, stack: Stack, path: Path) -> str:
    events = json_documents(path)
    invoker = emulator.async_invoker(stack, "ResponderFunction")
    outcomes = [invoker.invoke(emulator.runtime, event) for event in events]
    return f"{len(events)} receipt event(s) given to the responder as the receipt rule would: {outcomes}"


def _drop_file(emulator: Emulator, stack: Stack, path: Path) -> str:
    key = f"incoming/{path.name}"
    emulator.client("s3").put_object(Bucket=stack.outputs["DropBucketName"], Key=key, Body=path.read_bytes())
    return f"s3://{stack.outputs['DropBucketName']}/{key} written"


def _put_firehose_records(emulator: Emulator, stack: Stack, path: Path) -> str:
    from due_local.firehose import FirehoseDelivery

    lines = [line for line in path.read_bytes().splitlines() if line.strip()]
    delivered = FirehoseDelivery(emulator, stack).put_record_batch(lines)
    return f"{len(lines)} record(s) into the delivery stream; transformation results {dict(delivered.results)}"


class NotTaken(Exception):
    """The input was delivered, and the architecture refused it (what came out says why)."""


def _import_own_file(emulator: Emulator, stack: Stack, path: Path) -> str:
    if path.suffix not in (".csv", ".jsonl"):
        raise ValueError(f"{path}: the import takes .csv or .jsonl files")
    execution, _ = import_file(emulator, stack, f"incoming/{path.name}", path.read_bytes())
    went_in = (f"s3://{stack.outputs['ImportBucketName']}/incoming/{path.name} written; its execution "
               f"{execution.get('status', 'did not start')}")
    if execution.get("status") != "SUCCEEDED":
        raise NotTaken(went_in)
    return went_in



def _feed_segmentation(emulator: Emulator, stack: Stack, path: Path) -> str:
    emulator.complete_wiring(stack)
    return put_segmentation_events(emulator, stack, json_documents(path))


def _segment_own_events(emulator: Emulator, stack: Stack, path: Path) -> str:
    lines = [line for line in path.read_bytes().splitlines() if line.strip()]
    results = load_data_lake_table(emulator, lines)
    execution, _ = refresh_segment(emulator, stack)
    went_in = (f"{len(lines)} record(s) through the data lake's transformation into its events table ({results}), "
               f"replacing what it held; one refresh {execution.get('status', 'did not start')}")
    if execution.get("status") != "SUCCEEDED":
        raise NotTaken(went_in)
    return went_in


FEEDS = {
    "SES_Event_Processing": Feed("SES notifications or event-publishing records (JSON), each published on the "
                                 "feedback topic", _publish_each("FeedbackTopicArn"), "FeedbackTopicArn"),
    "Pinpoint_Event_Processing": Feed("Pinpoint event stream records (JSON), each put on the Kinesis stream",
                                      _put_pinpoint_records),
    "SES_Auto_Reply": Feed("SES receipt events (the Lambda event of a receipt rule, JSON)", _invoke_responder),
    "Self-managed_Opt_Outs": Feed("inbound two-way SMS (JSON), each published on the inbound topic",
                                  _publish_each("InboundTopicArn"), "InboundTopicArn"),
    "SMS_S3_drop": Feed("a CSV in the drop format, written to incoming/", _drop_file),
    "S3_Data_Lake": Feed("one event record per line (SES, SMS or Pinpoint JSON), into the delivery stream",
                         _put_firehose_records),
    "Event_Based_Segmentation": Feed("engagement events (JSON): SES and SMS events are published on the engagement "
                                     "topic, application events put on the stream", _feed_segmentation),
    "S3_triggered_import": Feed("a CSV (.csv, with a header) or JSON lines (.jsonl) of contacts, written to "
                                "incoming/", _import_own_file),
    "Advanced_Segmentation_S3": Feed("engagement event records, one JSON per line (SES, SMS or Pinpoint), put "
                                     "through the data lake's transformation into the events table the segment "
                                     "query reads (replacing the table's rows), then one refresh as the schedule "
                                     "starts it",
                                     _segment_own_events),
    "Connect_as_a_Channel": Feed("a CSV with a phone column (the SMS S3 drop's format works), written to incoming/",
                                 _drop_calls_file),
    "External_Attributes": Feed("an audience CSV (an email column, an id column keying the offers), written to "
                                "incoming/ with the sample offers in the table", _drop_audience_with_offers),
    "External_Templates": Feed("an audience CSV (an email column, optionally locale), written to incoming/spring/ "
                               "with the sample content in the content bucket", _drop_audience_for_spring),
    "Message_Archiver": Feed("sent messages (JSON, one due.archive.SentMessage each, as in "
                             "examples/message_archiver/sent_messages.json), queued on the archive queue",
                             _queue_sent_messages),
}
