import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { join } from "node:path";
import type { Statement } from "../platform/iam";
import { MeshFunction } from "./lambda";

export const PUSH_CHANNEL_TYPE = "mesh:consumer:PushChannel";

const PUSH_RUNTIME = join(__dirname, "..", "runtime", "push");
const STAGE = "live";

export interface PushChannelArgs {
  /** Prefix of physical names (`<prefix>-connections`, `<prefix>-connect`, ...). */
  readonly namePrefix: string;
  readonly accountId: string;
  readonly region: string;
  /** Hex SHA-256 of the token subscribers present on `$connect`. */
  readonly tokenSha256: pulumi.Input<string>;
  readonly dataKeyArn: pulumi.Input<string>;
  readonly alarmTopicArn: pulumi.Input<string>;
  /** The account's API Gateway logging setting (ApiGatewayLogging), which the stage's logs need first. */
  readonly apiGatewayLogging: pulumi.Resource;
  /** Steady-state messages per second across all connections. @default 100 */
  readonly throttlingRateLimit?: number;
  /** @default 200 */
  readonly throttlingBurstLimit?: number;
  /** Protect and retain the connections table (prod). @default false */
  readonly protect?: boolean;
  readonly tags: Readonly<Record<string, string>>;
}

/**
 * The "fan-out to subscribers without replay" access pattern (seed 004): an API Gateway WebSocket
 * API whose `$connect` is authorised by a Lambda authorizer, a table of open connections, and what
 * the broadcasting function needs to post to them. Delivery is at-most-once by design: a client
 * that is not connected when a record is broadcast never receives it, and cannot replay.
 */
export class PushChannel extends pulumi.ComponentResource {
  /** `wss://` URL subscribers connect to. */
  public readonly endpoint: pulumi.Output<string>;
  /** Environment of the broadcasting function (connections table, management endpoint). */
  public readonly broadcasterEnvironment: Record<string, pulumi.Output<string>>;
  /** What the broadcasting function may do: post to connections, list and forget them. */
  public readonly broadcasterStatements: Statement[];

