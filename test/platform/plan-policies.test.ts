import * as aws from "@pulumi/aws";
import { strict as assert } from "node:assert";
import { copyFileSync, existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deployMesh } from "../../program";
import { runPlan } from "../../scripts/plan";

const root = join(__dirname, "..", "..");

function stackDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "plan-policies-"));
  for (const stack of ["dev", "prod"])
    copyFileSync(join(root, `Pulumi.${stack}.yaml`), join(dir, `Pulumi.${stack}.yaml`));
  return dir;
}

describe("the policy pack over the offline plans", () => {
  // The shipped dev and prod plans passing the pack is a property of test/mesh/shipped.test.ts.
  it("fails the plan of a deliberately broken mesh, naming each violation", async () => {
    const lines: string[] = [];
    const cwd = stackDir();
    const code = await runPlan({
      stack: "dev",
      cwd,
      log: (line) => lines.push(line),
      program: () => {
        const outputs = deployMesh();
        const provider = new aws.Provider("broken-songs", {
          region: "eu-west-1",
          allowedAccountIds: ["210987654323"],
        });
        const tags = { "mesh:domain": "songs", "mesh:environment": "dev", "mesh:managed-by": "pulumi" };
        const stream = new aws.kinesis.Stream(
          "broken-stream",
          {
            name: "songs.broken",
            shardCount: 1,
            retentionPeriod: 24,
            tags: { ...tags, "mesh:product": "songs/broken", "mesh:classification": "public" },
          },
          { provider },
        );
        new aws.kinesis.ResourcePolicy(
          "broken-stream-policy",
          {
            resourceArn: stream.arn,
            policy: stream.arn.apply((arn) =>
              JSON.stringify({
                Version: "2012-10-17",
                Statement: [
                  { Effect: "Allow", Principal: "*", Action: ["kinesis:GetRecords"], Resource: arn },
                ],
              }),
            ),
          },
          { provider },
        );
        new aws.lambda.EventSourceMapping(
          "broken-mapping",
          {
            functionName: "arn:aws:lambda:eu-west-1:210987654323:function:reader",
            eventSourceArn: stream.arn,
            startingPosition: "LATEST",
            maximumRetryAttempts: 3,
            maximumRecordAgeInSeconds: 3600,
            bisectBatchOnFunctionError: true,
            functionResponseTypes: ["ReportBatchItemFailures"],
            tags,
          },
          { provider },
        );
        const bucket = new aws.s3.Bucket(
          "broken-bucket",
          { bucket: "songs-broken-bucket", tags },
          { provider },
        );
        new aws.s3.BucketPublicAccessBlock(
          "broken-bucket-public",
          {
            bucket: bucket.id,
            blockPublicAcls: false,
            blockPublicPolicy: false,
            ignorePublicAcls: false,
            restrictPublicBuckets: false,
          },
          { provider },
        );
        return outputs;
      },
    });
    assert.equal(code, 1);
    const output = lines.join("\n");
    const expected = [
      /\[kinesis-policy-no-wildcard-principal\] broken-stream-policy/,
      /\[kinesis-shared-stream-cmk\] broken-stream/,
      /\[lambda-esm-on-failure-destination\] broken-mapping/,
      /\[s3-public-access-block\] broken-bucket/,
    ];
    for (const pattern of expected) assert.match(output, pattern);
    assert.match(output, /[1-9]\d* mandatory/);
    assert.ok(existsSync(join(cwd, "plan", "dev.json")), "the plan is still written for review");
  });
});
