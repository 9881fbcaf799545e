-- SMS not sent because the recipient opted out (Pinpoint _SMS.OPTOUT; End User Messaging refuses such a
-- send at the API instead, so only an event with messageStatus OPTED_OUT would land here).
CREATE OR REPLACE VIEW sms_optout AS
SELECT
  event_id,
  event_source,
  from_unixtime(CAST(event_timestamp AS double) / 1000) AS event_time,
  application_id,
  campaign_id,
  treatment_id,
  journey_id,
  endpoint_id,
  message_id,
  origination_number,
  destination_number,
  iso_country_code,
  record_status,
  status_description,
  message_type,
  message_parts,
  price_usd,
  attributes,
  context,
  dt
FROM events
WHERE event_type = '_SMS.OPTOUT'
