-- Addresses that opened at least ${minimum_opens} emails in the last ${days} days, from the data lake's events
-- table (S3_Data_Lake: SES configuration-set Open events and Pinpoint _email.open records, dated by the day the
-- email was opened). The Advanced_Segmentation_S3 stack fills the table placeholder with its Table parameter, the
-- others from QueryValues, and runs the query in the data lake's database (its Database parameter).
--
-- The contract every segment query keeps (docs/Advanced_Segmentation_S3.md):
--   * the first column is the person's key (here the address, in lower case), one row per person;
--   * the result is ORDER BY that first column (the stack diffs it with the previous result as it reads it);
--   * other columns are the audience file's extra columns.
-- SES records an open per message, not per recipient, so only messages sent to one address count: an open of a
-- message to several people cannot be given to one of them.
SELECT
  lower(element_at(recipients, 1)) AS email,
  count(DISTINCT message_id) AS opens,
  max(dt) AS last_opened_on
FROM ${table}
WHERE event_type = '_email.open'
  -- the last ${days} UTC dates, today included (dt is the UTC date; Athena's current_date is UTC's); dt
  -- compared with a constant, so Athena reads only these days' partitions
  AND dt > date_format(current_date - INTERVAL '${days}' DAY, '%Y-%m-%d')
  AND cardinality(recipients) = 1
GROUP BY lower(element_at(recipients, 1))
HAVING count(DISTINCT message_id) >= ${minimum_opens}
ORDER BY email
