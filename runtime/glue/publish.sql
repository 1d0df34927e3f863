-- What a producer's run publishes, the same for every product: of the rows its transform checked
-- (view `checked`: the product's columns, event_date, quarantine_reason), those whose change time
-- is in the run's window and whose event id was never written before, to the product or to its
-- quarantine. Runs may overlap (a schedule with a lookback): a second run adds no duplicate.
-- Written in the SQL Spark SQL and DuckDB share (docs/etl.md).
--
-- Views: checked, etl_window (window_start, window_end), existing_ids (event_id of every row
-- already in the product or its quarantine).
SELECT checked.*
FROM checked
CROSS JOIN etl_window
LEFT JOIN (SELECT DISTINCT event_id FROM existing_ids) AS seen ON seen.event_id = checked.event_id
WHERE
  seen.event_id IS NULL
  AND (
    (checked.event_time >= etl_window.window_start AND checked.event_time < etl_window.window_end)
    -- A row without a change time belongs to no window: every run quarantines it until it is fixed.
    OR (checked.event_time IS NULL AND checked.quarantine_reason IS NOT NULL)
  )