  constructor(name: string, args: PushChannelArgs, opts: pulumi.ComponentResourceOptions) {
    super(PUSH_CHANNEL_TYPE, name, {}, opts);
    const parent = { parent: this };
    const tags = { ...args.tags };

    const connections = new aws.dynamodb.Table(
      `${name}-connections`,
      {
        name: `${args.namePrefix}-connections`,
        billingMode: "PAY_PER_REQUEST",
        hashKey: "connectionId",
        attributes: [{ name: "connectionId", type: "S" }],
        ttl: { attributeName: "ttl", enabled: true },
        serverSideEncryption: { enabled: true, kmsKeyArn: args.dataKeyArn },
        // Connections are short-lived, but every mesh table can be restored (dynamodb-point-in-time-recovery).
        pointInTimeRecovery: { enabled: true },
        deletionProtectionEnabled: args.protect ?? false,
        tags,
      },
      args.protect ? { parent: this, protect: true, retainOnDelete: true } : parent,
    );
    const tableAccess = (sidName: string, actions: string[]): Statement => ({
      Sid: sidName,
      Effect: "Allow",
      Action: actions,
      Resource: connections.arn,
    });
    const useTableKey: Statement = {
      Sid: "UseTableKey",
      Effect: "Allow",
      Action: ["kms:GenerateDataKey", "kms:Decrypt"],
      Resource: args.dataKeyArn,
    };

    const api = new aws.apigatewayv2.Api(
      `${name}-api`,
      {
        name: args.namePrefix,
        protocolType: "WEBSOCKET",
        routeSelectionExpression: "$request.body.action",
        description: "Live feed: records pushed to connected clients, at most once, without replay",
        tags,
      },
      parent,
    );
    const handler = (
      suffix: string,
      file: string,
      statements: Statement[],
      environment: Record<string, pulumi.Input<string>>,
    ) =>
      new MeshFunction(
        `${name}-${suffix}`,
        {
          functionName: `${args.namePrefix}-${suffix}`,
          roleName: `${args.namePrefix}-${suffix}`,
          entry: join(PUSH_RUNTIME, file),
          description: `WebSocket ${suffix} of ${args.namePrefix}`,
          accountId: args.accountId,
          region: args.region,
          statements,
          environment,
          timeoutSeconds: 10,
          memoryMb: 256,
          tags,
        },
        parent,
      );
    const authorizerFn = handler("authorizer", "authorizer.ts", [], { PUSH_TOKEN_SHA256: args.tokenSha256 });
    const connectFn = handler(
      "connect",
      "connect.ts",
      [tableAccess("RegisterConnection", ["dynamodb:PutItem"]), useTableKey],
      {
        CONNECTIONS_TABLE: connections.name,
      },
    );
    const disconnectFn = handler(
      "disconnect",
      "disconnect.ts",
      [tableAccess("ForgetConnection", ["dynamodb:DeleteItem"]), useTableKey],
      { CONNECTIONS_TABLE: connections.name },
    );

    const invokedBy = (suffix: string, fn: MeshFunction, sourceArn: pulumi.Input<string>) =>
      new aws.lambda.Permission(
        `${name}-${suffix}-invoke`,
        {
          function: fn.functionName,
          action: "lambda:InvokeFunction",
          principal: "apigateway.amazonaws.com",
          sourceArn,
          sourceAccount: args.accountId,
        },
        parent,
      );
    // No identity sources: the token may come from the query string or the Authorization header,
    // and API Gateway would refuse a request lacking any declared source before asking the authorizer.
    const authorizer = new aws.apigatewayv2.Authorizer(
      `${name}-authorizer`,
      {
        apiId: api.id,
        name: `${args.namePrefix}-token`,
        authorizerType: "REQUEST",
        authorizerUri: authorizerFn.invokeArn,
      },
      parent,
    );
    invokedBy(
      "authorizer",
      authorizerFn,
      pulumi.interpolate`${api.executionArn}/authorizers/${authorizer.id}`,
    );

    const route = (
      routeKey: string,
      fn: MeshFunction,
      suffix: string,
      auth: Partial<aws.apigatewayv2.RouteArgs>,
    ) => {
      const integration = new aws.apigatewayv2.Integration(
        `${name}-${suffix}-integration`,
        {
          apiId: api.id,
          integrationType: "AWS_PROXY",
          integrationUri: fn.invokeArn,
          integrationMethod: "POST",
        },
        parent,
      );
      invokedBy(suffix, fn, pulumi.interpolate`${api.executionArn}/*/${routeKey}`);
      return new aws.apigatewayv2.Route(
        `${name}-${suffix}-route`,
        { apiId: api.id, routeKey, target: pulumi.interpolate`integrations/${integration.id}`, ...auth },
        parent,
      );
    };
    const connectRoute = route("$connect", connectFn, "connect", {
      authorizationType: "CUSTOM",
      authorizerId: authorizer.id,
    });
    // API Gateway only allows an authorizer on $connect; $disconnect is called by API Gateway itself
    // for a connection that was authorised when it opened.
    const disconnectRoute = route("$disconnect", disconnectFn, "disconnect", { authorizationType: "NONE" });

    const accessLogs = new aws.cloudwatch.LogGroup(
      `${name}-access-logs`,
      { name: `/aws/apigateway/${args.namePrefix}`, retentionInDays: 30, tags },
      parent,
    );
    const stage = new aws.apigatewayv2.Stage(
      `${name}-stage`,
      {
        apiId: api.id,
        name: STAGE,
        autoDeploy: true,
        accessLogSettings: {
          destinationArn: accessLogs.arn,
          format: JSON.stringify({
            requestId: "$context.requestId",
            ip: "$context.identity.sourceIp",
            routeKey: "$context.routeKey",
            status: "$context.status",
            connectionId: "$context.connectionId",
            error: "$context.error.message",
            authorizerError: "$context.authorizer.error",
          }),
        },
        defaultRouteSettings: {
          throttlingRateLimit: args.throttlingRateLimit ?? 100,
          throttlingBurstLimit: args.throttlingBurstLimit ?? 200,
          loggingLevel: "ERROR",
        },
        tags,
      },
      { parent: this, dependsOn: [connectRoute, disconnectRoute, args.apiGatewayLogging] },
    );

    new aws.cloudwatch.MetricAlarm(
      `${name}-integration-errors`,
      {
        namespace: "AWS/ApiGateway",
        metricName: "IntegrationError",
        dimensions: { ApiId: api.id, Stage: STAGE },
        statistic: "Sum",
        comparisonOperator: "GreaterThanThreshold",
        threshold: 0,
        period: 300,
        evaluationPeriods: 1,
        treatMissingData: "notBreaching",
        alarmActions: [args.alarmTopicArn],
        alarmDescription: `Connecting to or disconnecting from ${args.namePrefix} fails.`,
        tags,
      },
      parent,
    );

    this.endpoint = pulumi.interpolate`wss://${api.id}.execute-api.${args.region}.amazonaws.com/${stage.name}`;
    this.broadcasterEnvironment = {
      CONNECTIONS_TABLE: connections.name,
      WEBSOCKET_ENDPOINT: pulumi.interpolate`https://${api.id}.execute-api.${args.region}.amazonaws.com/${stage.name}`,
    };
    this.broadcasterStatements = [
      {
        Sid: "PostToConnections",
        Effect: "Allow",
        Action: ["execute-api:ManageConnections"],
        Resource: pulumi.interpolate`${api.executionArn}/${stage.name}/POST/@connections/*`,
      },
      // The table's key comes with the consumer domain's data key grant.
      tableAccess("ListAndForgetConnections", ["dynamodb:Scan", "dynamodb:DeleteItem"]),
    ];
    this.registerOutputs({ endpoint: this.endpoint });
  }
}
