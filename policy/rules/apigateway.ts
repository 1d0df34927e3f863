import { listOf } from "../lib/checks";
import { apiLink } from "../lib/links";
import { resourceRule, stackRule } from "../lib/rule";
import { T } from "../lib/types";
import { get, UNKNOWN } from "../lib/values";

const HTTP_ROUTE_KEY = /^(ANY|GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) \//;

/**
 * Which routes can carry authorization. HTTP APIs: every route, `$default` included. WebSocket APIs
 * authorize once, when the connection is made: API Gateway only evaluates authorization on the
 * `$connect` route, so `$disconnect`, `$default` and custom message routes cannot have it (AWS API
 * Gateway developer guide, "Manage connected users and client apps: $connect and $disconnect
 * routes"). Without the route's API in the stack, the route key tells: `$connect` and `$disconnect`
 * only exist in WebSocket APIs, `METHOD /path` only in HTTP APIs; `$default` is undecidable.
 */
function needsAuthorization(protocol: unknown, routeKey: string): boolean | typeof UNKNOWN {
  if (protocol === "WEBSOCKET") return routeKey === "$connect";
  if (protocol === "HTTP") return true;
  if (routeKey === "$connect" || HTTP_ROUTE_KEY.test(routeKey)) return true;
  if (routeKey === "$disconnect") return false;
  if (routeKey === "$default") return UNKNOWN;
  return false; // a WebSocket message route (HTTP route keys are METHOD /path)
}

const AUTHORIZATION_TYPES = ["AWS_IAM", "CUSTOM", "JWT"];

export const apigatewayRouteAuthorization = stackRule({
  name: "apigateway-route-authorization",
  description:
    "API Gateway routes must require authorization: every HTTP API route, and the $connect route of WebSocket APIs (the only one AWS authorizes).",
  enforcementLevel: "mandatory",
  check(stack, context) {
    for (const route of stack.ofType(T.ApiRoute)) {
      const routeKey = route.props.routeKey;
      const authorization = route.props.authorizationType;
      if (routeKey === UNKNOWN) {
        if (!AUTHORIZATION_TYPES.includes(authorization as string)) {
          context.couldNotCheck(
            `API Gateway route ${route.name} routeKey could not be checked during preview.`,
            route.urn,
          );
        }
        continue;
      }
      if (typeof routeKey !== "string") continue;
      const protocol = apiLink(stack, route).targets[0]?.props.protocolType;
      const needed = needsAuthorization(protocol, routeKey);
      if (needed === false || AUTHORIZATION_TYPES.includes(authorization as string)) continue;
      if (needed === UNKNOWN || authorization === UNKNOWN) {
        context.couldNotCheck(
          `API Gateway route ${routeKey} authorization could not be checked during preview.`,
          route.urn,
        );
      } else {
        context.report(
          `API Gateway route ${routeKey} must require authorization (authorizationType is ${String(authorization ?? "unset")}).`,
          route.urn,
        );
      }
    }
  },
});

export const apigatewayStageAccessLogs = resourceRule({
  name: "apigateway-stage-access-logs",
  description:
    "API Gateway stages must write access logs (accessLogSettings with a destination and a format).",
  enforcementLevel: "mandatory",
  types: [T.ApiStage],
  check(stage, context) {
    const settings = stage.props.accessLogSettings;
    const destination = get(settings, "destinationArn");
    const format = get(settings, "format");
    if (settings === UNKNOWN || format === UNKNOWN) {
      context.couldNotCheck("API Gateway stage accessLogSettings could not be checked during preview.");
    } else if (
      (destination !== UNKNOWN && (typeof destination !== "string" || destination.length === 0)) ||
      typeof format !== "string" ||
      format.length === 0
    ) {
      context.report(
        "API Gateway stage must write access logs (accessLogSettings.destinationArn and format).",
      );
    }
  },
});

const THROTTLING_LIMITS = ["throttlingBurstLimit", "throttlingRateLimit"] as const;

export const apigatewayStageThrottling = resourceRule({
  name: "apigateway-stage-throttling",
  description:
    "API Gateway stages should set default route throttling limits so one client cannot exhaust the account's quota.",
  enforcementLevel: "advisory",
  types: [T.ApiStage],
  check(stage, context) {
    const settings = stage.props.defaultRouteSettings;
    const values = THROTTLING_LIMITS.map((key) => get(settings, key));
    if (settings === UNKNOWN || values.includes(UNKNOWN)) {
      context.couldNotCheck("API Gateway stage throttling could not be checked during preview.");
      return;
    }
    const missing = THROTTLING_LIMITS.filter(
      (_, index) => !(typeof values[index] === "number" && (values[index] as number) > 0),
    );
    if (missing.length > 0) {
      context.report(`API Gateway stage defaultRouteSettings must set ${listOf(missing)} above 0.`);
    }
  },
});

/**
 * WebSocket stages log through the account's API Gateway CloudWatch role: without the account
 * setting (`aws.apigateway.Account` with `cloudwatchRoleArn`), creating a stage that logs fails
 * (docs/aws-facts.md#api-gateway). HTTP APIs write access logs without it.
 */
export const apigatewayWebsocketLoggingRole = stackRule({
  name: "apigateway-websocket-logging-role",
  description:
    "A WebSocket API stage must be in an account whose API Gateway settings name a CloudWatch Logs role in the same stack.",
  enforcementLevel: "mandatory",
  check(stack, context) {
    const settings = stack.ofType(T.ApiGatewayAccount);
    const configured = (account: string | undefined) =>
      settings.some(
        (setting) =>
          setting.account === account &&
          (setting.props.cloudwatchRoleArn === UNKNOWN ||
            (typeof setting.props.cloudwatchRoleArn === "string" && setting.props.cloudwatchRoleArn !== "")),
      );
    for (const stage of stack.ofType(T.ApiStage)) {
      const protocol = apiLink(stack, stage).targets[0]?.props.protocolType;
      if (protocol === UNKNOWN) {
        context.couldNotCheck(
          `API Gateway stage ${stage.name} protocol could not be checked during preview.`,
          stage.urn,
        );
        continue;
      }
      if (protocol !== "WEBSOCKET" || configured(stage.account)) continue;
      context.report(
        `WebSocket stage ${stage.name} must be in an account with API Gateway's CloudWatch role set (aws.apigateway.Account cloudwatchRoleArn in account ${stage.account ?? "unknown"}).`,
        stage.urn,
      );
    }
  },
});
