"""Architecture #9: a CSV dropped in S3 becomes rate-limited SMS sends through a FIFO queue."""
