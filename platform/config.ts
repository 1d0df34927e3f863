import { Region } from "@pulumi/aws/types/enums";
import { z } from "zod";

/** The namespace of every key this program reads (`mesh:<key>`), also the Pulumi project name. */
export const CONFIG_NAMESPACE = "mesh";

/** The unit that holds the platform team's governance resources. */
export const PLATFORM_UNIT = "platform";
export const ALL_UNITS = "all";

/**
 * Other units' stacks: `{organization}` is the organization of the running stack (the literal
 * `organization` on a self-managed backend), so the one default works with Pulumi Cloud and with
 * `pulumi login --local` or an s3:// backend (docs/aws-facts.md#pulumi).
 */
export const DEFAULT_STACK_REFERENCE_PATTERN = "{organization}/{project}/{unit}-{environment}";

/** The fully qualified name of a unit's stack, or the pattern with only `{unit}` left. */
export function stackReferenceName(
  pattern: string,
  values: { organization: string; project: string; environment: string; unit?: string },
): string {
  return pattern
    .replaceAll("{organization}", values.organization)
    .replaceAll("{project}", values.project)
    .replaceAll("{environment}", values.environment)
    .replaceAll("{unit}", values.unit ?? "{unit}");
}

/**
 * Regions of the `aws` partition, from the AWS provider's own list: every ARN the mesh derives is
 * `arn:aws:...`, so China, GovCloud, ISO and European Sovereign Cloud regions are refused too.
 */
export const MESH_REGIONS: readonly string[] = Object.values(Region).filter(
  (region) => !/^(cn-|us-gov-|eusc-)|iso/.test(region),
);

export const accountIdSchema = z.string().regex(/^\d{12}$/, "must be a 12-digit AWS account id");

const accountSchema = z.strictObject({
  /** The 12-digit account id. */
  id: accountIdSchema,
  /** Role assumed to deploy into the account. @default arn:aws:iam::<id>:role/<mesh:deployRoleName> */
  deployRoleArn: z
    .string()
    .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@\/-]+$/, "must be an IAM role ARN")
    .optional(),
});

/**
 * Stack config (`mesh:*` keys of `Pulumi.<stack>.yaml`). Every key is documented in Pulumi.yaml
 * and the README; this schema is the one place its rules live.
 */
export const stackConfigSchema = z
  .strictObject({
    environment: z.enum(["dev", "prod"]),
    organizationId: z.string().regex(/^o-[a-z0-9]{10,32}$/, "must be an AWS Organizations id (o-...)"),
    region: z.string().refine((region) => MESH_REGIONS.includes(region), {
      error: (issue) =>
        `unknown region ${String(issue.input)}: must be a region of the aws partition (${MESH_REGIONS.join(", ")})`,
    }),
    accounts: z
      .record(z.string().regex(/^[a-z][a-z0-9-]*$/, "account alias must be lower-case words"), accountSchema)
      .refine((accounts) => PLATFORM_UNIT in accounts, `must include the ${PLATFORM_UNIT} account`)
      .superRefine((accounts, ctx) => {
        const aliasesById = new Map<string, string[]>();
        for (const [alias, account] of Object.entries(accounts)) {
          aliasesById.set(account.id, [...(aliasesById.get(account.id) ?? []), alias]);
        }
        for (const [id, aliases] of aliasesById) {
          for (const alias of aliases.slice(1)) {
            ctx.addIssue({
              code: "custom",
              path: [alias, "id"],
              message: `account id ${id} is already the id of ${aliases[0]}: each alias must be its own account`,
            });
          }
        }
      }),
    deployRoleName: z
      .string()
      .regex(/^[\w+=,.@-]{1,64}$/)
      .default("mesh-deployer"),
    units: z.array(z.string().min(1)).min(1).default([ALL_UNITS]),
    stackReferencePattern: z
      .string()
      .refine((pattern) => pattern.includes("{unit}"), "must contain {unit}")
      .default(DEFAULT_STACK_REFERENCE_PATTERN),
    defaultRetentionHours: z.number().int().min(24).max(8760).default(24),
    minRetentionHours: z.number().int().min(24).max(8760).default(24),
    capacityMode: z.enum(["declared", "on-demand"]).default("declared"),
    protectStateful: z.boolean().default(false),
    // Subscribed to every domain's alarm topic besides the domain's own contact: the platform's view.
    platformAlarmContact: z
      .union([z.email(), z.url({ protocol: /^https$/ }), z.literal("")], {
        error: "must be an email address or an https URL (empty for none)",
      })
      .default("")
      .transform((contact) => contact || undefined),
    // Pulumi.yaml declares it a secret with the default "" (no push subscription in this stack).
    pushTokenSha256: z
      .string()
      .regex(/^([0-9a-f]{64})?$/, "must be the hex SHA-256 of the push subscribers' token")
      .optional()
      .transform((hash) => hash || undefined),
  })
  .superRefine((config, ctx) => {
    if (config.environment === "prod" && !config.protectStateful) {
      ctx.addIssue({ code: "custom", path: ["protectStateful"], message: "must be true in prod" });
    }
  });

export type StackConfig = z.infer<typeof stackConfigSchema>;

/** The deploy role of an account alias, from the explicit ARN or the mesh-wide role name. */
export function deployRoleArn(config: StackConfig, alias: string): string {
  const account = config.accounts[alias];
  if (!account) throw new Error(`unknown account alias ${alias}`);
  return account.deployRoleArn ?? `arn:aws:iam::${account.id}:role/${config.deployRoleName}`;
}
