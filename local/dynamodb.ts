import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { localClientConfig } from "./local-aws";

// dynalite ships no types.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite = require("dynalite") as (options: Record<string, unknown>) => Server;

/**
 * A local DynamoDB for tests and benchmarks: dynalite (in memory) behind a front on 127.0.0.1 that
 * counts every request by operation and adds `TransactWriteItems`, which dynalite does not
 * implement. The front serialises all requests, so a transaction is atomic with respect to every
 * other request; its items are applied with dynalite's own conditional PutItem / UpdateItem /
 * DeleteItem (so conditions are evaluated by dynalite) and undone in reverse order when one fails,
 * and the answer is DynamoDB's: `TransactionCanceledException` with one `CancellationReasons`
 * entry per item (`None` or `ConditionalCheckFailed`, with the item when
 * `ReturnValuesOnConditionCheckFailure` is `ALL_OLD`).
 */
export interface LocalDynamoDB {
  readonly endpoint: string;
  readonly client: DynamoDBClient;
  /** Requests received, by operation (`PutItem`, `BatchGetItem`, `TransactWriteItems`, ...). */
  readonly requests: Record<string, number>;
  /** Sum of `requests`. */
  totalRequests(): number;
  resetCounts(): void;
  /** A table with a string partition key (default `id`), as the idempotency tables are. */
  createTable(name: string, partitionKey?: string): Promise<void>;
  stop(): Promise<void>;
}

type Json = Record<string, unknown>;
interface Answer {
  readonly status: number;
  readonly body: Json;
}

const TARGET_PREFIX = "DynamoDB_20120810.";

