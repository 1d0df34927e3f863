import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb";
import type { APIGatewayProxyResultV2, APIGatewayProxyWebsocketEventV2, Context } from "aws-lambda";
import { env, logger } from "../consumer-kit";

/** API Gateway closes a WebSocket connection after 2 hours at most; the table forgets it then too. */
export const CONNECTION_TTL_SECONDS = 2 * 60 * 60;

const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));

/**
 * `$connect` of the live feed (reached only after ws-authorizer allowed it): remembers the
 * connection in the connections table (`CONNECTIONS_TABLE`, partition key `connectionId`, TTL
 * attribute `ttl`) so live-feed can push to it. Throwing refuses the connection.
 */
export const handler = async (
  event: APIGatewayProxyWebsocketEventV2,
  context?: Context,
): Promise<APIGatewayProxyResultV2> => {
  if (context) logger.addContext(context);
  const { connectionId, connectedAt } = event.requestContext;
  await documents.send(
    new PutCommand({
      TableName: env("CONNECTIONS_TABLE"),
      Item: { connectionId, connectedAt, ttl: Math.floor(connectedAt / 1000) + CONNECTION_TTL_SECONDS },
    }),
  );
  logger.info("connected", { connectionId });
  return { statusCode: 200 };
};
