"""Architectures #11 (External_Attributes) and #12 (External_Templates): data and content fetched at send time.

One package, two thin configurations: ``attributes_*`` (#11) and ``templates_*`` (#12), each a reader, a
sender and a hook handler of a few lines over the shared ``reader_handler``, ``sender_handler``, ``hook_handler``
and ``sending``. Both look recipients up in an external store at the
moment of sending, through one shape (``lookup.Lookup``): #11 reads a personalised offer per recipient from a
DynamoDB table (``attribute_store``), #12 reads a campaign's subject, HTML and text per locale from S3
(``content_store``). The looked-up data then goes out one of two ways:

* current mode (after Pinpoint): an audience file dropped in S3 is read into chunks by the shared file-to-queue
  pipeline and sent with SES v2 ``SendBulkEmail`` by ``email_sender`` (consent checked by ``consent``);
* Pinpoint mode (the seed): a Pinpoint campaign hook in FILTER mode (``hook``) adds the data to the endpoints
  Pinpoint hands it; ``hook_setting`` installs the hook on the project as a CloudFormation custom resource.
"""
