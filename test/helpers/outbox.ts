import { CreateTableCommand, DescribeTableCommand } from "@aws-sdk/client-dynamodb";
import {
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as StreamRecord,
} from "@aws-sdk/client-dynamodb-streams";
import {
  GetRecordsCommand as GetKinesisRecords,
  GetShardIteratorCommand as GetKinesisIterator,
  ListShardsCommand,
  type KinesisClient,
} from "@aws-sdk/client-kinesis";
import type { DynamoDBRecord } from "aws-lambda";
import { z } from "zod";
import { defineContract, type Envelope } from "../../platform/contract";
import { OUTBOX_TABLE_KEYS } from "../../platform/outbox";
import type { LocalDynamoDb } from "./dynamodb-local";

/** A catalogue contract of the tests' own (the shipped domains' contracts may change). */
export const itemEvents = defineContract("catalogue.item-events", [
  {
    version: 1,
    events: {
      "item.published": z.object({ itemId: z.string().min(1), title: z.string().min(1) }),
      "item.updated": z.object({ itemId: z.string().min(1), title: z.string().min(1).optional() }),
    },
  },
]);
export const ITEM_PRODUCTS = { "item-events": { contract: itemEvents, partitionKey: "itemId" } };

/** Creates a table shaped like `CatalogueTable`'s: pk/sk strings, stream with new images. */
export async function createCatalogueTable(local: LocalDynamoDb, name: string): Promise<string> {
  await local.client.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: "PAY_PER_REQUEST",
      KeySchema: [
        { AttributeName: OUTBOX_TABLE_KEYS.partition, KeyType: "HASH" },
        { AttributeName: OUTBOX_TABLE_KEYS.sort, KeyType: "RANGE" },
      ],
      AttributeDefinitions: [
        { AttributeName: OUTBOX_TABLE_KEYS.partition, AttributeType: "S" },
        { AttributeName: OUTBOX_TABLE_KEYS.sort, AttributeType: "S" },
      ],
      StreamSpecification: { StreamEnabled: true, StreamViewType: "NEW_IMAGE" },
    }),
  );
  const { Table } = await local.client.send(new DescribeTableCommand({ TableName: name }));
  return Table!.LatestStreamArn!;
}

/**
 * Every record of a table's stream, oldest first, in the shape a Lambda event source mapping
 * delivers (`DynamoDBStreamEvent.Records`): what the relay receives in production.
 */
export async function streamRecords(local: LocalDynamoDb, streamArn: string): Promise<DynamoDBRecord[]> {
  const { StreamDescription } = await local.streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
  const records: StreamRecord[] = [];
  for (const shard of StreamDescription?.Shards ?? []) {
    let { ShardIterator: iterator } = await local.streams.send(
      new GetShardIteratorCommand({
        StreamArn: streamArn,
        ShardId: shard.ShardId,
        ShardIteratorType: "TRIM_HORIZON",
      }),
    );
    // Bounded: an open shard keeps answering with a next iterator even when it has nothing more.
    for (let page = 0; iterator && page < 100; page++) {
      const output = await local.streams.send(new GetRecordsCommand({ ShardIterator: iterator }));
      records.push(...(output.Records ?? []));
      if (!output.Records?.length) break;
      iterator = output.NextShardIterator;
    }
  }
  return records
    .sort((a, b) => compareSequence(a.dynamodb!.SequenceNumber!, b.dynamodb!.SequenceNumber!))
    .map((record) => ({
      eventID: record.eventID,
      eventName: record.eventName as DynamoDBRecord["eventName"],
      eventVersion: record.eventVersion,
      eventSource: "aws:dynamodb",
      awsRegion: record.awsRegion,
      eventSourceARN: streamArn,
      dynamodb: {
        ...record.dynamodb,
        ApproximateCreationDateTime: record.dynamodb!.ApproximateCreationDateTime!.getTime() / 1000,
      } as DynamoDBRecord["dynamodb"],
    }));
}

const compareSequence = (a: string, b: string): number =>
  BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0;

/** Every envelope on a Kinesis stream, in sequence order per shard. */
export async function publishedEnvelopes(client: KinesisClient, streamName: string): Promise<Envelope[]> {
  const { Shards } = await client.send(new ListShardsCommand({ StreamName: streamName }));
  const envelopes: Envelope[] = [];
  for (const shard of Shards ?? []) {
    let { ShardIterator: iterator } = await client.send(
      new GetKinesisIterator({
        StreamName: streamName,
        ShardId: shard.ShardId,
        ShardIteratorType: "TRIM_HORIZON",
      }),
    );
    for (let page = 0; iterator && page < 100; page++) {
      const output = await client.send(new GetKinesisRecords({ ShardIterator: iterator }));
      envelopes.push(...(output.Records ?? []).map((r) => JSON.parse(Buffer.from(r.Data!).toString("utf8"))));
      if (!output.Records?.length) break;
      iterator = output.NextShardIterator;
    }
  }
  return envelopes;
}
