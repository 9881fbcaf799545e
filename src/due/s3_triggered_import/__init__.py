"""S3 triggered import: a dropped contact file becomes an audience (Customer Profiles, SES or Pinpoint)."""
