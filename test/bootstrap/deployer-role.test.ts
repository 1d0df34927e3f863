import { strict as assert } from "node:assert";
import { deployerPolicy, deployerTrustPolicy } from "../../bootstrap/deployer-role";

const args = {
  accountId: "310987654323",
  region: "eu-west-1",
  organizationId: "o-a1b2c3d4e5",
  ciRoleArn: "arn:aws:iam::310987654321:role/platform-ci",
};

describe("bootstrap: the deploy role", () => {
  it("is trusted by the platform's CI role only, within the organization", () => {
    assert.deepEqual(deployerTrustPolicy(args).Statement, [
      {
        Sid: "PlatformCi",
        Effect: "Allow",
        Principal: { AWS: "arn:aws:iam::310987654321:role/platform-ci" },
        Action: ["sts:AssumeRole"],
        Resource: "*",
        Condition: { StringEquals: { "aws:PrincipalOrgID": "o-a1b2c3d4e5" } },
      },
    ]);
    assert.throws(
      () => deployerTrustPolicy({ ...args, ciRoleArn: "*" }),
      /ciRoleArn \*: must be the ARN of an IAM role/,
    );
  });

  it("may manage IAM only for the mesh's roles, and pass them only to the services that run them", () => {
    const statements = deployerPolicy(args).Statement;
    const iam = statements.filter((s) => s.Action.some((a) => a.startsWith("iam:")));
    assert.deepEqual(
      iam.map((s) => s.Resource),
      ["arn:aws:iam::310987654323:role/mesh-*", "arn:aws:iam::310987654323:role/mesh-*"],
    );
    assert.ok(
      iam.find((s) => s.Action.includes("iam:PassRole"))!.Condition!.StringEquals!["iam:PassedToService"],
    );
  });

  it("grants no service-wide wildcard and scopes every regional service to the account and region", () => {
    for (const statement of deployerPolicy(args).Statement) {
      for (const action of statement.Action)
        assert.doesNotMatch(action, /^[a-z0-9-]+:\*$|^\*$/, statement.Sid);
      for (const resource of [statement.Resource].flat()) {
        if (resource === "*" || resource.startsWith("arn:aws:s3:::") || resource.startsWith("arn:aws:iam::"))
          continue;
        assert.ok(resource.includes(":eu-west-1:"), `${statement.Sid}: ${resource}`);
      }
    }
  });
});
