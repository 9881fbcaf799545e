-- Emails opened (SES Open, Pinpoint _email.open).
CREATE OR REPLACE VIEW email_open AS
SELECT
  event_id,
  event_source,
  from_unixtime(CAST(event_timestamp AS double) / 1000) AS event_time,
  application_id,
  campaign_id,
  treatment_id,
  journey_id,
  journey_activity_id,
  endpoint_id,
  message_id,
  from_address,
  subject,
  recipients,
  user_agent,
  ip_address,
  attributes,
  dt
FROM events
WHERE event_type = '_email.open'
