/**
 * The layout shared by a table that carries a transactional outbox (`components/catalogue-table.ts`
 * creates it), the helper services write with (`runtime/outbox.ts`) and the relay's event filter
 * (`components/outbox-relay.ts`): one definition, so the three cannot drift apart.
 */

/** Key attributes of the table: strings, partition and sort key. */
export const OUTBOX_TABLE_KEYS = { partition: "pk", sort: "sk" } as const;
/** The table's TTL attribute: outbox items expire once the relay has long had them. */
export const OUTBOX_TTL_ATTRIBUTE = "expiresAt";
/** Value of the `kind` attribute on outbox items. */
export const OUTBOX_KIND = "outbox";

/**
 * The relay's event filter (Lambda filter criteria on a DynamoDB stream): inserts and updates of
 * outbox items. Business items' changes and TTL deletions never invoke the relay.
 */
export function outboxFilterPattern(): string {
  return JSON.stringify({
    eventName: ["INSERT", "MODIFY"],
    dynamodb: { NewImage: { kind: { S: [OUTBOX_KIND] } } },
  });
}
