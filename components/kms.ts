import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { accountRoot, policyDocument, type Statement } from "../platform/iam";

/**
 * What a key administrator may do: manage the key's life, policy, rotation, tags and aliases, but
 * never use it (no Encrypt, Decrypt, ReEncrypt, GenerateDataKey) nor delegate its use (no
 * CreateGrant). PutKeyPolicy remains: whoever deploys the policy can change it, which CloudTrail
 * records and the plan re-checks.
 */
export const KEY_ADMIN_ACTIONS = [
  "kms:DescribeKey",
  "kms:GetKeyPolicy",
  "kms:PutKeyPolicy",
  "kms:GetKeyRotationStatus",
  "kms:EnableKeyRotation",
  "kms:DisableKeyRotation",
  "kms:ListKeyRotations",
  "kms:RotateKeyOnDemand",
  "kms:EnableKey",
  "kms:DisableKey",
  "kms:UpdateKeyDescription",
  "kms:ScheduleKeyDeletion",
  "kms:CancelKeyDeletion",
  "kms:ListResourceTags",
  "kms:TagResource",
  "kms:UntagResource",
  "kms:CreateAlias",
  "kms:UpdateAlias",
  "kms:DeleteAlias",
  "kms:ListGrants",
  "kms:RevokeGrant",
] as const;

/** The role, in every account of the mesh, that may administer product keys when the deploy role cannot. */
export const BREAK_GLASS_ROLE_NAME = "mesh-break-glass";

export interface MeshKeyArgs {
  readonly description: string;
  /** The account that owns the key. */
  readonly accountId: string;
  /**
   * Roles that administer the key and never use it (product keys: the deploy role and the
   * break-glass role). Without it, the owning account's IAM policies decide (its root has `kms:*`),
   * for keys that only the account's own roles and services use.
   */
  readonly administrators?: readonly string[];
  /** Statements granting use of the key, beyond the owning account's administration. */
  readonly grants: readonly Statement[];
  readonly tags: Readonly<Record<string, string>>;
}

/** A customer-managed key the way the mesh wants every key: rotation on, 30-day deletion window. */
export function createMeshKey(
  name: string,
  args: MeshKeyArgs,
  opts: pulumi.CustomResourceOptions,
): aws.kms.Key {
  return new aws.kms.Key(
    name,
    {
      description: args.description,
      enableKeyRotation: true,
      deletionWindowInDays: 30,
      policy: policyDocument([
        args.administrators
          ? {
              Sid: "KeyAdministrationWithoutUse",
              Effect: "Allow",
              // The account as principal, narrowed by ARN: works before the roles exist and after they are recreated.
              Principal: { AWS: accountRoot(args.accountId) },
              Action: [...KEY_ADMIN_ACTIONS],
              Resource: "*",
              Condition: { ArnEquals: { "aws:PrincipalArn": [...args.administrators] } },
            }
          : {
              Sid: "AccountAdministration",
              Effect: "Allow",
              Principal: { AWS: accountRoot(args.accountId) },
              Action: "kms:*",
              Resource: "*",
            },
        ...args.grants,
      ]),
      tags: { ...args.tags },
    },
    opts,
  );
}

/** A Sid is alphanumeric: derive one from a readable label. */
export const sid = (label: string): string =>
  label
    .split(/[^A-Za-z0-9]+/)
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join("");
