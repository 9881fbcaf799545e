"""The message archiver (architecture #6): sent messages kept as MIME files in S3, one folder per recipient.

``writer_handler``: the archive queue's consumer (every mode); ``secret``: the recipient folders' HMAC key,
read from Secrets Manager, shared by every function and script that derives a folder. The message, its key
and its MIME are ``due.archive``'s.
"""
