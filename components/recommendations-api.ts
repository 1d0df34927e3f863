import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { join } from "node:path";
import { MeshFunction } from "./lambda";

export const RECOMMENDATIONS_API_TYPE = "mesh:recommendations:RecommendationsApi";

/** The one route of the API. There is deliberately no `$default` catch-all route. */
export const RECOMMENDATIONS_ROUTE_KEY = "GET /recommendations/{userId}";

/** The handler the API's function bundles. */
export const RECOMMENDATIONS_API_HANDLER = join(
  __dirname,
  "..",
  "domains",
  "recommendations",
  "handlers",
  "recommendations-api.ts",
);

/**
 * One access log line per request, JSON. `userArn` is the SigV4 caller (IAM authorization), so the
 * log says who asked; `integrationError` explains a 5XX that the function did not answer itself.
 */
export const ACCESS_LOG_FORMAT = JSON.stringify({
  requestId: "$context.requestId",
  requestTime: "$context.requestTime",
  ip: "$context.identity.sourceIp",
  userArn: "$context.identity.userArn",
  routeKey: "$context.routeKey",
  status: "$context.status",
  protocol: "$context.protocol",
  responseLength: "$context.responseLength",
  latency: "$context.responseLatency",
  integrationLatency: "$context.integrationLatency",
  integrationError: "$context.integrationErrorMessage",
  error: "$context.error.message",
});

/** Seconds the function may run; the integration waits a little longer so a timeout is the function's. */
const FUNCTION_TIMEOUT_SECONDS = 10;
const INTEGRATION_TIMEOUT_MS = 12_000;

export interface RecommendationsApiArgs {
  /** The recommendations account (the function's role trusts Lambda only from it). */
  readonly accountId: string;
  readonly region: string;
  /**
   * Physical name of the HTTP API, its function and the function's execution role; prefix of the
   * access log group and the alarms.
   */
  readonly physicalName: string;
  /** The Personalize campaign the API serves (`CAMPAIGN_ARN`); the function may call nothing else. */
  readonly campaignArn: pulumi.Input<string>;
  /** Where the 5XX and latency alarms notify. */
  readonly alarmTopicArn: pulumi.Input<string>;
  readonly tags: Readonly<Record<string, string>>;
  /**
   * Requests per second across all callers (stage default route throttling). Keep it within what
   * the campaign can serve: Personalize scales above `minProvisionedTps` but bills for it.
   * @default 50
   */
  readonly throttlingRateLimit?: number;
  /**
   * Requests the stage accepts in a burst above the rate.
   * @default 100
   */
  readonly throttlingBurstLimit?: number;
  /**
   * Days the access logs are kept.
   * @default 30
   */
  readonly accessLogRetentionDays?: number;
  /**
   * 5XX responses in five minutes that raise the server-errors alarm.
   * @default 5
   */
  readonly serverErrorThreshold?: number;
  /**
   * p99 latency (ms) that raises the latency alarm when exceeded in 3 of 5 minutes.
   * @default 1000
   */
  readonly p99LatencyThresholdMs?: number;
}

/**
 * The Personalized Recommendations API (step 6 of the data-at-rest architecture): an API Gateway
 * HTTP API with the single route `GET /recommendations/{userId}`, proxied (payload format 2.0) to a
 * function that calls GetRecommendations on the campaign.
 *
 * Authorization is `AWS_IAM`: callers are the company's services, which sign requests with SigV4
 * and need `execute-api:Invoke` on `<executionArn>/<stage>/GET/recommendations/<userId>`. HTTP
 * APIs have no resource policies, so a caller in another account assumes a role in the
 * recommendations account that grants it (created by whoever declares the callers; this component
 * names none). There is no `$default` route and no CORS: nothing reaches the function without a
 * signed request.
 *
 * The `$default` stage deploys automatically, writes JSON access logs to its own log group and
 * throttles every route; alarms on 5XX responses and p99 latency notify the domain's topic.
 */
export class RecommendationsApi extends pulumi.ComponentResource {
  public readonly apiEndpoint: pulumi.Output<string>;
  public readonly apiId: pulumi.Output<string>;
  /** `arn:aws:execute-api:<region>:<account>:<apiId>`: prefix of the ARNs IAM policies grant. */
  public readonly executionArn: pulumi.Output<string>;
  public readonly functionName: pulumi.Output<string>;

