import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { deployRoleArn, PLATFORM_UNIT } from "../platform/config";
import { policyDocument, STREAM_AUDIT_ACTIONS, tagGuardPolicy, unitRoleTrust } from "../platform/iam";
import type { Mesh } from "../platform/mesh";
import { unitTags } from "../platform/tags";

export const MESH_GOVERNANCE_TYPE = "mesh:platform:MeshGovernance";

export interface MeshGovernanceArgs {
  readonly mesh: Mesh;
}

/**
 * The platform team's unit, in the platform account: the auditor role every stream grants its
 * metadata to. Domain stacks read its ARN from this stack's `platform` output.
 */
export class MeshGovernance extends pulumi.ComponentResource {
  public readonly auditorRoleArn: pulumi.Output<string>;
  /**
   * The service control policy that keeps `mesh:*` tags (ABAC) in the platform's hands, for the
   * organization's management account to attach to the mesh's accounts (docs/security-model.md).
   */
  public readonly tagGuardScp: pulumi.Output<string>;

  constructor(name: string, args: MeshGovernanceArgs, opts: pulumi.ComponentResourceOptions) {
    if (!opts.provider)
      throw new Error(`MeshGovernance ${name}: a provider for the platform account is required`);
    super(MESH_GOVERNANCE_TYPE, name, {}, opts);
    const { config, products } = args.mesh;
    const tags = unitTags(config, "platform");
    const auditor = new aws.iam.Role(
      `${name}-auditor`,
      {
        name: "mesh-auditor",
        description: "Reads the configuration (never the records) of every stream in the mesh",
        assumeRolePolicy: unitRoleTrust(config.accounts.platform!.id, PLATFORM_UNIT),
        tags,
      },
      { parent: this },
    );
    new aws.iam.RolePolicy(
      `${name}-auditor-policy`,
      {
        role: auditor.name,
        policy: policyDocument([
          {
            Sid: "DescribeMeshStreams",
            Effect: "Allow",
            Action: [...STREAM_AUDIT_ACTIONS],
            Resource: products.map((product) => product.streamArn),
          },
        ]),
      },
      { parent: this },
    );
    this.auditorRoleArn = auditor.arn;
    this.tagGuardScp = tagGuardPolicy(
      Object.keys(config.accounts).map((alias) => deployRoleArn(config, alias)),
    );
    this.registerOutputs({ auditorRoleArn: this.auditorRoleArn, tagGuardScp: this.tagGuardScp });
  }
}
