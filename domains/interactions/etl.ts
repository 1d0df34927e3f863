import { join } from "node:path";
import type { ProducerTransform } from "../../components/etl-job";

/** The interactions product's transform: the landed events, checked and each event id once. */
export const interactionsTransform: ProducerTransform = {
  product: "interaction-events",
  sqlFile: join(__dirname, "etl", "interaction-events.sql"),
  sourceView: "interactions_landing",
};
