import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { accountRoot, policyDocument, type Statement } from "../platform/iam";

export interface MeshKeyArgs {
  readonly description: string;
  /** The account that owns the key; its root administers it (so the key can never be orphaned). */
  readonly accountId: string;
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
        {
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
