import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DeleteCommand, DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { APIGatewayProxyResultV2, APIGatewayProxyWebsocketEventV2, Context } from "aws-lambda";
import { env, logger } from "../consumer-kit";

const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));

/**
 * `$disconnect` of the live feed: forgets the connection. API Gateway delivers it on a best-effort
 * basis, so live-feed also deletes connections that answer 410 Gone and the table's TTL sweeps the
 * rest.
 */
export const handler = async (
  event: APIGatewayProxyWebsocketEventV2,
  context?: Context,
): Promise<APIGatewayProxyResultV2> => {
  if (context) logger.addContext(context);
  const { connectionId } = event.requestContext;
  await documents.send(new DeleteCommand({ TableName: env("CONNECTIONS_TABLE"), Key: { connectionId } }));
  logger.info("disconnected", { connectionId });
  return { statusCode: 200 };
};
