"""Test harness shared by the tests, the ``--local`` run and the benchmarks.

* ``fakes``: stateful in-memory stand-ins for the AWS APIs moto lacks, attached
  to real boto3 clients so botocore validates every request and runs its real
  retry logic.
* ``lambda_runtime``: runs our handlers in-process with Lambda's semantics.
* ``event_sources``: delivers what moto's queues, streams, buckets and topics
  hold to those handlers (batches, partial failures, redrive).
* ``emulator``: a moto server in this process, and CloudFormation deploys on it.
"""
