-- Transient and undetermined bounces (SES Bounce, Pinpoint _email.softbounce).
-- One row per affected recipient, with what the receiving server said about that
-- recipient (one row with recipient NULL when the event names nobody).
CREATE OR REPLACE VIEW email_softbounce AS
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
  recipient,
  bounce_type,
  bounce_subtype,
  element_at(recipient_details, recipient).status AS status,
  element_at(recipient_details, recipient).action AS action,
  element_at(recipient_details, recipient).diagnostic_code AS diagnostic_code,
  attributes,
  dt
FROM events
LEFT JOIN UNNEST(recipients) AS t (recipient) ON TRUE
WHERE event_type = '_email.softbounce'
