-- podcasts/episodes: the podcast table's episodes (DynamoDB export of mesh-podcasts-catalogue) as
-- rows of the product's table, one row per episode version. Written in the SQL Spark SQL and
-- DuckDB share (docs/etl.md); scalar attributes arrive as text.
--
-- Views: episodes_source (pk, sk, episodeId, podcastId, title, category, language, durationMs,
-- explicit, publishedAt, updatedAt; the outbox items of the table too).
-- Result: every row with the product's columns, event_date and quarantine_reason (null when the
-- row keeps its contract); runtime/glue/publish.sql then keeps the rows of the run's window.
WITH typed AS (
  SELECT
    episodeId AS episode_id,
    podcastId AS podcast_id,
    title,
    category,
    language,
    CASE WHEN regexp_extract(durationMs, '^[0-9]{1,18}$', 0) = durationMs THEN CAST(durationMs AS BIGINT) END AS duration_ms,
    durationMs AS duration_ms_text,
    CASE WHEN lower(explicit) IN ('true', 'false') THEN lower(explicit) = 'true' END AS explicit,
    explicit AS explicit_text,
    TRY_CAST(publishedAt AS TIMESTAMP) AS published_at,
    publishedAt AS published_at_text,
    TRY_CAST(updatedAt AS TIMESTAMP) AS updated_at,
    updatedAt AS updated_at_text
  FROM episodes_source
  WHERE sk = 'episode'
),
checked AS (
  SELECT
    concat('episodes:', episode_id, ':', CAST(coalesce(updated_at, published_at) AS STRING)) AS event_id,
    CASE WHEN updated_at_text IS NULL THEN 'episode.published' ELSE 'episode.updated' END AS event_type,
    coalesce(updated_at, published_at) AS event_time,
    episode_id,
    podcast_id,
    title,
    category,
    language,
    duration_ms,
    explicit,
    published_at,
    updated_at,
    CAST(CAST(coalesce(updated_at, published_at) AS DATE) AS STRING) AS event_date,
    nullif(concat_ws('; ',
      CASE WHEN episode_id IS NULL OR length(episode_id) < 1 OR length(episode_id) > 256
        THEN 'episodeId: required, 1 to 256 characters' END,
      CASE WHEN podcast_id IS NULL OR length(podcast_id) < 1 OR length(podcast_id) > 256
        THEN 'podcastId: required, 1 to 256 characters' END,
      CASE WHEN title IS NULL OR length(title) < 1 OR length(title) > 500
        THEN 'title: required, 1 to 500 characters' END,
      CASE WHEN category IS NULL OR length(category) < 1 OR length(category) > 64
        THEN 'category: required, 1 to 64 characters' END,
      CASE WHEN language IS NULL OR length(language) < 2 OR length(language) > 35
        THEN 'language: required, 2 to 35 characters' END,
      CASE WHEN duration_ms_text IS NULL THEN 'durationMs: required'
        WHEN duration_ms IS NULL OR duration_ms < 1
        THEN concat('durationMs: ', duration_ms_text, ' is not a positive integer') END,
      CASE WHEN explicit_text IS NULL THEN 'explicit: required'
        WHEN explicit IS NULL THEN concat('explicit: ', explicit_text, ' is not a boolean') END,
      CASE WHEN published_at_text IS NULL THEN 'publishedAt: required'
        WHEN published_at IS NULL THEN concat('publishedAt: ', published_at_text, ' is not a date-time') END,
      CASE WHEN updated_at_text IS NOT NULL AND updated_at IS NULL
        THEN concat('updatedAt: ', updated_at_text, ' is not a date-time') END
    ), '') AS quarantine_reason
  FROM typed
)
SELECT * FROM checked
