import type { PolicyConfigSchema } from "@pulumi/policy";
import { z } from "zod";

/** Runtimes the platform supports; anything else is deprecated or untested. */
export const DEFAULT_ALLOWED_RUNTIMES = [
  "nodejs20.x",
  "nodejs22.x",
  "nodejs24.x",
  "python3.12",
  "python3.13",
  "python3.14",
] as const;

/**
 * Actions that may be granted on `Resource: "*"`, each with the reason it cannot be scoped. From
 * docs/aws-facts.md#firehose-and-personalize and the Service Authorization Reference (actions without resource types).
 */
export const DEFAULT_WILDCARD_RESOURCE_ACTIONS = [
  {
    action: "personalize:PutEvents",
    reason: 'PutEvents requires Resource "*" (docs/aws-facts.md: documented exception for event trackers)',
  },
  { action: "xray:PutTraceSegments", reason: "X-Ray PutTraceSegments has no resource-level permissions" },
  {
    action: "xray:PutTelemetryRecords",
    reason: "X-Ray PutTelemetryRecords has no resource-level permissions",
  },
  {
    action: "lakeformation:GetDataAccess",
    reason: "Lake Formation credential vending has no resource-level permissions; grants decide what is read",
  },
  {
    action: "cloudwatch:PutMetricData",
    reason: "PutMetricData has no resource-level permissions (scope it with cloudwatch:namespace)",
  },
  ...[
    "DescribeNetworkInterfaces",
    "DescribeSecurityGroups",
    "DescribeSubnets",
    "DescribeVpcAttribute",
    "DescribeVpcEndpoints",
    "DescribeRouteTables",
  ].map((name) => ({
    action: `ec2:${name}`,
    reason: `ec2:${name} has no resource-level permissions; Glue jobs that run through a connection's VPC call it (docs/etl.md)`,
  })),
  ...["GetSamplingRules", "GetSamplingTargets"].map((name) => ({
    action: `xray:${name}`,
    reason: `X-Ray ${name} has no resource-level permissions (Step Functions tracing, docs/personalize-training.md)`,
  })),
  ...[
    "CreateLogDelivery",
    "GetLogDelivery",
    "UpdateLogDelivery",
    "DeleteLogDelivery",
    "ListLogDeliveries",
    "PutResourcePolicy",
    "DescribeResourcePolicies",
    "DescribeLogGroups",
  ].map((name) => ({
    action: `logs:${name}`,
    reason: `Vended log delivery (Step Functions logging) requires logs:${name} on Resource "*" (docs/personalize-training.md)`,
  })),
] as const;

const accountId = z.string().regex(/^\d{12}$/, "must be a 12-digit AWS account id");
const reason = z.string().trim().min(1, "must give a reason");

/**
 * Every setting a rule may read from its policy config, in one place. A rule names the settings it
 * uses; its `configSchema` (what `pulumi preview --policy-pack-config` validates) is generated from
 * these zod schemas and the same schemas parse `args.getConfig()`, so the two cannot drift.
 */
