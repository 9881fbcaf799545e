"""Advanced segmentation (#10): a scheduled Athena query keeps a segment's membership exact."""
