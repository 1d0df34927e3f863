import { strict as assert } from "node:assert";
import { UNKNOWN_STRING } from "../lib/values";
import { ACCOUNTS, edit, mesh, resource } from "../tests/fixtures";
import { messages } from "../tests/harness";
import {
  apigatewayRouteAuthorization,
  apigatewayStageAccessLogs,
  apigatewayStageThrottling,
  apigatewayWebsocketLoggingRole,
} from "./apigateway";

describe("apigateway-route-authorization", () => {
  const policy = apigatewayRouteAuthorization;
  it("passes an authorized $connect and the WebSocket routes AWS cannot authorize, and an authorized HTTP route", async () => {
    assert.deepEqual(await messages(policy, mesh()), []);
  });
  it("rejects a WebSocket $connect without authorization", async () => {
    assert.deepEqual(
      await messages(policy, edit(mesh(), "ws-route-connect", { authorizationType: "NONE" })),
      ["API Gateway route $connect must require authorization (authorizationType is NONE)."],
    );
  });
  it("rejects an HTTP route without authorization", async () => {
    assert.deepEqual(
      await messages(policy, edit(mesh(), "http-route-recommendations", { authorizationType: undefined })),
      ["API Gateway route GET /recommendations must require authorization (authorizationType is unset)."],
    );
  });
  it("rejects an HTTP API's $default route without authorization", async () => {
    const route = resource("aws:apigatewayv2/route:Route", "http-route-default", {
      apiId: "http-api-id",
      routeKey: "$default",
    });
    assert.deepEqual(await messages(policy, [...mesh(), route]), [
      "API Gateway route $default must require authorization (authorizationType is unset).",
    ]);
  });
  it("finds a route's API through property dependencies while apiId is unknown during preview", async () => {
    assert.deepEqual(await messages(policy, edit(mesh(), "ws-route-default", { apiId: UNKNOWN_STRING })), []);
  });
  it("could not check a $default route whose API cannot be found during preview", async () => {
    const resources = edit(
      mesh(),
      "ws-route-default",
      { apiId: UNKNOWN_STRING },
      { propertyDependencies: undefined },
    );
    assert.deepEqual(await messages(policy, resources), [
      "API Gateway route $default authorization could not be checked during preview.",
    ]);
  });
  it("passes $disconnect whatever its API, as only WebSocket APIs have it", async () => {
    assert.deepEqual(
      await messages(policy, edit(mesh(), "ws-route-disconnect", { apiId: UNKNOWN_STRING })),
      [],
    );
  });
});

describe("apigateway-stage-access-logs", () => {
  const policy = apigatewayStageAccessLogs;
  it("passes", async () => assert.deepEqual(await messages(policy, mesh()), []));
  it("rejects a stage without access logs", async () => {
    assert.deepEqual(await messages(policy, edit(mesh(), "ws-stage", { accessLogSettings: undefined })), [
      "API Gateway stage must write access logs (accessLogSettings.destinationArn and format).",
    ]);
  });
  it("passes a log group ARN unknown during preview", async () => {
    const settings = { destinationArn: UNKNOWN_STRING, format: "$context.requestId" };
    assert.deepEqual(await messages(policy, edit(mesh(), "ws-stage", { accessLogSettings: settings })), []);
  });
});

describe("apigateway-stage-throttling", () => {
  const policy = apigatewayStageThrottling;
  it("passes", async () => assert.deepEqual(await messages(policy, mesh()), []));
  it("advises a stage without a rate limit", async () => {
    assert.deepEqual(
      await messages(
        policy,
        edit(mesh(), "ws-stage", { defaultRouteSettings: { throttlingBurstLimit: 100 } }),
      ),
      ["API Gateway stage defaultRouteSettings must set throttlingRateLimit above 0."],
    );
  });
});

describe("apigateway-websocket-logging-role", () => {
  const policy = apigatewayWebsocketLoggingRole;
  const missing = (account: string) =>
    `WebSocket stage ws-stage must be in an account with API Gateway's CloudWatch role set (aws.apigateway.Account cloudwatchRoleArn in account ${account}).`;
  it("passes a WebSocket stage in an account whose API Gateway settings name a CloudWatch role", async () => {
    assert.deepEqual(await messages(policy, mesh()), []);
  });
  it("rejects a WebSocket stage in an account without the setting", async () => {
    const resources = mesh().filter((r) => r.name !== "analytics-apigateway-logging");
    assert.deepEqual(await messages(policy, resources), [missing(ACCOUNTS.analytics)]);
  });
  it("rejects the setting without a role, or in another account", async () => {
    assert.deepEqual(
      await messages(policy, edit(mesh(), "analytics-apigateway-logging", { cloudwatchRoleArn: "" })),
      [missing(ACCOUNTS.analytics)],
    );
    const elsewhere = mesh().map((r) =>
      r.name === "analytics-apigateway-logging" ? { ...r, account: ACCOUNTS.songs } : r,
    );
    assert.deepEqual(await messages(policy, elsewhere), [missing(ACCOUNTS.analytics)]);
  });
  it("leaves HTTP API stages alone: their access logs need no account role", async () => {
    const http = mesh()
      .filter((r) => r.name !== "analytics-apigateway-logging")
      .map((r) => (r.name === "ws-stage" ? { ...r, inputs: { ...r.inputs, apiId: "http-api-id" } } : r));
    assert.deepEqual(await messages(policy, http), []);
  });
});
