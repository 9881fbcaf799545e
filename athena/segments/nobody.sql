-- Nobody: a result with a header and no rows. Run it last before removing a stack (QueryName=nobody, QueryValues
-- empty): everyone the stack tagged leaves the segment and is untagged, so no segment_<token> attribute (or
-- AdvancedSegmentTarget token) outlives the stack. WHERE false reads no partition.
--
-- The contract every segment query keeps (docs/Advanced_Segmentation_S3.md): the first column is the person's
-- key, one row per person, ORDER BY that column.
SELECT CAST(NULL AS varchar) AS person_key
FROM ${table}
WHERE false
ORDER BY person_key
