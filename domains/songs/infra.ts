import { join } from "node:path";
import { catalogueStoreInfra } from "../../components/catalogue-store";
import { songsTransform } from "./etl";

/**
 * The songs catalogue service's own store: a DynamoDB table written with the transactional outbox,
 * the relay that publishes the outbox to the domain's stream products, and the ETL job that exports
 * the table into the domain's product at rest (`etl/*.sql`).
 */
export const songsInfra = catalogueStoreInfra(join(__dirname, "handlers", "outbox-relay.ts"), songsTransform);
