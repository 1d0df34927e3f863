-- songs/songs: the catalogue table's songs (DynamoDB export of mesh-songs-catalogue) as rows of
-- the product's table, one row per song version. Written in the SQL Spark SQL and DuckDB share
-- (docs/etl.md); scalar attributes arrive as text, lists as arrays of strings.
--
-- Views: songs_source (pk, sk, songId, title, artistId, genres, durationMs, releaseYear, explicit,
-- publishedAt, updatedAt; the outbox items of the table too).
-- Result: every row with the product's columns, event_date and quarantine_reason (null when the
-- row keeps its contract); runtime/glue/publish.sql then keeps the rows of the run's window.
WITH typed AS (
  SELECT
    songId AS song_id,
    title,
    artistId AS artist_id,
    genres,
    CASE WHEN regexp_extract(durationMs, '^[0-9]{1,18}$', 0) = durationMs THEN CAST(durationMs AS BIGINT) END AS duration_ms,
    durationMs AS duration_ms_text,
    CASE WHEN regexp_extract(releaseYear, '^-?[0-9]{1,9}$', 0) = releaseYear THEN CAST(releaseYear AS INT) END AS release_year,
    releaseYear AS release_year_text,
    CASE WHEN lower(explicit) IN ('true', 'false') THEN lower(explicit) = 'true' END AS explicit,
    explicit AS explicit_text,
    TRY_CAST(publishedAt AS TIMESTAMP) AS published_at,
    publishedAt AS published_at_text,
    TRY_CAST(updatedAt AS TIMESTAMP) AS updated_at,
    updatedAt AS updated_at_text
  FROM songs_source
  WHERE sk = 'song'
),
checked AS (
  SELECT
    concat('songs:', song_id, ':', CAST(coalesce(updated_at, published_at) AS STRING)) AS event_id,
    CASE WHEN updated_at_text IS NULL THEN 'song.published' ELSE 'song.updated' END AS event_type,
    coalesce(updated_at, published_at) AS event_time,
    song_id,
    title,
    artist_id,
    genres,
    duration_ms,
    release_year,
    explicit,
    published_at,
    updated_at,
    CAST(CAST(coalesce(updated_at, published_at) AS DATE) AS STRING) AS event_date,
    nullif(concat_ws('; ',
      CASE WHEN song_id IS NULL OR length(song_id) < 1 OR length(song_id) > 256
        THEN 'songId: required, 1 to 256 characters' END,
      CASE WHEN title IS NULL OR length(title) < 1 OR length(title) > 500
        THEN 'title: required, 1 to 500 characters' END,
      CASE WHEN artist_id IS NULL OR length(artist_id) < 1 OR length(artist_id) > 256
        THEN 'artistId: required, 1 to 256 characters' END,
      CASE WHEN genres IS NULL THEN 'genres: required'
        WHEN size(genres) > 10 THEN 'genres: more than 10'
        WHEN size(filter(genres, genre -> genre IS NULL OR length(genre) < 1 OR length(genre) > 64)) > 0
        THEN concat('genres: ', array_join(genres, '|'), ' has a genre that is not 1 to 64 characters') END,
      CASE WHEN duration_ms_text IS NULL THEN 'durationMs: required'
        WHEN duration_ms IS NULL OR duration_ms < 1
        THEN concat('durationMs: ', duration_ms_text, ' is not a positive integer') END,
      CASE WHEN release_year_text IS NULL THEN 'releaseYear: required'
        WHEN release_year IS NULL OR release_year < 1800 OR release_year > 2100
        THEN concat('releaseYear: ', release_year_text, ' is not an integer from 1800 to 2100') END,
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
