import { createHash, timingSafeEqual } from "node:crypto";
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent, Context } from "aws-lambda";
import { env, logger } from "../consumer-kit";

/** The principal every holder of the shared token is authorised as. */
export const PRINCIPAL_ID = "live-feed-subscriber";

/**
 * Lambda REQUEST authorizer of the live feed's WebSocket `$connect` route.
 *
 * The subscriber presents a token in the `token` query string parameter (browsers cannot set
 * headers on a WebSocket handshake) or in the `Authorization` header (`Bearer <token>` or the bare
 * token). It is compared with `PUSH_TOKEN_SHA256`, the hex SHA-256 of the shared secret: the
 * environment holds only a hash, and comparing two 32-byte digests with `timingSafeEqual` takes the
 * same time whatever the token's content or length.
 *
 * A shared secret suits an internal dashboard. A production feed for end users would authorise with
 * a Cognito user pool (or any OIDC provider) instead: verify the JWT's signature, issuer, audience
 * and expiry (e.g. `aws-jwt-verify`) and use its subject as the principal.
 *
 * No token: throws `Unauthorized` (API Gateway answers 401). Wrong token: a Deny policy (403).
 * Since the token may come from either place, declare the authorizer without identity sources:
 * API Gateway would otherwise refuse, before calling it, a request lacking any one of them.
 */
export const handler = async (
  event: APIGatewayRequestAuthorizerEvent,
  context?: Context,
): Promise<APIGatewayAuthorizerResult> => {
  if (context) logger.addContext(context);
  const token = tokenOf(event);
  if (token === undefined) {
    logger.info("connection refused: no token", { methodArn: event.methodArn });
    throw new Error("Unauthorized");
  }
  const allowed = matchesHash(token, env("PUSH_TOKEN_SHA256"));
  if (!allowed) logger.warn("connection refused: invalid token", { methodArn: event.methodArn });
  return policy(allowed ? "Allow" : "Deny", event.methodArn);
};

function tokenOf(event: APIGatewayRequestAuthorizerEvent): string | undefined {
  const fromQuery = event.queryStringParameters?.token?.trim();
  if (fromQuery) return fromQuery;
  const header = Object.entries(event.headers ?? {}).find(
    ([name]) => name.toLowerCase() === "authorization",
  )?.[1];
  const fromHeader = header?.replace(/^Bearer\s+/i, "").trim();
  return fromHeader || undefined;
}

/** Constant-time comparison of the token's SHA-256 with the expected hex digest. */
export function matchesHash(token: string, expectedSha256Hex: string): boolean {
  const expected = Buffer.from(expectedSha256Hex.trim().toLowerCase(), "hex");
  // A misconfigured digest (wrong length, not hex) must refuse everyone, not throw per request.
  if (expected.length !== 32) {
    logger.error("PUSH_TOKEN_SHA256 is not a 64-character hex SHA-256 digest");
    return false;
  }
  return timingSafeEqual(createHash("sha256").update(token, "utf8").digest(), expected);
}

function policy(effect: "Allow" | "Deny", methodArn: string): APIGatewayAuthorizerResult {
  return {
    principalId: PRINCIPAL_ID,
    policyDocument: {
      Version: "2012-10-17",
      Statement: [{ Action: "execute-api:Invoke", Effect: effect, Resource: methodArn }],
    },
  };
}
