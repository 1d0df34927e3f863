import { DeleteCommand, DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb";
import type { APIGatewayProxyWebsocketEventV2, APIGatewayRequestAuthorizerEvent } from "aws-lambda";
import { mockClient, type AwsClientStub } from "aws-sdk-client-mock";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";

const TOKEN = "a-long-random-shared-token";

import { handler as authorize } from "../../runtime/push/authorizer";
import { handler as connect } from "../../runtime/push/connect";
import { handler as disconnect } from "../../runtime/push/disconnect";
import { logger } from "../../runtime/consumer-kit";

const METHOD_ARN = "arn:aws:execute-api:eu-west-1:222222222222:abc123/live/$connect";

function authorizerEvent(
  query: Record<string, string> | null,
  headers: Record<string, string> | null = null,
): APIGatewayRequestAuthorizerEvent {
  return {
    type: "REQUEST",
    methodArn: METHOD_ARN,
    headers,
    queryStringParameters: query,
  } as unknown as APIGatewayRequestAuthorizerEvent;
}

function policyOf(effect: "Allow" | "Deny") {
  return {
    principalId: "live-feed-subscriber",
    policyDocument: {
      Version: "2012-10-17",
      Statement: [{ Action: "execute-api:Invoke", Effect: effect, Resource: METHOD_ARN }],
    },
  };
}

function websocketEvent(eventType: "CONNECT" | "DISCONNECT"): APIGatewayProxyWebsocketEventV2 {
  return {
    isBase64Encoded: false,
    requestContext: {
      routeKey: eventType === "CONNECT" ? "$connect" : "$disconnect",
      eventType,
      connectionId: "Jx1abcDEF=",
      connectedAt: 1_760_000_000_123,
      requestId: "r-1",
      apiId: "abc123",
      stage: "live",
      domainName: "abc123.execute-api.eu-west-1.amazonaws.com",
    },
  } as unknown as APIGatewayProxyWebsocketEventV2;
}

describe("WebSocket handlers of the live feed", () => {
  const logLevel = logger.getLevelName();
  before(() => {
    process.env.PUSH_TOKEN_SHA256 = createHash("sha256").update(TOKEN).digest("hex");
    process.env.CONNECTIONS_TABLE = "live-feed-connections";
    // The handlers log through the kit's module-scope logger: quiet while these tests run.
    logger.setLogLevel("SILENT");
  });
  after(() => {
    delete process.env.PUSH_TOKEN_SHA256;
    delete process.env.CONNECTIONS_TABLE;
    logger.setLogLevel(logLevel);
  });

  describe("ws-authorizer", () => {
    it("allows the token from the query string", async () => {
      assert.deepEqual(await authorize(authorizerEvent({ token: TOKEN })), policyOf("Allow"));
    });

    it("allows the token from a Bearer Authorization header", async () => {
      assert.deepEqual(
        await authorize(authorizerEvent(null, { Authorization: `Bearer ${TOKEN}` })),
        policyOf("Allow"),
      );
    });

    it("denies an invalid token", async () => {
      assert.deepEqual(await authorize(authorizerEvent({ token: `${TOKEN}x` })), policyOf("Deny"));
      assert.deepEqual(
        await authorize(authorizerEvent(null, { authorization: "Bearer nope" })),
        policyOf("Deny"),
      );
    });

    it("answers Unauthorized (401) without a token", async () => {
      await assert.rejects(authorize(authorizerEvent(null)), { message: "Unauthorized" });
      await assert.rejects(authorize(authorizerEvent({ token: "" }, { Authorization: "Bearer " })), {
        message: "Unauthorized",
      });
    });

    it("denies everyone when the configured digest is malformed", async () => {
      const saved = process.env.PUSH_TOKEN_SHA256;
      process.env.PUSH_TOKEN_SHA256 = "not-a-digest";
      try {
        assert.deepEqual(await authorize(authorizerEvent({ token: TOKEN })), policyOf("Deny"));
      } finally {
        process.env.PUSH_TOKEN_SHA256 = saved;
      }
    });
  });

  describe("ws-connect and ws-disconnect", () => {
    // Stubs the prototype's send, which the handlers' module-scope clients share: restored after.
    let dynamo: AwsClientStub<DynamoDBDocumentClient>;
    before(() => {
      dynamo = mockClient(DynamoDBDocumentClient);
    });
    beforeEach(() => dynamo.reset());
    after(() => dynamo.restore());

    it("stores the connection with its connection time and a 2-hour TTL", async () => {
      dynamo.on(PutCommand).resolves({});
      assert.deepEqual(await connect(websocketEvent("CONNECT")), { statusCode: 200 });
      assert.deepEqual(
        dynamo.commandCalls(PutCommand).map((c) => c.args[0].input),
        [
          {
            TableName: "live-feed-connections",
            Item: { connectionId: "Jx1abcDEF=", connectedAt: 1_760_000_000_123, ttl: 1_760_000_000 + 7200 },
          },
        ],
      );
    });

    it("refuses the connection when it cannot be stored", async () => {
      dynamo.on(PutCommand).rejects(new Error("throttled"));
      await assert.rejects(connect(websocketEvent("CONNECT")), { message: "throttled" });
    });

    it("deletes the connection on disconnect", async () => {
      dynamo.on(DeleteCommand).resolves({});
      assert.deepEqual(await disconnect(websocketEvent("DISCONNECT")), { statusCode: 200 });
      assert.deepEqual(
        dynamo.commandCalls(DeleteCommand).map((c) => c.args[0].input),
        [{ TableName: "live-feed-connections", Key: { connectionId: "Jx1abcDEF=" } }],
      );
    });
  });
});
