import { join } from "node:path";
import type { DatasetTransform } from "../../components/etl-job";

/**
 * The merge: the three Personalize datasets from the producers' products, read through the
 * resource links as the domain's at-rest subscriptions (each a view named after the subscription,
 * `users_history`), written as the CSV files the training pipeline imports.
 */
export const mergeTransforms: readonly DatasetTransform[] = [
  { dataset: "users", sqlFile: join(__dirname, "etl", "users.sql") },
  { dataset: "items", sqlFile: join(__dirname, "etl", "items.sql") },
  { dataset: "interactions", sqlFile: join(__dirname, "etl", "interactions.sql") },
];
