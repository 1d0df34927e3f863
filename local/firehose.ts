import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Refusal } from "./personalize-events";

/**
 * A local endpoint for the Firehose API (JSON 1.1, `X-Amz-Target: Firehose_20150804.<Operation>`),
 * so that the handlers' real SDK client is pointed at it by endpoint. Every call is recorded;
 * faults are injected by the caller: whole-call errors (throttling, 5xx) and refused entries
 * (`FailedPutCount`, a per-entry `ErrorCode`, as the service answers a partial failure).
 */
export interface LocalFirehose {
  readonly endpoint: string;
  /** Records accepted, by delivery stream, decoded. */
  readonly records: Map<string, string[]>;
  /** Calls received, by operation. */
  readonly calls: Record<string, number>;
  /** The next `count` calls answer `status` with error `type`. */
  failNext(count: number, status: number, type: string): void;
  /** In the next `count` PutRecordBatch calls, refuse the first `entries` entries of each. */
  refuseEntries(count: number, entries: number): void;
  stop(): Promise<void>;
}

export async function startFirehose(): Promise<LocalFirehose> {
  const firehose = new Map<string, string[]>();
  const calls: Record<string, number> = {};
  let failure = { count: 0, status: 0, type: "" };
  let refusals = { count: 0, entries: 0 };

  const injected = () => {
    if (failure.count <= 0) return;
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
      const operation = target.split(".").pop() || "Unknown";
      calls[operation] = (calls[operation] ?? 0) + 1;
      try {
        injected();
        if (operation === "PutRecordBatch") {
          const answer = putRecordBatch(JSON.parse(body.toString("utf8") || "{}"));
          response
            .writeHead(200, { "content-type": "application/x-amz-json-1.1" })
            .end(JSON.stringify(answer));
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
    records: firehose,
    calls,
    failNext(count, status, type) {
      failure = { count, status, type };
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
