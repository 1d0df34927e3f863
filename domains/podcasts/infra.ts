import { join } from "node:path";
import { catalogueStoreInfra } from "../../components/catalogue-store";

/**
 * The podcasts catalogue service's own store: a DynamoDB table written with the transactional outbox,
 * and the relay that publishes the outbox to the domain's stream products.
 */
export const podcastsInfra = catalogueStoreInfra(join(__dirname, "handlers", "outbox-relay.ts"));
