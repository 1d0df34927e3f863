import { CreateStreamCommand, DescribeStreamSummaryCommand, KinesisClient } from "@aws-sdk/client-kinesis";
import { localClientConfig } from "./local-aws";
import type { AddressInfo } from "node:net";

// kinesalite ships no types.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const kinesalite = require("kinesalite") as (options: Record<string, unknown>) => import("node:http").Server;

export interface LocalKinesis {
  readonly endpoint: string;
  /** A client for the local server; HTTP/1.1 because kinesalite does not speak HTTP/2. */
  readonly client: KinesisClient;
  createStream(name: string, shardCount?: number): Promise<void>;
  stop(): Promise<void>;
}

/** Starts an in-memory kinesalite on 127.0.0.1 on a free port. */
export async function startKinesalite(options: Record<string, unknown> = {}): Promise<LocalKinesis> {
  const server = kinesalite({
    createStreamMs: 0,
    deleteStreamMs: 0,
    updateStreamMs: 0,
    shardLimit: 100,
    ...options,
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new KinesisClient(localClientConfig(endpoint));
  return {
    endpoint,
    client,
    createStream: (name, shardCount) => createActiveStream(client, name, shardCount),
    async stop() {
      client.destroy();
      await new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
    },
  };
}

/** Creates a stream through `client` and resolves once it is ACTIVE. */
export async function createActiveStream(client: KinesisClient, name: string, shardCount = 1): Promise<void> {
  await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: shardCount }));
  for (;;) {
    const { StreamDescriptionSummary } = await client.send(
      new DescribeStreamSummaryCommand({ StreamName: name }),
    );
    if (StreamDescriptionSummary?.StreamStatus === "ACTIVE") return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
