/** A producer's transform: one SQL file from its source view to one of its products at rest. */
export interface ProducerTransform {
  /** The at-rest product it writes (its name in the domain's declaration). */
  readonly product: string;
  /** Absolute path of the SQL file (one SELECT in the SQL Spark SQL and DuckDB share). */
  readonly sqlFile: string;
  /** The view of the source the SQL reads. */
  readonly sourceView: string;
}

/** One Personalize dataset of the merge: one SQL file over the domain's at-rest subscriptions. */
export interface DatasetTransform {
  readonly dataset: "users" | "items" | "interactions";
  /** Absolute path of the SQL file (one SELECT in the SQL Spark SQL and DuckDB share). */
  readonly sqlFile: string;
}
