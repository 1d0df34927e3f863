import { strict as assert } from "node:assert";
import type { InvocationResult } from "../../local/functions";
import { startWebSocketGateway, subscribe, type LocalWebSocketGateway } from "../../local/websocket-gateway";

/** The local WebSocket API with scripted functions in place of the planned ones. */
describe("local mesh: the WebSocket API in front of a push channel", function () {
  this.timeout(20_000);
  let gateway: LocalWebSocketGateway;
  const calls: { fn: string; event: any }[] = []; // eslint-disable-line @typescript-eslint/no-explicit-any
  const fn = (name: string, answer: (event: any) => InvocationResult) => ({
    // eslint-disable-line @typescript-eslint/no-explicit-any
    invoke: async (event: unknown) => {
      calls.push({ fn: name, event });
      return answer(event);
    },
  });
  const policy = (effect: string): InvocationResult => ({
    ok: true,
    result: { principalId: "s", policyDocument: { Statement: [{ Effect: effect }] } },
  });

  before(async () => {
    gateway = await startWebSocketGateway(
      () => ({
        authorizer: fn("authorizer", (event) => {
          const token = event.queryStringParameters?.token;
          if (!token) return { ok: false, errorType: "Error", errorMessage: "Unauthorized" };
          return policy(token === "good" ? "Allow" : "Deny");
        }),
        connect: fn("connect", () => ({ ok: true, result: { statusCode: 200 } })),
        disconnect: fn("disconnect", () => ({ ok: true, result: { statusCode: 200 } })),
      }),
      "111111111111",
    );
  });
  after(async () => {
    await gateway.stop();
  });

  const post = (connectionId: string, body: string) =>
    fetch(`${gateway.managementEndpoint}/@connections/${connectionId}`, { method: "POST", body });

  it("refuses a connection without a token (401) or with a wrong one (403), before $connect", async () => {
    await assert.rejects(subscribe(gateway.url, ""), /HTTP 401/);
    await assert.rejects(subscribe(gateway.url, "bad"), /HTTP 403/);
    assert.ok(!calls.some((call) => call.fn === "connect"));
  });

  it("connects through the authorizer and $connect, pushes posts to the socket, runs $disconnect on close, then answers 410", async () => {
    const subscriber = await subscribe(gateway.url, "good");
    const connect = calls.find((call) => call.fn === "connect")!;
    const connectionId = connect.event.requestContext.connectionId as string;
    assert.equal(connect.event.requestContext.eventType, "CONNECT");
    assert.match(calls.find((call) => call.fn === "authorizer")!.event.methodArn, /\$connect$/);

    assert.equal((await post(connectionId, '{"events":[]}')).status, 200);
    const deadline = Date.now() + 5_000;
    while (!subscriber.messages.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(subscriber.messages, ['{"events":[]}']);

    subscriber.socket.terminate();
    while (!calls.some((call) => call.fn === "disconnect") && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(
      calls.find((call) => call.fn === "disconnect")!.event.requestContext.connectionId,
      connectionId,
    );
    const gone = await post(connectionId, "{}");
    assert.equal(gone.status, 410);
    assert.equal(gone.headers.get("x-amzn-errortype"), "GoneException");
  });
});
