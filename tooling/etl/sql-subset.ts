/**
 * The functions the transforms may call: each exists in Spark SQL 3.5 (Glue 5.0) and in DuckDB,
 * natively or as one of the engine's macros (`SPARK_FUNCTIONS_IN_DUCKDB`), with the same result
 * on the values the transforms pass. docs/etl.md gives the reasons and what was left out.
 */
export const SHARED_FUNCTIONS: readonly string[] = [
  "array_join", // DuckDB macro over array_to_string
  "cast",
  "coalesce",
  "concat",
  "concat_ws", // strings only: DuckDB prints an array argument as a list, Spark joins it
  "count",
  "filter", // filter(array, x -> predicate)
  "length",
  "lower",
  "nullif",
  "regexp_extract", // (text, pattern, 0): '' when there is no match, in both
  "row_number",
  "size", // DuckDB macro over len; never passed null (Spark answers -1)
  "try_cast", // only to TIMESTAMP: numbers are matched by pattern first (engines round differently)
  "unix_timestamp", // DuckDB macro over epoch, rounded down
];

/** Words followed by `(` that are syntax, not calls. */
const SYNTAX = new Set([
  "as",
  "and",
  "or",
  "not",
  "in",
  "exists",
  "over",
  "from",
  "join",
  "on",
  "select",
  "when",
  "then",
  "else",
  "where",
  "all",
]);

/** The SQL without comments and string literals (their contents are not code). */
export function stripSql(sql: string): string {
  return sql.replace(/--[^\n]*/g, "").replace(/'(?:[^']|'')*'/g, "''");
}

/** Every function a SQL text calls, lower-cased, that is not in {@link SHARED_FUNCTIONS}. */
export function unsharedFunctions(sql: string): string[] {
  const calls = [...stripSql(sql).matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*\(/g)].map((m) => m[1]!.toLowerCase());
  return [...new Set(calls.filter((name) => !SYNTAX.has(name) && !SHARED_FUNCTIONS.includes(name)))];
}

/** Constructs one engine has and the other lacks or reads differently, found in a SQL text. */
export function unsharedSyntax(sql: string): string[] {
  const code = stripSql(sql);
  const rules: [RegExp, string][] = [
    [/::/, "`::` casts (DuckDB and PostgreSQL only): use CAST"],
    [/\bQUALIFY\b/i, "QUALIFY (not in Spark 3.5): filter a row_number() in a subquery"],
    [/\b(?:LEFT|RIGHT)?\s*(?:ANTI|SEMI)\s+JOIN\b/i, "ANTI/SEMI JOIN: use LEFT JOIN ... IS NULL"],
    [/\bRLIKE\b|\bILIKE\b|\bSIMILAR\s+TO\b/i, "RLIKE, ILIKE, SIMILAR TO: use regexp_extract"],
    [/"/, "double-quoted identifiers (a string in Spark): use plain names"],
    [/\[/, "[...] list literals and indexing (DuckDB only)"],
    [/\bINTERVAL\b/i, "INTERVAL literals (different forms): the runner passes the window"],
    [/\bEXCLUDE\b|\bREPLACE\s*\(/i, "SELECT * EXCLUDE/REPLACE (DuckDB only)"],
  ];
  return rules.filter(([pattern]) => pattern.test(code)).map(([, why]) => why);
}
