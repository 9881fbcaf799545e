-- Pinpoint campaign sends: one row per endpoint a campaign message was sent to.
CREATE OR REPLACE VIEW campaign_send AS
SELECT
  event_id,
  from_unixtime(CAST(event_timestamp AS double) / 1000) AS event_time,
  application_id,
  campaign_id,
  campaign_activity_id,
  treatment_id,
  endpoint_id,
  element_at(attributes, 'delivery_type') AS delivery_type,
  element_at(attributes, 'campaign_send_status') AS send_status,
  attributes,
  metrics,
  dt
FROM events
WHERE event_type = '_campaign.send'
