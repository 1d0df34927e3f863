import { join } from "node:path";
import { catalogueStoreInfra } from "../../components/catalogue-store";
import { episodesTransform } from "./etl";

/**
 * The podcasts catalogue service's own store: a DynamoDB table written with the transactional outbox,
 * the relay that publishes the outbox to the domain's stream products, and the ETL job that exports
 * the table into the domain's product at rest (`etl/*.sql`).
 */
export const podcastsInfra = catalogueStoreInfra(
  join(__dirname, "handlers", "outbox-relay.ts"),
  episodesTransform,
);
