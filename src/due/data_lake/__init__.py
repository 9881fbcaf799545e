"""Event data lake: every engagement event as one row of one table (architecture S3_Data_Lake)."""
