-- The Personalize Items dataset (CSV, header = the Avro schema's fields): songs and podcast
-- episodes in one table, told apart by CONTENT_TYPE, each item's latest version, with the ids and
-- values the live items-update handler sends (domains/recommendations/handlers/personalize.ts).
-- Read through the resource links as the songs-history and episodes-history subscriptions.
-- Written in the SQL Spark SQL and DuckDB share (docs/etl.md).
--
-- Views: songs_history (songs/songs), episodes_history (podcasts/episodes).
WITH songs AS (
  SELECT *
  FROM (
    SELECT
      songs_history.*,
      row_number() OVER (PARTITION BY song_id ORDER BY event_time DESC, event_id DESC) AS latest
    FROM songs_history
  ) AS versions
  WHERE latest = 1
),
episodes AS (
  SELECT *
  FROM (
    SELECT
      episodes_history.*,
      row_number() OVER (PARTITION BY episode_id ORDER BY event_time DESC, event_id DESC) AS latest
    FROM episodes_history
  ) AS versions
  WHERE latest = 1
)
SELECT
  concat('song:', song_id) AS ITEM_ID,
  'song' AS CONTENT_TYPE,
  CASE WHEN size(genres) > 0 THEN array_join(genres, '|') END AS GENRES,
  duration_ms AS DURATION_MS,
  CASE WHEN explicit THEN 'True' ELSE 'False' END AS EXPLICIT,
  CAST(NULL AS STRING) AS LANGUAGE,
  release_year AS RELEASE_YEAR,
  unix_timestamp(published_at) AS CREATION_TIMESTAMP
FROM songs
UNION ALL
SELECT
  concat('episode:', episode_id) AS ITEM_ID,
  'episode' AS CONTENT_TYPE,
  category AS GENRES,
  duration_ms AS DURATION_MS,
  CASE WHEN explicit THEN 'True' ELSE 'False' END AS EXPLICIT,
  language AS LANGUAGE,
  CAST(NULL AS INT) AS RELEASE_YEAR,
  unix_timestamp(published_at) AS CREATION_TIMESTAMP
FROM episodes
