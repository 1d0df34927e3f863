-- users/users: the users service's profiles (Aurora PostgreSQL, public.users) as rows of the
-- product's table, one row per profile version. Written in the SQL Spark SQL and DuckDB share
-- (docs/etl.md); every source column arrives as text.
--
-- Views: users_source (user_id, country, birth_year, tier, language, created_at, updated_at).
-- Result: every row with the product's columns, event_date and quarantine_reason (null when the
-- row keeps its contract); runtime/glue/publish.sql then keeps the rows of the run's window.
WITH typed AS (
  SELECT
    user_id,
    country,
    CASE WHEN regexp_extract(birth_year, '^-?[0-9]{1,9}$', 0) = birth_year THEN CAST(birth_year AS INT) END AS birth_year,
    birth_year AS birth_year_text,
    tier,
    language,
    TRY_CAST(created_at AS TIMESTAMP) AS created_at,
    created_at AS created_at_text,
    TRY_CAST(updated_at AS TIMESTAMP) AS updated_at,
    updated_at AS updated_at_text
  FROM users_source
),
versioned AS (
  SELECT
    typed.*,
    coalesce(updated_at, created_at) AS event_time,
    CASE WHEN updated_at IS NULL THEN 'user.created' ELSE 'user.updated' END AS event_type
  FROM typed
),
checked AS (
  SELECT
    concat('users:', user_id, ':', CAST(event_time AS STRING)) AS event_id,
    event_type,
    event_time,
    user_id,
    country,
    birth_year,
    tier,
    created_at,
    language,
    updated_at,
    CAST(CAST(event_time AS DATE) AS STRING) AS event_date,
    nullif(concat_ws('; ',
      CASE WHEN user_id IS NULL OR length(user_id) < 1 OR length(user_id) > 256
        THEN 'user_id: required, 1 to 256 characters' END,
      CASE WHEN country IS NULL THEN 'country: required'
        WHEN regexp_extract(country, '^[A-Z]{2}$', 0) <> country
        THEN concat('country: ', country, ' is not an ISO 3166-1 alpha-2 code') END,
      CASE WHEN birth_year_text IS NOT NULL AND (birth_year IS NULL OR birth_year < 1900 OR birth_year > 2100)
        THEN concat('birth_year: ', birth_year_text, ' is not an integer from 1900 to 2100') END,
      CASE WHEN tier IS NULL THEN 'tier: required'
        WHEN tier NOT IN ('free', 'premium', 'family')
        THEN concat('tier: ', tier, ' is not one of free, premium, family') END,
      CASE WHEN language IS NOT NULL AND (length(language) < 2 OR length(language) > 35)
        THEN concat('language: ', language, ' is not 2 to 35 characters') END,
      CASE WHEN created_at_text IS NULL THEN 'created_at: required'
        WHEN created_at IS NULL THEN concat('created_at: ', created_at_text, ' is not a date-time') END,
      CASE WHEN updated_at_text IS NOT NULL AND updated_at IS NULL
        THEN concat('updated_at: ', updated_at_text, ' is not a date-time') END
    ), '') AS quarantine_reason
  FROM versioned
)
SELECT * FROM checked
