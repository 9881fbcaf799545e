-- Emails SES refused to send, e.g. because they carried a virus (SES Reject, Pinpoint _email.rejected).
CREATE OR REPLACE VIEW email_rejected AS
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
  reject_reason,
  attributes,
  dt
FROM events
WHERE event_type = '_email.rejected'
