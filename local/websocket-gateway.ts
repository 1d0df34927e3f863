import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { WebSocket, WebSocketServer } from "ws";
import type { LocalFunction } from "./functions";

/**
 * A local API Gateway WebSocket API in front of a push channel's planned functions, so that push
 * subscribers are real WebSocket clients:
 *
 * - an upgrade request is authorized by the `$connect` authorizer (a REQUEST authorizer event with
 *   the query string and headers; refused with 401 when it throws `Unauthorized`, 403 on Deny),
 *   then the `$connect` function runs with a new connection id, and the socket is accepted only
 *   when it answers 200, as API Gateway does;
 * - a socket that closes runs `$disconnect`;
 * - the management API (`POST /<stage>/@connections/<id>`, what the live feed's SDK client calls)
 *   sends the body to the connection's socket, or answers 410 GoneException when it is closed.
 *
 * Every call of the management API is counted; faults are whole-call errors injected by the caller.
 */
export interface LocalWebSocketGateway {
  /** `ws://` address for subscribers. */
  readonly url: string;
  /** `http://` endpoint of the management API, stage included (the live feed's WEBSOCKET_ENDPOINT). */
  readonly managementEndpoint: string;
  /** PostToConnection calls, by connection id, whether delivered or not. */
  readonly posts: Map<string, number>;
  stop(): Promise<void>;
}

type Invocable = Pick<LocalFunction, "invoke">;

export interface GatewayFunctions {
  readonly authorizer: Invocable;
  readonly connect: Invocable;
  readonly disconnect: Invocable;
}

/** `functions` is called at each connection: the gateway's endpoint is in the functions' environment. */
export async function startWebSocketGateway(
  resolveFunctions: () => GatewayFunctions,
  accountId: string,
  stage = "live",
): Promise<LocalWebSocketGateway> {
  const sockets = new Map<string, WebSocket>();
  const posts = new Map<string, number>();
  const wss = new WebSocketServer({ noServer: true });
  const methodArn = `arn:aws:execute-api:eu-west-1:${accountId}:local/${stage}/$connect`;
  const requestContext = (connectionId: string, eventType: string, routeKey: string) => ({
    connectionId,
    connectedAt: Date.now(),
    eventType,
    routeKey,
    stage,
    requestId: randomUUID(),
  });

  const server = createServer((request, response) => {
    const connection = new RegExp(`^/${stage}/@connections/([^/?]+)`).exec(request.url ?? "")?.[1];
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      if (request.method !== "POST" || !connection) {
        response.writeHead(404, { "x-amzn-errortype": "NotFoundException" }).end("{}");
        return;
      }
      const id = decodeURIComponent(connection);
      posts.set(id, (posts.get(id) ?? 0) + 1);
      const socket = sockets.get(id);
      if (!socket || socket.readyState !== WebSocket.OPEN) {
        response
          .writeHead(410, { "content-type": "application/json", "x-amzn-errortype": "GoneException" })
          .end(JSON.stringify({ message: `connection ${id} is gone` }));
        return;
      }
      socket.send(Buffer.concat(chunks).toString("utf8"), (error) =>
        error
          ? response.writeHead(410, { "x-amzn-errortype": "GoneException" }).end("{}")
          : response.writeHead(200).end(),
      );
    });
  });

  server.on("upgrade", (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const refuse = (status: number, reason: string) => {
      socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Length: 0\r\n\r\n`);
    };
    void (async () => {
      const functions = resolveFunctions();
      const url = new URL(request.url ?? "/", "http://local");
      const headers = Object.fromEntries(
        Object.entries(request.headers).map(([name, value]) => [name, String(value)]),
      );
      const authorized = await functions.authorizer.invoke({
        type: "REQUEST",
        methodArn,
        headers,
        queryStringParameters: Object.fromEntries(url.searchParams),
        requestContext: { routeKey: "$connect", eventType: "CONNECT", stage },
      });
      if (!authorized.ok) return refuse(401, "Unauthorized");
      const effect = (authorized.result as { policyDocument?: { Statement?: { Effect?: string }[] } })
        .policyDocument?.Statement?.[0]?.Effect;
      if (effect !== "Allow") return refuse(403, "Forbidden");
      const connectionId = randomUUID();
      const connected = await functions.connect.invoke({
        requestContext: requestContext(connectionId, "CONNECT", "$connect"),
        headers,
        isBase64Encoded: false,
      });
      if (!connected.ok || (connected.result as { statusCode?: number })?.statusCode !== 200) {
        return refuse(500, "Internal Server Error");
      }
      wss.handleUpgrade(request, socket, head, (ws) => {
        sockets.set(connectionId, ws);
        ws.on("close", () => {
          sockets.delete(connectionId);
          void resolveFunctions().disconnect.invoke({
            requestContext: requestContext(connectionId, "DISCONNECT", "$disconnect"),
            isBase64Encoded: false,
          });
        });
      });
    })().catch(() => refuse(500, "Internal Server Error"));
  });

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `ws://127.0.0.1:${port}/${stage}`,
    managementEndpoint: `http://127.0.0.1:${port}/${stage}`,
    posts,
    async stop() {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
    },
  };
}

/** A subscriber: a real WebSocket client with the token in the query string; keeps what it receives. */
export interface Subscriber {
  readonly socket: WebSocket;
  readonly messages: string[];
}

export function subscribe(url: string, token: string): Promise<Subscriber> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${url}?token=${encodeURIComponent(token)}`);
    const messages: string[] = [];
    const timer = setTimeout(() => {
      socket.terminate();
      reject(new Error(`${url}: no connection within 30 s`));
    }, 30_000);
    socket.on("message", (data) => messages.push(String(data)));
    socket.once("open", () => {
      clearTimeout(timer);
      resolve({ socket, messages });
    });
    socket.once("unexpected-response", (_request, response) => {
      clearTimeout(timer);
      reject(new Error(`${url}: connection refused with HTTP ${response.statusCode}`));
    });
    socket.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}
