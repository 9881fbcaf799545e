-- Pinpoint journey sends: one row per endpoint a journey activity sent to.
-- The channel is the attribute journey_activity_type (EMAIL, SMS, PUSH or CUSTOM; Pinpoint Developer
-- Guide, Journey events); delivery_type is named as in campaign_send, whose events carry delivery_type.
CREATE OR REPLACE VIEW journey_send AS
SELECT
  event_id,
  from_unixtime(CAST(event_timestamp AS double) / 1000) AS event_time,
  application_id,
  journey_id,
  journey_activity_id,
  journey_run_id,
  endpoint_id,
  element_at(attributes, 'journey_activity_type') AS delivery_type,
  element_at(attributes, 'journey_send_status') AS send_status,
  attributes,
  metrics,
  dt
FROM events
WHERE event_type = '_journey.send'
