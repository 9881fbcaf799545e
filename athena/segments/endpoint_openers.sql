-- Pinpoint endpoints that opened at least ${minimum_opens} emails in the last ${days} days, from the data lake's
-- events table (S3_Data_Lake: the Pinpoint event stream's _email.open records, which name their endpoint, dated
-- by the day the email was opened). The query for Mode=Pinpoint, whose key is the endpoint id. The stack fills the
-- table placeholder with its Table parameter, the others from QueryValues, and runs the query in the data lake's
-- database.
--
-- The contract every segment query keeps (docs/Advanced_Segmentation_S3.md): the first column is the person's
-- key, one row per person, ORDER BY that column; other columns go into the audience file.
SELECT
  endpoint_id,
  -- the endpoint's address as its latest open names it
  max_by(lower(element_at(recipients, 1)), event_timestamp) AS email,
  count(DISTINCT message_id) AS opens,
  max(dt) AS last_opened_on
FROM ${table}
WHERE event_type = '_email.open'
  -- the last ${days} UTC dates, today included (dt is the UTC date; Athena's current_date is UTC's); dt
  -- compared with a constant, so Athena reads only these days' partitions
  AND dt > date_format(current_date - INTERVAL '${days}' DAY, '%Y-%m-%d')
  AND endpoint_id IS NOT NULL
GROUP BY endpoint_id
HAVING count(DISTINCT message_id) >= ${minimum_opens}
ORDER BY endpoint_id
