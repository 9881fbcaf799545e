"""Fixes for moto 5.2.5 behaviour that differs from AWS, applied by the harness.

Each entry names the AWS behaviour it restores; remove it when moto does the same.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from contextlib import ExitStack, contextmanager
from unittest import mock

from moto.core.common_models import CloudFormationModel

_TOPIC_KEYS = {"Bounce": "BounceTopic", "Complaint": "ComplaintTopic", "Delivery": "DeliveryTopic"}


def _get_identity_notification_attributes(backend, identities):
    # AWS returns each identity's BounceTopic/ComplaintTopic/DeliveryTopic; moto stores them but omits them.
    response = _original_get(backend, identities)
    for identity, attributes in response.items():
        for notification_type, key in _TOPIC_KEYS.items():
            topic = backend.sns_topics.get(identity, {}).get(notification_type)
            if topic:
                attributes[key] = topic
    return response


def _set_identity_notification_topic(backend, identity, notification_type, sns_topic):
    # AWS accepts clearing a topic that is not set; moto raises KeyError.
    topics = backend.sns_topics.setdefault(identity, {})
    if sns_topic is None:
        topics.pop(notification_type, None)
    else:
        topics[notification_type] = sns_topic


def _list_identities(responses):
    # AWS pages ListIdentities (MaxItems, default 1000, and NextToken); moto returns everything at once.
    from moto.core.responses import ActionResult

    identities = responses.backend.list_identities(responses._get_param("IdentityType"))
    start = int(responses._get_param("NextToken") or 0)
    size = int(responses._get_param("MaxItems") or 1000)
    result = {"Identities": identities[start:start + size]}
    if start + size < len(identities):
        result["NextToken"] = str(start + size)
    return ActionResult(result)


# AWS applies each DynamoDB write atomically; moto's in-process backend lets two
# threads' UpdateItem calls interleave and lose an update. One lock restores it.
_dynamodb_write_lock = threading.RLock()


def _atomic(method):
    def locked(*args, **kwargs):
        with _dynamodb_write_lock:
            return method(*args, **kwargs)
    return locked


def _queue_from_cloudformation(resource_name, cloudformation_json, account_id, region_name, **kwargs):
    # CloudFormation names an unnamed FIFO queue STACK-Logical-RANDOM.fifo; moto leaves off ".fifo" and fails.
    if str(cloudformation_json.get("Properties", {}).get("FifoQueue", "")).lower() == "true":
        resource_name = str(resource_name)[: 80 - len(".fifo")].removesuffix(".fifo") + ".fifo"
    return _original_queue_from_cloudformation(resource_name, cloudformation_json, account_id, region_name,
                                               **kwargs)


def _s3_event(event_name, bucket, key, notification_id):
    # S3 names the object's version (versioned buckets) and leaves "/" unencoded in the key; moto does neither.
    event = _original_s3_event(event_name, bucket, key, notification_id)
    s3_object = event["Records"][0]["s3"]["object"]
    s3_object["key"] = urllib.parse.quote_plus(key.name, safe="/")
    if getattr(key, "version_id", None) not in (None, "null"):
        s3_object["versionId"] = key.version_id
    return event


class _DeliveryStreamFromCloudFormation(CloudFormationModel):
    """CloudFormation creates AWS::KinesisFirehose::DeliveryStream; moto's skips it, and a !GetAtt of its Arn then
    fails the stack. This creates the stream in moto's Firehose (destination bucket and role only: delivery with
    the stack's transformation and formats is played by src/due_local/firehose.py)."""

    def __init__(self, name: str, arn: str):
        self.name, self.arn = name, arn

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::KinesisFirehose::DeliveryStream"

    @staticmethod
    def cloudformation_name_type() -> str:
        return "DeliveryStreamName"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        from moto.firehose.models import firehose_backends

        properties = cloudformation_json.get("Properties", {})
        destination = properties.get("ExtendedS3DestinationConfiguration", {})
        arn = firehose_backends[account_id][region_name].create_delivery_stream(
            region_name, resource_name, properties.get("DeliveryStreamType", "DirectPut"), None, None, None,
            {"BucketARN": destination.get("BucketARN"), "RoleARN": destination.get("RoleARN")},
            None, None, None, None, None, None, [])
        return cls(resource_name, arn)

    @property
    def physical_resource_id(self) -> str:
        return self.name

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "Arn"

    def get_cfn_attribute(self, attribute_name: str) -> str:
        return self.arn


