"""The local AWS behind ``scripts/package_and_deploy.sh --local`` and ``python -m due_local``.

Nothing here is deployed (the Lambda zip holds only ``due``); it stands in for
the parts of AWS that moto does not provide, so the templates and the code can
be run end to end on one machine with no account:

* ``emulator``: a moto server in this process; CloudFormation deploys on it.
* ``moto_gaps``: fixes for what moto's CloudFormation and services skip.
* ``fakes``, ``dynamodb_fake``: stateful stand-ins for the APIs moto lacks
  (SES v2 suppression and templates, Pinpoint, End User Messaging SMS, Connect,
  Athena), attached to real boto3 clients so botocore validates every request.
* ``lambda_runtime``, ``event_sources``, ``cfn_response``: Lambda running our
  handlers, its pollers (SQS, Kinesis, asynchronous retries), custom resources.
* ``firehose``, ``athena_local``: Firehose delivery and Athena's engine (DuckDB).
* ``flows``: each architecture's sample input, pushed through its stack.
* ``local_run``: the command line (``python -m due_local``).
* ``iam``, ``engagement_events``, ``tables``: what tests and benchmarks share.
"""
