import { PersonalizeEventsClient } from "@aws-sdk/client-personalize-events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { localClientConfig } from "./local-aws";
import { serviceLength } from "../platform/contract";

/**
 * A local endpoint speaking the Personalize Events REST-JSON protocol (PutEvents `POST /events`,
 * PutItems `POST /items`, PutUsers `POST /users`), so that tests and benchmarks run the real SDK
 * client, its serialisation and its error parsing. It enforces the constraints of the API
 * reference that the mesh's writers rely on (list sizes, required members, lengths counted the
 * service's way, see `serviceLength`), refuses unknown tracking ids and datasets like the service
 * (404 ResourceNotFoundException), and counts requests. No such server exists on npm.
 */
type Operation = "PutEvents" | "PutItems" | "PutUsers";

export interface LocalPersonalizeEvents {
  readonly endpoint: string;
  readonly client: PersonalizeEventsClient;
  /** Requests received, by operation. */
  readonly requests: Record<Operation, number>;
  /** The bodies of the requests accepted, by operation, in order. */
  readonly accepted: Record<Operation, Record<string, unknown>[]>;
  /** PutEvents calls naming one of these event ids are refused (400 InvalidInputException). */
  readonly refusedEventIds: Set<string>;
  /** Called after each accepted request, once its answer is sent. */
  afterAccept: ((operation: Operation, body: Record<string, unknown>) => void) | undefined;
  /** Makes the next `count` requests answer with `status` and error `type` (throttling, 5xx). */
  failNext(count: number, status: number, type: string): void;
  reset(): void;
  stop(): Promise<void>;
}

export interface LocalPersonalizeOptions {
  readonly trackingIds?: readonly string[];
  readonly datasetArns?: readonly string[];
}

/** PutItems and PutUsers: the same shape, limits from the API reference. */
const datasetWrites = {
  "/items": { operation: "PutItems", member: "items", id: "itemId", maxProperties: 32_000 },
  "/users": { operation: "PutUsers", member: "users", id: "userId", maxProperties: 24_000 },
} as const;

/** An error answer of a local endpoint: its HTTP status and AWS error type. */
export class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

function text(value: unknown, member: string, min: number, max: number, required = true): void {
  if (value === undefined && !required) return;
  if (typeof value !== "string") throw new Refusal(400, "InvalidInputException", `${member} is required`);
  const length = serviceLength(value);
  if (length < min || length > max) {
    throw new Refusal(
      400,
      "InvalidInputException",
      `1 validation error detected: Value at '${member}' failed to satisfy constraint: Member must have length between ${min} and ${max}`,
    );
  }
}

function list(value: unknown, member: string, max: number): Record<string, unknown>[] {
  if (!Array.isArray(value) || value.length < 1 || value.length > max) {
    throw new Refusal(400, "InvalidInputException", `${member} must have between 1 and ${max} members`);
  }
  return value as Record<string, unknown>[];
}

function operationOf(path: string): Operation {
  return path === "/events" ? "PutEvents" : path === "/items" ? "PutItems" : "PutUsers";
}

export async function startPersonalizeEvents(
  options: LocalPersonalizeOptions = {},
): Promise<LocalPersonalizeEvents> {
  const trackingIds = new Set(options.trackingIds ?? ["local-tracker"]);
  const refusedEventIds = new Set<string>();
  const datasetArns = new Set(options.datasetArns ?? []);
  const requests = { PutEvents: 0, PutItems: 0, PutUsers: 0 };
  const accepted: Record<Operation, Record<string, unknown>[]> = {
    PutEvents: [],
    PutItems: [],
    PutUsers: [],
  };
  let failures: { count: number; status: number; type: string } = { count: 0, status: 0, type: "" };

  const dataset = (arn: unknown) => {
    text(arn, "datasetArn", 1, 256);
    if (!datasetArns.has(arn as string))
      throw new Refusal(404, "ResourceNotFoundException", `dataset ${String(arn)} not found`);
  };

  const handle = (path: string, body: Record<string, unknown>) => {
    if (path === "/events") {
      requests.PutEvents++;
      if (failures.count > 0) throw nextFailure();
      text(body.trackingId, "trackingId", 1, 256);
      if (!trackingIds.has(body.trackingId as string)) {
        throw new Refusal(
          404,
          "ResourceNotFoundException",
          `tracking id ${String(body.trackingId)} not found`,
        );
      }
      text(body.sessionId, "sessionId", 1, 256);
      text(body.userId, "userId", 1, 256, false);
      const events = list(body.eventList, "eventList", 10);
      const refused = events.find((event) => refusedEventIds.has(String(event.eventId)));
      if (refused) {
        throw new Refusal(
          400,
          "InvalidInputException",
          `event ${String(refused.eventId)} refused (injected)`,
        );
      }
      events.forEach((event, i) => {
        text(event.eventType, `eventList.${i + 1}.member.eventType`, 1, 256);
        text(event.eventId, `eventList.${i + 1}.member.eventId`, 1, 256, false);
        text(event.itemId, `eventList.${i + 1}.member.itemId`, 1, 256, false);
        text(event.properties, `eventList.${i + 1}.member.properties`, 1, 1024, false);
        if (typeof event.sentAt !== "number")
          throw new Refusal(400, "InvalidInputException", "sentAt is required");
      });
      accepted.PutEvents.push(body);
    } else if (path in datasetWrites) {
      const { operation, member, id, maxProperties } = datasetWrites[path as keyof typeof datasetWrites];
      requests[operation]++;
      if (failures.count > 0) throw nextFailure();
      dataset(body.datasetArn);
      list(body[member], member, 10).forEach((entry, i) => {
        text(entry[id], `${member}.${i + 1}.member.${id}`, 1, 256);
        text(entry.properties, `${member}.${i + 1}.member.properties`, 1, maxProperties, false);
      });
      accepted[operation].push(body);
    } else {
      throw new Refusal(404, "UnknownOperationException", `no operation at ${path}`);
    }
  };
  const nextFailure = () => {
    failures.count--;
    return new Refusal(failures.status, failures.type, "injected failure");
  };

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      try {
        if (request.method !== "POST") throw new Refusal(405, "UnknownOperationException", "POST only");
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as Record<string, unknown>;
        handle(request.url ?? "/", body);
        response
          .writeHead(200, { "content-type": "application/json" })
          .end("{}", () => local.afterAccept?.(operationOf(request.url ?? "/"), body));
      } catch (error) {
        const refusal =
          error instanceof Refusal
            ? error
            : new Refusal(400, "InvalidInputException", (error as Error).message);
        response
          .writeHead(refusal.status, { "content-type": "application/json", "x-amzn-errortype": refusal.type })
          .end(JSON.stringify({ message: refusal.message }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new PersonalizeEventsClient(localClientConfig(endpoint));
  const local: LocalPersonalizeEvents = {
    endpoint,
    client,
    requests,
    accepted,
    refusedEventIds,
    afterAccept: undefined,
    failNext(count, status, type) {
      failures = { count, status, type };
    },
    reset() {
      requests.PutEvents = requests.PutItems = requests.PutUsers = 0;
      accepted.PutEvents.length = accepted.PutItems.length = accepted.PutUsers.length = 0;
      failures = { count: 0, status: 0, type: "" };
      refusedEventIds.clear();
    },
    async stop() {
      client.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
    },
  };
  return local;
}
