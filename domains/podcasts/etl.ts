import { join } from "node:path";
import type { ProducerTransform } from "../../components/etl-job";

/** The episodes product's transform: the podcast table's episodes, checked against the contract. */
export const episodesTransform: ProducerTransform = {
  product: "episodes",
  sqlFile: join(__dirname, "etl", "episodes.sql"),
  sourceView: "episodes_source",
};
