import { PutItemsCommand } from "@aws-sdk/client-personalize-events";
import type { StreamHandler } from "../../../runtime/consumer-kit";
import { createCatalogueWriter, type CatalogueWriterOptions } from "./catalogue-writer";
import { episodeEvents } from "../../podcasts/contract";
import { songEvents } from "../../songs/contract";
import { PersonalizeLimits, toItem } from "./personalize";
import type { Item } from "@aws-sdk/client-personalize-events";

export type ItemsUpdateOptions = CatalogueWriterOptions;

/**
 * items-update (subscriptions songs-update and podcasts-update): keeps the Items dataset of the
 * merged catalogue current with PutItems. One function serves both streams; the contract of each
 * event is chosen by its type (`song.*` or `episode.*`), so no per-subscription setting is needed.
 *
 * Order matters per item (the last write wins), so PutItems calls go one after the other in stream
 * order, never with two writes of one item in a call, and a write that fails holds back the later
 * writes of its item (see `putInKeyOrder`).
 */
export function createItemsUpdateHandler(options: ItemsUpdateOptions = {}): StreamHandler {
  return createCatalogueWriter<Item>(
    {
      contract: [songEvents, episodeEvents],
      serviceName: "items-update",
      datasetVariable: "PERSONALIZE_ITEMS_DATASET_ARN",
      operation: "PutItems",
      perCall: PersonalizeLimits.itemsPerCall,
      toEntry: toItem,
      send: (client, datasetArn, items) =>
        client.send(new PutItemsCommand({ datasetArn, items: [...items] })),
    },
    options,
  );
}

export const handler = createItemsUpdateHandler();
