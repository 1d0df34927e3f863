import { outboxRelayHandler } from "../../../runtime/outbox-relay";
import songs from "..";

/** Publishes the events the songs catalogue service writes to its outbox (runtime/outbox.ts). */
export const handler = outboxRelayHandler(songs);
