-- Sends, opens, clicks, bounces and unsubscribes per campaign over the last 30 days.
-- Opens and clicks count messages (a message opened twice counts once).
WITH activity AS (
  SELECT campaign_id, 'send' AS kind, message_id, dt FROM email_send
  UNION ALL SELECT campaign_id, 'open', message_id, dt FROM email_open
  UNION ALL SELECT campaign_id, 'click', message_id, dt FROM email_click
  UNION ALL SELECT campaign_id, 'bounce', message_id, dt FROM email_hardbounce
  UNION ALL SELECT campaign_id, 'bounce', message_id, dt FROM email_softbounce
  UNION ALL SELECT campaign_id, 'unsubscribe', message_id, dt FROM email_unsubscribe
)
SELECT
  campaign_id,
  count(DISTINCT CASE WHEN kind = 'send' THEN message_id END) AS sends,
  count(DISTINCT CASE WHEN kind = 'open' THEN message_id END) AS opened,
  count(DISTINCT CASE WHEN kind = 'click' THEN message_id END) AS clicked,
  count(DISTINCT CASE WHEN kind = 'bounce' THEN message_id END) AS bounced,
  count(DISTINCT CASE WHEN kind = 'unsubscribe' THEN message_id END) AS unsubscribed
FROM activity
WHERE campaign_id IS NOT NULL
  -- dt compared with a constant, so Athena reads only the last 30 days' partitions
  AND dt >= date_format(current_date - INTERVAL '30' DAY, '%Y-%m-%d')
GROUP BY campaign_id
ORDER BY sends DESC, campaign_id