  constructor(name: string, args: RecommendationsApiArgs, opts: pulumi.ComponentResourceOptions) {
    if (!opts.provider) {
      throw new Error(`RecommendationsApi ${name}: a provider for account ${args.accountId} is required`);
    }
    const rate = args.throttlingRateLimit ?? 50;
    const burst = args.throttlingBurstLimit ?? 100;
    if (!(rate > 0)) {
      throw new Error(`RecommendationsApi ${name}: throttlingRateLimit must be positive, is ${rate}`);
    }
    if (!(Number.isInteger(burst) && burst > 0)) {
      throw new Error(
        `RecommendationsApi ${name}: throttlingBurstLimit must be a positive integer, is ${burst}`,
      );
    }
    super(RECOMMENDATIONS_API_TYPE, name, {}, opts);

    const tags = { ...args.tags };
    const fn = new MeshFunction(
      `${name}-handler`,
      {
        functionName: args.physicalName,
        roleName: args.physicalName,
        entry: RECOMMENDATIONS_API_HANDLER,
        description: "Serves GET /recommendations/{userId} from the Personalize campaign",
        accountId: args.accountId,
        region: args.region,
        statements: [
          {
            // Item metadata (CONTENT_TYPE) comes back with the recommendations: no dataset access needed.
            Sid: "GetRecommendationsFromCampaign",
            Effect: "Allow",
            Action: "personalize:GetRecommendations",
            Resource: args.campaignArn,
          },
        ],
        environment: { CAMPAIGN_ARN: args.campaignArn },
        timeoutSeconds: FUNCTION_TIMEOUT_SECONDS,
        memoryMb: 256,
        tags,
      },
      { parent: this },
    );

    const api = new aws.apigatewayv2.Api(
      `${name}-http`,
      {
        name: args.physicalName,
        description: "Personalized song and podcast recommendations (IAM-authorized callers only)",
        protocolType: "HTTP",
        tags,
      },
      { parent: this },
    );
    const integration = new aws.apigatewayv2.Integration(
      `${name}-integration`,
      {
        apiId: api.id,
        integrationType: "AWS_PROXY",
        integrationMethod: "POST",
        integrationUri: fn.invokeArn,
        payloadFormatVersion: "2.0",
        timeoutMilliseconds: INTEGRATION_TIMEOUT_MS,
      },
      { parent: this },
    );
    const route = new aws.apigatewayv2.Route(
      `${name}-route`,
      {
        apiId: api.id,
        routeKey: RECOMMENDATIONS_ROUTE_KEY,
        authorizationType: "AWS_IAM",
        target: pulumi.interpolate`integrations/${integration.id}`,
      },
      { parent: this },
    );
    new aws.lambda.Permission(
      `${name}-invoke`,
      {
        action: "lambda:InvokeFunction",
        function: fn.functionName,
        principal: "apigateway.amazonaws.com",
        // Any stage, this method and path only: no other API or route can invoke the function.
        sourceArn: pulumi.interpolate`${api.executionArn}/*/GET/recommendations/*`,
      },
      { parent: this },
    );

    const accessLogs = new aws.cloudwatch.LogGroup(
      `${name}-access-logs`,
      {
        name: `/aws/apigateway/${args.physicalName}`,
        retentionInDays: args.accessLogRetentionDays ?? 30,
        tags,
      },
      { parent: this },
    );
    new aws.apigatewayv2.Stage(
      `${name}-stage`,
      {
        apiId: api.id,
        name: "$default",
        autoDeploy: true,
        accessLogSettings: { destinationArn: accessLogs.arn, format: ACCESS_LOG_FORMAT },
        defaultRouteSettings: { throttlingRateLimit: rate, throttlingBurstLimit: burst },
        tags,
      },
      // The first automatic deployment must already contain the route.
      { parent: this, dependsOn: [route] },
    );

    createAlarms(name, args, api.id, this);

    this.apiEndpoint = api.apiEndpoint;
    this.apiId = api.id;
    this.executionArn = api.executionArn;
    this.functionName = fn.functionName;
    this.registerOutputs({
      apiEndpoint: this.apiEndpoint,
      apiId: this.apiId,
      executionArn: this.executionArn,
      functionName: this.functionName,
    });
  }
}

/** @internal Server errors and p99 latency of the API, to the domain's alarm topic. */
export function createAlarms(
  name: string,
  args: RecommendationsApiArgs,
  apiId: pulumi.Output<string>,
  parent: pulumi.Resource,
): aws.cloudwatch.MetricAlarm[] {
  const common = {
    namespace: "AWS/ApiGateway",
    dimensions: { ApiId: apiId },
    treatMissingData: "notBreaching",
    alarmActions: [args.alarmTopicArn],
    okActions: [args.alarmTopicArn],
    tags: { ...args.tags },
  };
  return [
    new aws.cloudwatch.MetricAlarm(
      `${name}-server-errors`,
      {
        ...common,
        name: `${args.physicalName}-5xx`,
        alarmDescription: `${args.physicalName} answers with 5XX: see integrationError in the access logs and the function's logs.`,
        metricName: "5xx",
        statistic: "Sum",
        period: 300,
        evaluationPeriods: 1,
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        threshold: args.serverErrorThreshold ?? 5,
      },
      { parent },
    ),
    new aws.cloudwatch.MetricAlarm(
      `${name}-p99-latency`,
      {
        ...common,
        name: `${args.physicalName}-p99-latency`,
        alarmDescription: `${args.physicalName} p99 latency is high: Personalize may be throttling the campaign or the function is cold-starting.`,
        metricName: "Latency",
        extendedStatistic: "p99",
        // A handful of requests says little about a percentile.
        evaluateLowSampleCountPercentiles: "ignore",
        period: 60,
        evaluationPeriods: 5,
        datapointsToAlarm: 3,
        comparisonOperator: "GreaterThanThreshold",
        threshold: args.p99LatencyThresholdMs ?? 1000,
      },
      { parent },
    ),
  ];
}
