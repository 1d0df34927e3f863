import {
  GetRecommendationsCommand,
  PersonalizeRuntimeClient,
  type PredictedItem,
} from "@aws-sdk/client-personalize-runtime";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import { z } from "zod";
import { env, logger } from "../../../runtime/consumer-kit";

/**
 * How a recommended item's content type is known.
 *
 * The campaign is created with `campaignConfig.enableMetadataWithRecommendations: true` and the
 * Items dataset has a categorical `CONTENT_TYPE` column (`song` | `episode`), which every call asks
 * for through `metadataColumns`: the type then comes from the catalogue itself, not from an id
 * format. An item returned without that metadata falls back to the id convention of the merged
 * catalogue, `song:<songId>` / `episode:<episodeId>` (song and episode ids are separate
 * namespaces, so the Items dataset has to prefix them anyway). An item neither identifies is left
 * out of the response and logged, rather than failing the whole request.
 */
export const CONTENT_TYPE_COLUMN = "CONTENT_TYPE";
export const CONTENT_TYPES = ["song", "episode"] as const;
export type ContentType = (typeof CONTENT_TYPES)[number];

export interface RecommendedItem {
  readonly itemId: string;
  readonly contentType: ContentType;
  /** Absent (null) for popularity placeholders that Personalize adds after filtering. */
  readonly score: number | null;
}

export interface RecommendationsResponse {
  readonly userId: string;
  readonly items: readonly RecommendedItem[];
}

const NUM_RESULTS_EXPECTED = "an integer from 1 to 100 (default 25)";

const requestSchema = z.object({
  userId: z
    .string({ error: "a non-empty user id of at most 256 characters" })
    .min(1, { error: "a non-empty user id of at most 256 characters" })
    .max(256, { error: "a non-empty user id of at most 256 characters" }),
  numResults: z
    .string()
    .regex(/^\d{1,3}$/, { error: NUM_RESULTS_EXPECTED })
    .transform(Number)
    .pipe(z.number().int().min(1, { error: NUM_RESULTS_EXPECTED }).max(100, { error: NUM_RESULTS_EXPECTED }))
    .default(25),
});

/** One reason a request was refused: the parameter, where it goes, what was expected, what came. */
export interface ParameterProblem {
  readonly parameter: "userId" | "numResults";
  readonly in: "path" | "query";
  readonly expected: string;
  readonly received?: string;
}

const personalize = new PersonalizeRuntimeClient({});

/**
 * `GET /recommendations/{userId}?numResults=N` on the HTTP API (payload format 2.0): the user's
 * recommendations from the Personalize campaign `CAMPAIGN_ARN`.
 *
 * 400 names each bad parameter and what it expects; 429 when Personalize throttles (after the SDK's
 * own retries); 500 for anything else, with the details only in the logs.
 */
export const handler = async (
  event: APIGatewayProxyEventV2,
  context?: Context,
): Promise<APIGatewayProxyStructuredResultV2> => {
  if (context) logger.addContext(context);
  const raw = { userId: event.pathParameters?.userId, numResults: event.queryStringParameters?.numResults };
  const parsed = requestSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue): ParameterProblem => {
      const parameter = issue.path[0] === "numResults" ? "numResults" : "userId";
      return {
        parameter,
        in: parameter === "userId" ? "path" : "query",
        expected: issue.message,
        ...(raw[parameter] === undefined ? {} : { received: raw[parameter] }),
      };
    });
    logger.info("bad request", { problems });
    const summary = problems.map((p) => `${p.parameter} must be ${p.expected}`).join("; ");
    return json(400, { message: `Bad request: ${summary}`, problems });
  }
  const { userId, numResults } = parsed.data;
  try {
    const { itemList = [] } = await personalize.send(
      new GetRecommendationsCommand({
        campaignArn: env("CAMPAIGN_ARN"),
        userId,
        numResults,
        metadataColumns: { ITEMS: [CONTENT_TYPE_COLUMN] },
      }),
    );
    return json(200, { userId, items: toItems(itemList) } satisfies RecommendationsResponse);
  } catch (error) {
    if (isThrottling(error)) {
      logger.warn("Personalize throttled GetRecommendations", { error: error as Error });
      return json(429, { message: "Too many requests: try again shortly" }, { "Retry-After": "1" });
    }
    // Personalize refuses the request itself (e.g. a user id it cannot take): the caller's to fix.
    if ((error as { name?: string }).name === "InvalidInputException") {
      logger.info("Personalize refused the request as invalid", { error: error as Error });
      return json(400, { message: `Bad request: ${(error as Error).message}` });
    }
    logger.error("GetRecommendations failed", { error: error as Error });
    return json(500, { message: "Internal server error" });
  }
};

export function toItems(itemList: readonly PredictedItem[]): RecommendedItem[] {
  const items: RecommendedItem[] = [];
  for (const item of itemList) {
    const contentType = item.itemId ? contentTypeOf(item) : undefined;
    if (!item.itemId || !contentType) {
      logger.warn("recommended item without a known content type left out", { itemId: item.itemId });
      continue;
    }
    items.push({ itemId: item.itemId, contentType, score: item.score ?? null });
  }
  return items;
}

/** From the item's `CONTENT_TYPE` metadata if present, else from its `song:` / `episode:` prefix. */
export function contentTypeOf(item: PredictedItem): ContentType | undefined {
  // Personalize may echo column names in another case than the schema's.
  const fromMetadata = Object.entries(item.metadata ?? {})
    .find(([column]) => column.toUpperCase() === CONTENT_TYPE_COLUMN)?.[1]
    ?.trim()
    .toLowerCase();
  if (isContentType(fromMetadata)) return fromMetadata;
  const prefix = item.itemId?.slice(0, item.itemId.indexOf(":"));
  return isContentType(prefix) ? prefix : undefined;
}

function isContentType(value: string | undefined): value is ContentType {
  return (CONTENT_TYPES as readonly (string | undefined)[]).includes(value);
}

/**
 * Personalize Runtime models no throttling error, so it arrives as an unmodelled
 * `ThrottlingException` (or a bare HTTP 429) once the SDK's retries are spent.
 */
function isThrottling(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const e = error as {
    name?: string;
    $metadata?: { httpStatusCode?: number };
    $retryable?: { throttling?: boolean };
  };
  return (
    e.name === "ThrottlingException" ||
    e.name === "TooManyRequestsException" ||
    e.$metadata?.httpStatusCode === 429 ||
    e.$retryable?.throttling === true
  );
}

function json(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode,
    headers: { "content-type": "application/json", "cache-control": "no-store", ...headers },
    body: JSON.stringify(body),
  };
}
