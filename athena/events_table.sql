-- The one table of all engagement events (Pinpoint event stream, SES configuration
-- sets, End User Messaging SMS configuration sets), as S3_Data_Lake.yaml creates it
-- with an AWS::Glue::Table. Kept here so the schema can be read, reviewed and
-- recreated by hand; a test holds the template's Glue columns equal to these.
--
-- Timestamps are milliseconds since the epoch (the views turn them into
-- timestamps). dt is the event's UTC date; partition projection computes the
-- partitions, so no crawler and no ALTER TABLE ADD PARTITION is ever needed.
-- The template stores Parquet by default; with StorageFormat=JSON it uses
-- ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe' over GZIP JSON lines.
CREATE EXTERNAL TABLE IF NOT EXISTS events (
  event_id string,
  event_source string,
  event_type string,
  source_event_type string,
  event_timestamp bigint,
  arrival_timestamp bigint,
  application_id string,
  campaign_id string,
  campaign_activity_id string,
  treatment_id string,
  journey_id string,
  journey_activity_id string,
  journey_run_id string,
  endpoint_id string,
  message_id string,
  from_address string,
  destinations array<string>,
  subject string,
  recipients array<string>,
  recipient_details map<string,struct<status:string,action:string,diagnostic_code:string>>,
  bounce_type string,
  bounce_subtype string,
  complaint_feedback_type string,
  reject_reason string,
  delay_type string,
  link string,
  user_agent string,
  ip_address string,
  template_name string,
  error_message string,
  origination_number string,
  destination_number string,
  iso_country_code string,
  record_status string,
  status_description string,
  message_type string,
  message_parts int,
  price_usd double,
  attributes map<string,string>,
  context map<string,string>,
  metrics map<string,double>
)
PARTITIONED BY (dt string)
STORED AS PARQUET
LOCATION 's3://YOUR-DATA-BUCKET/events/'
TBLPROPERTIES (
  'projection.enabled' = 'true',
  'projection.dt.type' = 'date',
  'projection.dt.format' = 'yyyy-MM-dd',
  'projection.dt.range' = '2020-01-01,NOW',
  'projection.dt.interval' = '1',
  'projection.dt.interval.unit' = 'DAYS',
  'storage.location.template' = 's3://YOUR-DATA-BUCKET/events/dt=${dt}/'
)
