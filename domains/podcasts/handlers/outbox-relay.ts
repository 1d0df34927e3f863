import { outboxRelayHandler } from "../../../runtime/outbox-relay";
import podcasts from "..";

/** Publishes the events the podcasts catalogue service writes to its outbox (runtime/outbox.ts). */
export const handler = outboxRelayHandler(podcasts);
