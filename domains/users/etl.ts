import { join } from "node:path";
import type { ProducerTransform } from "../../components/etl-job";

/** The users product's transform: the users database's profiles, checked against the contract. */
export const usersTransform: ProducerTransform = {
  product: "users",
  sqlFile: join(__dirname, "etl", "users.sql"),
  sourceView: "users_source",
};