class _SecretFromCloudFormation(CloudFormationModel):
    """CloudFormation creates AWS::SecretsManager::Secret (Ref: the secret's ARN) and fills it from
    GenerateSecretString; moto's skips it, so a function's environment and an output got no ARN. This creates it
    in moto's Secrets Manager with a generated string (the property's length and exclusions honoured)."""

    def __init__(self, arn: str):
        self.arn = arn

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::SecretsManager::Secret"

    @staticmethod
    def cloudformation_name_type() -> str:
        return "Name"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        from moto.secretsmanager.models import secretsmanager_backends

        backend = secretsmanager_backends[account_id][region_name]
        properties = cloudformation_json.get("Properties", {})
        secret_string = properties.get("SecretString")
        generate = properties.get("GenerateSecretString")
        if secret_string is None and generate is not None:
            secret_string = json.loads(backend.get_random_password(
                int(generate.get("PasswordLength", 32)), generate.get("ExcludeCharacters", ""),
                bool(generate.get("ExcludeNumbers")), bool(generate.get("ExcludePunctuation")),
                bool(generate.get("ExcludeUppercase")), bool(generate.get("ExcludeLowercase")),
                bool(generate.get("IncludeSpace")), bool(generate.get("RequireEachIncludedType", True))))[
                    "RandomPassword"]
        created = backend.create_secret(
            name=properties.get("Name", resource_name), secret_string=secret_string, secret_binary=None,
            description=properties.get("Description"), tags=properties.get("Tags"),
            kms_key_id=properties.get("KmsKeyId"), client_request_token=None, replica_regions=[],
            force_overwrite=False)
        return cls(json.loads(created)["ARN"] if isinstance(created, str) else created["ARN"])

    @property
    def physical_resource_id(self) -> str:
        return self.arn


def _resource_class_from_type(resource_type):
    if resource_type == _DeliveryStreamFromCloudFormation.cloudformation_type():
        return _DeliveryStreamFromCloudFormation
    if resource_type == _SecretFromCloudFormation.cloudformation_type():
        return _SecretFromCloudFormation
    return _original_resource_class_from_type(resource_type)


def _state_machine_from_cloudformation(resource_name, cloudformation_json, account_id, region_name, **kwargs):
    # AWS takes the definition as Definition (an object) as well as DefinitionString, and replaces each
    # ${Name} of DefinitionSubstitutions in it (AWS::StepFunctions::StateMachine reference); moto reads
    # DefinitionString only, so a stack using Definition got a state machine with no definition.
    import json
    import re

    properties = dict(cloudformation_json.get("Properties", {}))
    if "Definition" in properties and "DefinitionString" not in properties:
        properties["DefinitionString"] = json.dumps(properties.pop("Definition"))
    substitutions = {k: str(v) for k, v in (properties.pop("DefinitionSubstitutions", None) or {}).items()}
    if substitutions:
        properties["DefinitionString"] = re.sub(
            r"\$\{([^}]+)\}", lambda m: substitutions.get(m.group(1), m.group(0)), properties["DefinitionString"])
    # With execute_state_machine on, moto's API answers from its parser backend, but its CloudFormation creates
    # into the plain one, where no API call finds the state machine: create where the API looks.
    from moto.stepfunctions.responses import get_backend
    from moto.stepfunctions.utils import cfn_to_api_tags

    return get_backend(account_id, region_name).create_state_machine(
        properties.get("StateMachineName", resource_name), properties.get("DefinitionString", ""),
        properties.get("RoleArn", ""), tags=cfn_to_api_tags(properties.get("Tags", [])))


# moto invokes functions mapped to SQS queues and Kinesis streams itself, inside
# SendMessage/PutRecord, one message at a time, ignoring batchItemFailures. The
# harness's pollers (event_sources.py) deliver with Lambda's semantics instead, so
# moto's own delivery is switched off: a queue or stream never sees its mappings.
_no_mappings = property(lambda self: {}, lambda self, value: None)

from moto.cloudformation import parsing as cloudformation_parsing  # noqa: E402
from moto.dynamodb.models import DynamoDBBackend  # noqa: E402
from moto.kinesis.models import Stream  # noqa: E402
from moto.s3 import notifications as s3_notifications  # noqa: E402
from moto.ses.models import SESBackend  # noqa: E402
from moto.ses.responses import EmailResponse  # noqa: E402
from moto.sqs.models import Queue  # noqa: E402
from moto.stepfunctions.models import StateMachine  # noqa: E402

_original_get = SESBackend.get_identity_notification_attributes
_original_s3_event = s3_notifications._get_s3_event
_original_queue_from_cloudformation = Queue.create_from_cloudformation_json
_original_resource_class_from_type = cloudformation_parsing.resource_class_from_type


@contextmanager
def patched():
    with ExitStack() as stack:
        stack.enter_context(mock.patch.object(
            SESBackend, "get_identity_notification_attributes", _get_identity_notification_attributes))
        stack.enter_context(mock.patch.object(
            SESBackend, "set_identity_notification_topic", _set_identity_notification_topic))
        for write in ("update_item", "put_item", "delete_item", "transact_write_items"):
            stack.enter_context(mock.patch.object(DynamoDBBackend, write, _atomic(getattr(DynamoDBBackend, write))))
        stack.enter_context(mock.patch.object(Queue, "create_from_cloudformation_json",
                                              staticmethod(_queue_from_cloudformation)))
        stack.enter_context(mock.patch.object(s3_notifications, "_get_s3_event", _s3_event))
        stack.enter_context(mock.patch.object(EmailResponse, "list_identities", _list_identities))
        stack.enter_context(mock.patch.object(Queue, "lambda_event_source_mappings", _no_mappings, create=True))
        stack.enter_context(mock.patch.object(cloudformation_parsing, "resource_class_from_type",
                                              _resource_class_from_type))
        stack.enter_context(mock.patch.object(Stream, "lambda_event_source_mappings", _no_mappings, create=True))
        stack.enter_context(mock.patch.object(StateMachine, "create_from_cloudformation_json",
                                              staticmethod(_state_machine_from_cloudformation)))
        yield
