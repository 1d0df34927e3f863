-- The Personalize Users dataset (CSV, header = the Avro schema's fields) from the users product,
-- read through the resource link as the users-history subscription (no pii column): each user's
-- latest profile version. Written in the SQL Spark SQL and DuckDB share (docs/etl.md).
--
-- Views: users_history (the users/users table's granted columns).
SELECT
  user_id AS USER_ID,
  country AS COUNTRY,
  tier AS TIER,
  language AS LANGUAGE
FROM (
  SELECT
    users_history.*,
    row_number() OVER (PARTITION BY user_id ORDER BY event_time DESC, event_id DESC) AS latest
  FROM users_history
) AS versions
WHERE latest = 1
