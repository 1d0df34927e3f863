import {
  GetRecommendationsCommand,
  PersonalizeRuntimeClient,
  PersonalizeRuntimeServiceException,
  ResourceNotFoundException,
} from "@aws-sdk/client-personalize-runtime";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { mockClient, type AwsClientStub } from "aws-sdk-client-mock";
import assert from "node:assert/strict";

const CAMPAIGN_ARN = "arn:aws:personalize:eu-west-1:111111111111:campaign/recommendations";

import { handler } from "../../domains/recommendations/handlers/recommendations-api";
import { logger } from "../../runtime/consumer-kit";

function request(userId: string | undefined, query?: Record<string, string>): APIGatewayProxyEventV2 {
  return {
    version: "2.0",
    routeKey: "GET /recommendations/{userId}",
    rawPath: `/recommendations/${userId ?? ""}`,
    rawQueryString: new URLSearchParams(query).toString(),
    headers: {},
    ...(userId === undefined ? {} : { pathParameters: { userId } }),
    ...(query ? { queryStringParameters: query } : {}),
    isBase64Encoded: false,
    requestContext: { requestId: "req-1" },
  } as unknown as APIGatewayProxyEventV2;
}

async function call(event: APIGatewayProxyEventV2) {
  const result = (await handler(event)) as APIGatewayProxyStructuredResultV2;
  return { status: result.statusCode, headers: result.headers, body: JSON.parse(String(result.body)) };
}

describe("recommendations-api", () => {
  // Stubs the prototype's send, which the handler's module-scope client shares: restored after.
  let personalize: AwsClientStub<PersonalizeRuntimeClient>;
  const logLevel = logger.getLevelName();
  before(() => {
    personalize = mockClient(PersonalizeRuntimeClient);
    process.env.CAMPAIGN_ARN = CAMPAIGN_ARN;
    // The handler logs through the kit's module-scope logger: quiet while these tests run.
    logger.setLogLevel("SILENT");
  });
  beforeEach(() => personalize.reset());
  after(() => {
    personalize.restore();
    delete process.env.CAMPAIGN_ARN;
    logger.setLogLevel(logLevel);
  });

  it("returns the user's recommendations with content types from metadata, falling back to the id prefix", async () => {
    personalize.on(GetRecommendationsCommand).resolves({
      itemList: [
        { itemId: "song:s-1", score: 0.41, metadata: { content_type: "song" } },
        { itemId: "e-9", score: 0.3, metadata: { CONTENT_TYPE: "EPISODE" } },
        { itemId: "episode:e-2", score: 0.2 },
        { itemId: "popular-1" },
        { itemId: "song:s-3" },
      ],
    });

    const response = await call(request("u-1", { numResults: "5" }));

    assert.equal(response.status, 200);
    assert.equal(response.headers?.["content-type"], "application/json");
    assert.deepEqual(response.body, {
      userId: "u-1",
      items: [
        { itemId: "song:s-1", contentType: "song", score: 0.41 },
        { itemId: "e-9", contentType: "episode", score: 0.3 },
        { itemId: "episode:e-2", contentType: "episode", score: 0.2 },
        { itemId: "song:s-3", contentType: "song", score: null },
      ],
    });
    assert.deepEqual(personalize.commandCalls(GetRecommendationsCommand)[0]!.args[0].input, {
      campaignArn: CAMPAIGN_ARN,
      userId: "u-1",
      numResults: 5,
      metadataColumns: { ITEMS: ["CONTENT_TYPE"] },
    });
  });

  it("asks for 25 results when numResults is absent", async () => {
    personalize.on(GetRecommendationsCommand).resolves({ itemList: [] });
    const response = await call(request("u-1"));
    assert.equal(response.status, 200);
    assert.deepEqual(response.body, { userId: "u-1", items: [] });
    assert.equal(personalize.commandCalls(GetRecommendationsCommand)[0]!.args[0].input.numResults, 25);
  });

  it("accepts the bounds 1 and 100", async () => {
    personalize.on(GetRecommendationsCommand).resolves({ itemList: [] });
    assert.equal((await call(request("u-1", { numResults: "1" }))).status, 200);
    assert.equal((await call(request("u-1", { numResults: "100" }))).status, 200);
  });

  const badRequests: [string, APIGatewayProxyEventV2, object][] = [
    [
      "a missing userId",
      request(undefined),
      {
        message: "Bad request: userId must be a non-empty user id of at most 256 characters",
        problems: [
          { parameter: "userId", in: "path", expected: "a non-empty user id of at most 256 characters" },
        ],
      },
    ],
    [
      "a userId longer than Personalize accepts",
      request("u".repeat(257)),
      {
        message: "Bad request: userId must be a non-empty user id of at most 256 characters",
        problems: [
          {
            parameter: "userId",
            in: "path",
            expected: "a non-empty user id of at most 256 characters",
            received: "u".repeat(257),
          },
        ],
      },
    ],
    ...["0", "101", "abc", "2.5", "-1", ""].map((value): [string, APIGatewayProxyEventV2, object] => [
      `numResults=${JSON.stringify(value)}`,
      request("u-1", { numResults: value }),
      {
        message: "Bad request: numResults must be an integer from 1 to 100 (default 25)",
        problems: [
          {
            parameter: "numResults",
            in: "query",
            expected: "an integer from 1 to 100 (default 25)",
            received: value,
          },
        ],
      },
    ]),
  ];
  for (const [what, event, body] of badRequests) {
    it(`answers 400 naming the parameter for ${what}`, async () => {
      const response = await call(event);
      assert.equal(response.status, 400);
      assert.deepEqual(response.body, body);
      assert.equal(personalize.commandCalls(GetRecommendationsCommand).length, 0);
    });
  }

  it("names both parameters when both are wrong", async () => {
    const response = await call(request(undefined, { numResults: "500" }));
    assert.equal(response.status, 400);
    assert.deepEqual(
      response.body.problems.map((p: { parameter: string }) => p.parameter),
      ["userId", "numResults"],
    );
  });

  it("answers 429 when Personalize throttles", async () => {
    personalize.on(GetRecommendationsCommand).rejects(
      new PersonalizeRuntimeServiceException({
        name: "ThrottlingException",
        $fault: "client",
        $metadata: { httpStatusCode: 400 },
        message: "Rate exceeded",
      }),
    );
    const response = await call(request("u-1"));
    assert.equal(response.status, 429);
    assert.equal(response.headers?.["Retry-After"], "1");
    assert.deepEqual(response.body, { message: "Too many requests: try again shortly" });
  });

  it("answers 400 when Personalize refuses the request as invalid", async () => {
    personalize.on(GetRecommendationsCommand).rejects(
      new PersonalizeRuntimeServiceException({
        name: "InvalidInputException",
        $fault: "client",
        $metadata: { httpStatusCode: 400 },
        message: "userId is not valid",
      }),
    );
    const response = await call(request("u-1"));
    assert.equal(response.status, 400);
    assert.deepEqual(response.body, { message: "Bad request: userId is not valid" });
  });

  it("answers 500 without leaking the error", async () => {
    personalize
      .on(GetRecommendationsCommand)
      .rejects(
        new ResourceNotFoundException({ $metadata: {}, message: `Campaign ${CAMPAIGN_ARN} does not exist` }),
      );
    const response = await call(request("u-1"));
    assert.equal(response.status, 500);
    assert.deepEqual(response.body, { message: "Internal server error" });
  });
});
