-- The Personalize Interactions dataset (CSV, header = the Avro schema's fields) from the
-- interactions product, read through the resource link as the interactions-history subscription:
-- the interactions with an item of the Items dataset (follows of artists and podcasts are not),
-- with the ids and values the live interactions-update handler sends
-- (domains/recommendations/handlers/personalize.ts). Written in the SQL Spark SQL and DuckDB share
-- (docs/etl.md).
--
-- Views: interactions_history (interactions/interaction-events, already one row per event id).
SELECT
  user_id AS USER_ID,
  concat(item_type, ':', item_id) AS ITEM_ID,
  unix_timestamp(occurred_at) AS TIMESTAMP,
  event_type AS EVENT_TYPE,
  CAST(coalesce(played_ms, position_ms) AS FLOAT) AS EVENT_VALUE,
  device AS DEVICE
FROM interactions_history
WHERE event_type IN ('interaction.play', 'interaction.skip', 'interaction.like')
  AND item_type IN ('song', 'episode')