export async function startDynamoDB(): Promise<LocalDynamoDB> {
  const backend = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => backend.listen(0, "127.0.0.1", resolve));
  const backendPort = (backend.address() as AddressInfo).port;
  const requests: Record<string, number> = {};

  const forward = (operation: string, body: Json, headers: IncomingHttpHeaders): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const payload = Buffer.from(JSON.stringify(body));
      const call = httpRequest(
        {
          host: "127.0.0.1",
          port: backendPort,
          method: "POST",
          path: "/",
          headers: {
            "content-type": "application/x-amz-json-1.0",
            authorization:
              headers.authorization ??
              "AWS4-HMAC-SHA256 Credential=local/20260101/eu-west-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0",
            "x-amz-date": headers["x-amz-date"] ?? "20260101T000000Z",
            "x-amz-target": TARGET_PREFIX + operation,
            "content-length": payload.length,
          },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on("data", (chunk: Buffer) => chunks.push(chunk));
          response.on("end", () =>
            resolve({
              status: response.statusCode ?? 500,
              body: JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as Json,
            }),
          );
        },
      );
      call.on("error", reject);
      call.end(payload);
    });

  const errorType = (answer: Answer) =>
    String(answer.body.__type ?? "")
      .split("#")
      .pop() ?? "";

  const transactWrite = async (body: Json, headers: IncomingHttpHeaders): Promise<Answer> => {
    const items = (body.TransactItems ?? []) as Json[];
    const validation = (message: string): Answer => ({
      status: 400,
      body: { __type: "com.amazon.coral.validate#ValidationException", message },
    });
    if (items.length < 1 || items.length > 100) {
      return validation("Member must have length less than or equal to 100 and at least 1");
    }
    const seen = new Set<string>();
    for (const item of items) {
      const [kind, action] = Object.entries(item)[0] as [string, Json];
      if (kind === "ConditionCheck")
        return validation("ConditionCheck is not supported by this local server");
      const identity = `${String(action.TableName)} ${JSON.stringify(await keyFor(kind, action, headers))}`;
      if (seen.has(identity)) {
        return validation("Transaction request cannot include multiple operations on one item");
      }
      seen.add(identity);
    }

    // The items name distinct keys and no other request runs meanwhile (the front's queue), so
    // they are applied at once; the outcome is the same as one after the other.
    const applied = await Promise.all(
      items.map(async (item) => {
        const [kind, action] = Object.entries(item)[0] as [string, Json];
        const { ReturnValuesOnConditionCheckFailure: returnOld, ...rest } = action;
        const answer = await forward(`${kind}Item`, { ...rest, ReturnValues: "ALL_OLD" }, headers);
        const key = await keyFor(kind, action, headers);
        if (answer.status === 200) {
          const old = answer.body.Attributes as Json | undefined;
          const table = action.TableName;
          const undo = () =>
            old
              ? forward("PutItem", { TableName: table, Item: old }, headers)
              : forward("DeleteItem", { TableName: table, Key: key }, headers);
          return { reason: { Code: "None" } as Json, undo };
        }
        if (errorType(answer) !== "ConditionalCheckFailedException") return { error: answer };
        const reason: Json = { Code: "ConditionalCheckFailed", Message: "The conditional request failed" };
        if (returnOld === "ALL_OLD") {
          const current = await forward(
            "GetItem",
            { TableName: action.TableName, Key: key, ConsistentRead: true },
            headers,
          );
          if (current.body.Item) reason.Item = current.body.Item;
        }
        return { reason };
      }),
    );
    const undo = applied.flatMap((outcome) => ("undo" in outcome && outcome.undo ? [outcome.undo] : []));
    const failed = applied.find((outcome) => "error" in outcome);
    if (failed && "error" in failed) {
      await Promise.all(undo.map((step) => step()));
      return failed.error!;
    }
    const reasons = applied.map((outcome) => ("reason" in outcome ? outcome.reason! : {}));
    const cancelled = reasons.some((reason) => reason.Code !== "None");
    if (!cancelled) return { status: 200, body: {} };
    await Promise.all(undo.map((step) => step()));
    return {
      status: 400,
      body: {
        __type: "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
        Message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(", ")}]`,
        CancellationReasons: reasons,
      },
    };
  };

  const keySchemas = new Map<string, string[]>();
  /** The key of the item an action writes (a Put names it inside its item). */
  const keyFor = async (kind: string, action: Json, headers: IncomingHttpHeaders): Promise<Json> => {
    if (kind !== "Put") return action.Key as Json;
    const table = String(action.TableName);
    if (!keySchemas.has(table)) {
      const described = await forward("DescribeTable", { TableName: table }, headers);
      const schema = ((described.body.Table as Json).KeySchema ?? []) as { AttributeName: string }[];
      keySchemas.set(
        table,
        schema.map((entry) => entry.AttributeName),
      );
    }
    const item = action.Item as Json;
    return Object.fromEntries(keySchemas.get(table)!.map((name) => [name, item[name]]));
  };

  // One request at a time: a transaction's steps must not interleave with other requests.
  let queue: Promise<unknown> = Promise.resolve();
  const front = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const operation = String(request.headers["x-amz-target"] ?? "").replace(TARGET_PREFIX, "");
      requests[operation] = (requests[operation] ?? 0) + 1;
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as Json;
      const run = () =>
        operation === "TransactWriteItems"
          ? transactWrite(body, request.headers)
          : forward(operation, body, request.headers);
      const answered = queue.then(run);
      queue = answered.catch(() => undefined);
      answered.then(
        (answer) =>
          response
            .writeHead(answer.status, { "content-type": "application/x-amz-json-1.0" })
            .end(JSON.stringify(answer.body)),
        (error: unknown) =>
          response
            .writeHead(500, { "content-type": "application/x-amz-json-1.0" })
            .end(JSON.stringify({ __type: "InternalServerError", message: String(error) })),
      );
    });
  });
  await new Promise<void>((resolve) => front.listen(0, "127.0.0.1", resolve));
  const endpoint = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;
  const client = new DynamoDBClient(localClientConfig(endpoint));
  const close = (server: Server) =>
    new Promise<void>((resolve, reject) => {
      server.closeAllConnections();
      server.close((error) => (error ? reject(error) : resolve()));
    });
  return {
    endpoint,
    client,
    requests,
    totalRequests: () => Object.values(requests).reduce((sum, count) => sum + count, 0),
    resetCounts() {
      for (const operation of Object.keys(requests)) delete requests[operation];
    },
    async createTable(name, partitionKey = "id") {
      // Straight to dynalite: setting up is not a request the code under test made.
      const answer = await forward(
        "CreateTable",
        {
          TableName: name,
          AttributeDefinitions: [{ AttributeName: partitionKey, AttributeType: "S" }],
          KeySchema: [{ AttributeName: partitionKey, KeyType: "HASH" }],
          BillingMode: "PAY_PER_REQUEST",
        },
        {},
      );
      if (answer.status !== 200) throw new Error(`CreateTable ${name}: ${JSON.stringify(answer.body)}`);
      keySchemas.set(name, [partitionKey]);
    },
    async stop() {
      client.destroy();
      await close(front);
      await close(backend);
    },
  };
}