export const settingSchemas = {
  environment: z
    .string()
    .min(1)
    .describe(
      "Environment of the stack (dev, prod...). Without it, each resource's mesh:environment tag decides.",
    )
    .optional(),
  meshAccountIds: z
    .array(accountId)
    .describe("Account ids of the mesh. Stream policies may only grant these accounts (or the org).")
    .optional(),
  organizationId: z
    .string()
    .regex(/^o-[a-z0-9]{10,32}$/, "must be an AWS Organizations id (o-...)")
    .describe("Organization id an aws:PrincipalOrgID condition must name.")
    .optional(),
  minRetentionHours: z
    .number()
    .int()
    .min(24)
    .max(8760)
    .describe("Stream retention floor in hours. Default 168 in prod, 24 elsewhere.")
    .optional(),
  maxEfoConsumers: z
    .number()
    .int()
    .min(1)
    .default(20)
    .describe("Registered enhanced fan-out consumers allowed per stream (AWS: 20, 50 on Advantage streams)."),
  maxFilters: z.number().int().min(1).default(5).describe("Filters allowed per event source mapping."),
  allowedRuntimes: z
    .array(z.string().min(1))
    .min(1)
    .default([...DEFAULT_ALLOWED_RUNTIMES])
    .describe("Lambda runtimes the platform supports."),
  wildcardResourceActions: z
    .array(z.strictObject({ action: z.string().min(1), reason }))
    .default(DEFAULT_WILDCARD_RESOURCE_ACTIONS.map((entry) => ({ ...entry })))
    .describe('Actions allowed on Resource "*", each with the reason it cannot be scoped.'),
  lakeFormationAccess: z
    .strictObject({
      catalogAccountId: accountId
        .optional()
        .describe("Account of the central catalog, whose principals administer every table."),
      tables: z
        .array(
          z.strictObject({
            product: z.string().min(1),
            accountId,
            database: z.string().min(1),
            table: z.string().min(1),
            databaseTags: z.record(z.string(), z.string()).default({}),
            tags: z.record(z.string(), z.string()).default({}),
            columns: z.array(
              z.strictObject({ name: z.string().min(1), tags: z.record(z.string(), z.string()).default({}) }),
            ),
          }),
        )
        .default([]),
      subscriptions: z
        .array(
          z.strictObject({
            ref: z.string().min(1),
            accountId,
            product: z.string().min(1),
            columns: z.array(z.string().min(1)),
          }),
        )
        .default([]),
    })
    .describe(
      "The mesh's tables at rest and at-rest subscriptions, from the declaration (npm run plan writes them). Without it no grant beyond a table's own account is declared.",
    )
    .optional(),
  streamContracts: z
    .array(
      z.strictObject({
        streamArn: z.string().min(1),
        product: z.string().min(1),
        /** Event type -> the payload fields it declares (dotted paths). */
        events: z.record(z.string(), z.array(z.string().min(1))),
      }),
    )
    .describe(
      "The contract of each mesh stream (npm run plan writes them): the event types and payload fields a filter may name. Without it filters are only checked for shape.",
    )
    .optional(),
  exemptions: z
    .array(
      z.strictObject({
        resource: z.string().min(1).describe("URN, or a glob (* and ?) over the URN or the resource name."),
        reason,
      }),
    )
    .default([])
    .describe(
      "Resources exempted from this policy, each with a reason. Exempted violations are still reported.",
    ),
} as const;

export type SettingKey = keyof typeof settingSchemas;
export type Settings<K extends SettingKey> = { [P in K]: z.output<(typeof settingSchemas)[P]> };
export type Exemption = z.output<typeof settingSchemas.exemptions>[number];

const schemaOf = (key: SettingKey): z.ZodType => settingSchemas[key];

/** The policy's `configSchema`: JSON schema (draft 7) generated from the settings it reads. */
export function configSchemaOf(keys: readonly SettingKey[]): PolicyConfigSchema {
  const properties: PolicyConfigSchema["properties"] = {};
  for (const key of keys) {
    const { $schema: _ignored, ...json } = z.toJSONSchema(schemaOf(key), {
      target: "draft-7",
      io: "input",
    }) as Record<string, unknown>;
    properties[key] = json;
  }
  return { properties };
}

/** Config of a policy that does not validate, with every issue and its path. */
export class PolicyConfigError extends Error {
  override readonly name = "PolicyConfigError";
  constructor(
    readonly policy: string,
    readonly issues: readonly string[],
  ) {
    super(`policy config of ${policy} is invalid: ${issues.join("; ")}`);
  }
}

// One object schema per set of settings: rules parse their config for every resource they check,
// and zod compiles an object schema into a function on its first parse (1.4 s of a test worker's
// policy checks went to compiling the same schemas again).
const settingsObjects = new Map<string, z.ZodType>();

function settingsObjectOf(keys: readonly SettingKey[]): z.ZodType {
  const id = keys.join(",");
  let schema = settingsObjects.get(id);
  if (!schema) {
    schema = z.strictObject(Object.fromEntries(keys.map((key) => [key, schemaOf(key)])));
    settingsObjects.set(id, schema);
  }
  return schema;
}

/**
 * Parses a policy's config (what `args.getConfig()` returns, without enforcementLevel) against the
 * settings it reads, applying defaults. Keys the policy does not read are rejected, so a misspelt
 * setting is an error rather than silently ignored.
 */
export function parseSettings<K extends SettingKey>(
  policy: string,
  keys: readonly K[],
  raw: Record<string, unknown>,
): Settings<K> {
  const result = settingsObjectOf(keys).safeParse(raw);
  if (!result.success) {
    throw new PolicyConfigError(
      policy,
      result.error.issues.map((issue) => {
        const path = issue.path.join(".");
        const message =
          issue.code === "unrecognized_keys" ? `unknown setting ${issue.keys.join(", ")}` : issue.message;
        return path ? `${path}: ${message}` : message;
      }),
    );
  }
  return result.data as Settings<K>;
}
