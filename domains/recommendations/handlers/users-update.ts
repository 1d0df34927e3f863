import { PutUsersCommand, type User } from "@aws-sdk/client-personalize-events";
import type { StreamHandler } from "../../../runtime/consumer-kit";
import { createCatalogueWriter, type CatalogueWriterOptions } from "./catalogue-writer";
import { userEvents } from "../../users/contract";
import { PersonalizeLimits, toUser } from "./personalize";

export type UsersUpdateOptions = CatalogueWriterOptions;

/**
 * users-update: keeps the Users dataset current with PutUsers.
 *
 * Order matters per user (the last write wins), so PutUsers calls go one after the other in stream
 * order, never with two writes of one user in a call, and a write that fails holds back the later
 * writes of its user (see `putInKeyOrder`).
 */
export function createUsersUpdateHandler(options: UsersUpdateOptions = {}): StreamHandler {
  return createCatalogueWriter<User>(
    {
      contract: userEvents,
      serviceName: "users-update",
      datasetVariable: "PERSONALIZE_USERS_DATASET_ARN",
      operation: "PutUsers",
      perCall: PersonalizeLimits.usersPerCall,
      toEntry: toUser,
      send: (client, datasetArn, users) =>
        client.send(new PutUsersCommand({ datasetArn, users: [...users] })),
    },
    options,
  );
}

export const handler = createUsersUpdateHandler();
