-- Emails delivered to one address in the last 30 days, newest first, and whether each was opened.
-- Replace the address; addresses are stored as the sender wrote them, so compare in lower case.
WITH opened AS (
  SELECT DISTINCT message_id
  FROM email_open
  WHERE dt >= date_format(current_date - INTERVAL '30' DAY, '%Y-%m-%d')
)
SELECT
  d.message_id,
  d.subject,
  d.event_time AS delivered_at,
  o.message_id IS NOT NULL AS opened
FROM email_delivered d
LEFT JOIN opened o ON o.message_id = d.message_id
WHERE d.dt >= date_format(current_date - INTERVAL '30' DAY, '%Y-%m-%d')
  AND contains(transform(d.recipients, r -> lower(r)), lower('jose.muller@example.com'))
ORDER BY delivered_at DESC
