import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Refusal } from "./personalize-events";

/**
 * Local endpoints for the Firehose API (JSON 1.1, `X-Amz-Target: Firehose_20150804.<Operation>`)
 * and the API Gateway management API (REST, `POST /<stage>/@connections/<id>`), so that the real
 * SDK clients of the handlers are pointed at them by endpoint. Every call is recorded; faults are
 * injected by the caller: whole-call errors (throttling, 5xx) and, for Firehose, refused entries
 * (`FailedPutCount`, a per-entry `ErrorCode`, as the service answers a partial failure).
 */
export interface LocalNeighbours {
  readonly endpoint: string;
  /** Firehose records accepted, by delivery stream, decoded. */
  readonly firehose: Map<string, string[]>;
  /** PostToConnection bodies accepted, by connection id. */
  readonly pushed: Map<string, string[]>;
  /** Calls received, by operation. */
  readonly calls: Record<string, number>;
  /** Connections that answer 410 GoneException (a subscriber that went away). */
  readonly gone: Set<string>;
  /** The next `count` calls of `operation` answer `status` with error `type`. */
  failNext(
    operation: "PutRecordBatch" | "PostToConnection",
    count: number,
    status: number,
    type: string,
  ): void;
  /** In the next `count` PutRecordBatch calls, refuse the first `entries` entries of each. */
  refuseEntries(count: number, entries: number): void;
  stop(): Promise<void>;
}

export async function startNeighbours(): Promise<LocalNeighbours> {
  const firehose = new Map<string, string[]>();
  const pushed = new Map<string, string[]>();
  const calls: Record<string, number> = {};
  const gone = new Set<string>();
  const failures = new Map<string, { count: number; status: number; type: string }>();
  let refusals = { count: 0, entries: 0 };

  const injected = (operation: string) => {
    const failure = failures.get(operation);
    if (!failure || failure.count <= 0) return;
    failure.count--;
    throw new Refusal(failure.status, failure.type, "injected failure");
  };

  const putRecordBatch = (body: { DeliveryStreamName?: string; Records?: { Data?: string }[] }) => {
    if (
      !body.DeliveryStreamName ||
      !Array.isArray(body.Records) ||
      body.Records.length < 1 ||
      body.Records.length > 500
    ) {
      throw new Refusal(
        400,
        "InvalidArgumentException",
        "DeliveryStreamName and 1 to 500 Records are required",
      );
    }
    const refuse = refusals.count > 0 ? refusals.entries : 0;
    if (refusals.count > 0) refusals.count--;
    const accepted = firehose.get(body.DeliveryStreamName) ?? [];
    firehose.set(body.DeliveryStreamName, accepted);
    const responses = body.Records.map((record, index) => {
      if (index < refuse) {
        return { ErrorCode: "ServiceUnavailableException", ErrorMessage: "injected partial failure" };
      }
      accepted.push(Buffer.from(record.Data ?? "", "base64").toString("utf8"));
      return { RecordId: `local-${accepted.length}` };
    });
    return {
      FailedPutCount: Math.min(refuse, body.Records.length),
      Encrypted: false,
      RequestResponses: responses,
    };
  };

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = Buffer.concat(chunks);
      const target = String(request.headers["x-amz-target"] ?? "");
      const connection = /\/@connections\/([^/?]+)/.exec(request.url ?? "")?.[1];
      const operation = target ? target.split(".").pop()! : connection ? "PostToConnection" : "Unknown";
      calls[operation] = (calls[operation] ?? 0) + 1;
      try {
        injected(operation);
        if (operation === "PutRecordBatch") {
          const answer = putRecordBatch(JSON.parse(body.toString("utf8") || "{}"));
          response
            .writeHead(200, { "content-type": "application/x-amz-json-1.1" })
            .end(JSON.stringify(answer));
        } else if (operation === "PostToConnection") {
          const id = decodeURIComponent(connection!);
          if (gone.has(id)) throw new Refusal(410, "GoneException", `connection ${id} is gone`);
          pushed.set(id, [...(pushed.get(id) ?? []), body.toString("utf8")]);
          response.writeHead(200).end();
        } else {
          throw new Refusal(400, "UnknownOperationException", `no operation ${target || request.url}`);
        }
      } catch (error) {
        const refusal =
          error instanceof Refusal ? error : new Refusal(400, "SerializationException", String(error));
        response
          .writeHead(refusal.status, { "content-type": "application/json", "x-amzn-errortype": refusal.type })
          .end(JSON.stringify({ __type: refusal.type, message: refusal.message }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    firehose,
    pushed,
    calls,
    gone,
    failNext(operation, count, status, type) {
      failures.set(operation, { count, status, type });
    },
    refuseEntries(count, entries) {
      refusals = { count, entries };
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
    },
  };
}
