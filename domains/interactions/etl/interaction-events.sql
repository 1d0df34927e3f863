-- interactions/interaction-events: the events Firehose landed from the stream (landing/ prefix of
-- the product's bucket) as the clean product, each event once. Written in the SQL Spark SQL and
-- DuckDB share (docs/etl.md); every landed column arrives as text.
--
-- Views: interactions_landing (event_id, event_type, event_time, user_id, item_id, item_type,
-- session_id, occurred_at, device, played_ms, position_ms).
-- Result: every row with the product's columns, event_date and quarantine_reason (null when the
-- row keeps its contract); runtime/glue/publish.sql then keeps the rows of the run's window.
WITH typed AS (
  SELECT
    event_id,
    event_type,
    TRY_CAST(event_time AS TIMESTAMP) AS event_time,
    event_time AS event_time_text,
    user_id,
    item_id,
    item_type,
    session_id,
    TRY_CAST(occurred_at AS TIMESTAMP) AS occurred_at,
    occurred_at AS occurred_at_text,
    device,
    CASE WHEN regexp_extract(played_ms, '^[0-9]{1,18}$', 0) = played_ms THEN CAST(played_ms AS BIGINT) END AS played_ms,
    played_ms AS played_ms_text,
    CASE WHEN regexp_extract(position_ms, '^[0-9]{1,18}$', 0) = position_ms THEN CAST(position_ms AS BIGINT) END AS position_ms,
    position_ms AS position_ms_text,
    -- Firehose may deliver a record twice: each event id is kept once.
    row_number() OVER (PARTITION BY event_id ORDER BY event_time) AS copy
  FROM interactions_landing
),
checked AS (
  SELECT
    event_id,
    event_type,
    event_time,
    user_id,
    item_id,
    item_type,
    session_id,
    occurred_at,
    device,
    played_ms,
    position_ms,
    CAST(CAST(event_time AS DATE) AS STRING) AS event_date,
    nullif(concat_ws('; ',
      CASE WHEN event_id IS NULL OR length(event_id) < 1 THEN 'event_id: required' END,
      CASE WHEN event_type IS NULL THEN 'event_type: required'
        WHEN event_type NOT IN ('interaction.play', 'interaction.skip', 'interaction.like', 'interaction.follow')
        THEN concat('event_type: ', event_type, ' is not an interaction event type') END,
      CASE WHEN event_time IS NULL THEN concat('event_time: ', coalesce(event_time_text, 'null'), ' is not a date-time') END,
      CASE WHEN user_id IS NULL OR length(user_id) < 1 OR length(user_id) > 256
        THEN 'userId: required, 1 to 256 characters' END,
      CASE WHEN item_id IS NULL OR length(item_id) < 1 OR length(item_id) > 256
        THEN 'itemId: required, 1 to 256 characters' END,
      CASE WHEN item_type IS NULL THEN 'itemType: required'
        WHEN event_type = 'interaction.follow' AND item_type NOT IN ('artist', 'podcast')
        THEN concat('itemType: ', item_type, ' is not one of artist, podcast') END,
      CASE WHEN event_type <> 'interaction.follow' AND item_type NOT IN ('song', 'episode')
        THEN concat('itemType: ', item_type, ' is not one of song, episode') END,
      CASE WHEN session_id IS NULL OR length(session_id) < 1 OR length(session_id) > 256
        THEN 'sessionId: required, 1 to 256 characters' END,
      CASE WHEN occurred_at_text IS NULL THEN 'occurredAt: required'
        WHEN occurred_at IS NULL THEN concat('occurredAt: ', occurred_at_text, ' is not a date-time') END,
      CASE WHEN device IS NOT NULL AND device NOT IN ('mobile', 'desktop', 'web', 'speaker', 'car')
        THEN concat('device: ', device, ' is not one of mobile, desktop, web, speaker, car') END,
      CASE WHEN event_type = 'interaction.play' AND played_ms_text IS NULL THEN 'playedMs: required'
        WHEN played_ms_text IS NOT NULL AND played_ms IS NULL
        THEN concat('playedMs: ', played_ms_text, ' is not a non-negative integer') END,
      CASE WHEN event_type = 'interaction.skip' AND position_ms_text IS NULL THEN 'positionMs: required'
        WHEN position_ms_text IS NOT NULL AND position_ms IS NULL
        THEN concat('positionMs: ', position_ms_text, ' is not a non-negative integer') END
    ), '') AS quarantine_reason
  FROM typed
  WHERE event_id IS NULL OR copy = 1
)
SELECT * FROM checked
