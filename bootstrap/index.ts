import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { deployerPolicy, deployerTrustPolicy } from "./deployer-role";

/**
 * Creates the role `npm run plan` / `pulumi up` deploys each mesh account through. Run once per
 * account, by that account's administrator (see bootstrap/README.md).
 */
const config = new pulumi.Config();
const args = {
  accountId: config.require("accountId"),
  region: aws.config.requireRegion(),
  organizationId: config.require("organizationId"),
  ciRoleArn: config.require("ciRoleArn"),
};
const roleName = config.get("roleName") ?? "mesh-deployer";

const role = new aws.iam.Role(roleName, {
  name: roleName,
  description: "Deploys the streaming data mesh; assumed by the platform's CI only.",
  assumeRolePolicy: JSON.stringify(deployerTrustPolicy(args)),
  maxSessionDuration: 3600,
  tags: { "mesh:managed-by": "pulumi" },
});
new aws.iam.RolePolicy(`${roleName}-policy`, {
  role: role.name,
  policy: JSON.stringify(deployerPolicy(args)),
});

export const deployRoleArn = role.arn;
