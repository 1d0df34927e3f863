import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  ListShardsCommand,
  type GetRecordsCommandOutput,
} from "@aws-sdk/client-kinesis";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import type { KinesisStreamRecord } from "aws-lambda";
import { readFileSync } from "node:fs";
import { domains } from "../domains";
import type { Contract } from "../platform/contract";
import type { DomainDeclaration } from "../platform/declarations";
import { Names } from "../platform/mesh";
import { decodeRecord } from "../runtime/consumer-kit";
import { Publisher, type PublishEvent } from "../runtime/publisher";

/**
 * Tools for domain teams: publish contract-checked events to a product's stream, and follow a
 * stream, decoded and validated. Against a real account or any Kinesis endpoint: region,
 * credentials and `AWS_ENDPOINT_URL_KINESIS` come from the usual AWS environment.
 */
export interface ProductStream {
  readonly domain: DomainDeclaration;
  readonly product: string;
  readonly contract: Contract;
  readonly streamName: string;
}

/** A stream product by `<domain>/<product>`; an unknown one is an error listing the known ones. */
export function productStream(ref: string): ProductStream {
  const [domainName, productName] = ref.split("/");
  const streamed = domains.flatMap((domain) =>
    domain.products.filter((product) => product.kind !== "at-rest").map((product) => ({ domain, product })),
  );
  const found = streamed.find(
    ({ domain, product }) => domain.name === domainName && product.name === productName,
  );
  if (!found) {
    const known = streamed.map(({ domain, product }) => `${domain.name}/${product.name}`).join(", ");
    throw new Error(`${ref}: no such stream product (known: ${known})`);
  }
  const { domain, product } = found;
  return {
    domain,
    product: product.name,
    contract: product.contract,
    streamName: Names.stream(domain.name, product.name),
  };
}

/** A Kinesis client from the environment, over HTTP/1.1 (local servers do not speak HTTP/2). */
export function environmentKinesis(): KinesisClient {
  return new KinesisClient({ requestHandler: new NodeHttpHandler(), maxAttempts: 3 });
}

/**
 * Reads a JSON Lines file of `{ type, data, id?, time? }` events. Every bad line is reported with
 * its line number, all at once.
 */
export function readEvents(file: string): PublishEvent[] {
  const events: PublishEvent[] = [];
  const problems: string[] = [];
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new Error(`${file}: cannot read the events: ${(error as Error).message}`);
  }
  text.split("\n").forEach((line, index) => {
    if (!line.trim()) return;
    try {
      const value = JSON.parse(line) as Partial<PublishEvent>;
      if (typeof value?.type !== "string" || value.data === undefined) throw new Error("needs type and data");
      events.push(value as PublishEvent);
    } catch (error) {
      problems.push(`${file}:${index + 1}: ${(error as Error).message}`);
    }
  });
  if (problems.length) throw new Error(problems.join("\n"));
  if (!events.length) throw new Error(`${file}: no events`);
  return events;
}

/** Publishes `events` to the product's stream through the Publisher: contract-checked, nothing sent if one is bad. */
export async function publishEvents(
  ref: string,
  events: readonly PublishEvent[],
  client: KinesisClient,
): Promise<{ published: number; failed: number }> {
  const { domain, product, streamName } = productStream(ref);
  const publisher = new Publisher({ client, domain, streams: { [product]: { streamName } } });
  const result = await publisher.publish(product, events);
  return { published: result.published, failed: result.failed.length };
}

export interface TailOptions {
  readonly client: KinesisClient;
  /** From the oldest record instead of new ones only. */
  readonly fromStart?: boolean;
  /** Stop after this many records. @default until `signal` aborts */
  readonly limit?: number;
  readonly signal?: AbortSignal;
  /** @default 1000 ms */
  readonly pollMs?: number;
  /** Each record: its decoded envelope, or why it is invalid. */
  readonly onRecord: (line: string) => void;
}

/** Follows a product's stream, every shard, printing each record decoded and validated. */
export async function tail(ref: string, options: TailOptions): Promise<number> {
  const { contract, streamName } = productStream(ref);
  const { client } = options;
  const { Shards = [] } = await client.send(new ListShardsCommand({ StreamName: streamName }));
  let seen = 0;
  const done = () => options.signal?.aborted || (options.limit !== undefined && seen >= options.limit);
  await Promise.all(
    Shards.map(async (shard) => {
      let iterator = (
        await client.send(
          new GetShardIteratorCommand({
            StreamName: streamName,
            ShardId: shard.ShardId!,
            ShardIteratorType: options.fromStart ? "TRIM_HORIZON" : "LATEST",
          }),
        )
      ).ShardIterator;
      while (iterator && !done()) {
        const answer: GetRecordsCommandOutput = await client.send(
          new GetRecordsCommand({ ShardIterator: iterator }),
        );
        iterator = answer.NextShardIterator;
        for (const record of answer.Records ?? []) {
          if (done()) break;
          seen++;
          options.onRecord(describe(record, shard.ShardId!, contract));
        }
        if (!answer.Records?.length)
          await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 1000));
      }
    }),
  );
  return seen;
}

function describe(
  record: NonNullable<GetRecordsCommandOutput["Records"]>[number],
  shardId: string,
  contract: Contract,
): string {
  const lambdaRecord = {
    kinesis: {
      sequenceNumber: record.SequenceNumber!,
      partitionKey: record.PartitionKey!,
      data: Buffer.from(record.Data ?? new Uint8Array()).toString("base64"),
    },
  } as KinesisStreamRecord;
  try {
    const { envelope } = decodeRecord(lambdaRecord, contract);
    return JSON.stringify({ shardId, sequenceNumber: record.SequenceNumber, event: envelope });
  } catch (error) {
    return JSON.stringify({
      shardId,
      sequenceNumber: record.SequenceNumber,
      invalid: (error as Error).message,
    });
  }
}
