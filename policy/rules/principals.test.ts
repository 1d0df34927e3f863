import { strict as assert } from "node:assert";
import { UNKNOWN_STRING } from "../lib/values";
import { ACCOUNTS, edit, mesh, ORG, resource, STREAM_ARN, streamPolicyDocument } from "../tests/fixtures";
import { messages } from "../tests/harness";
import { crossAccountMeshPrincipals } from "./principals";

const policy = crossAccountMeshPrincipals;
const outsider = "arn:aws:iam::999999999999:root";
const analytics = `arn:aws:iam::${ACCOUNTS.analytics}:root`;
const org = { StringEquals: { "aws:PrincipalOrgID": ORG } };
const read = (Principal: unknown, Condition?: unknown) => ({
  Effect: "Allow",
  Principal,
  Action: ["kinesis:GetRecords"],
  Resource: STREAM_ARN,
  ...(Condition ? { Condition } : {}),
});
const withStreamPolicy = (...statements: object[]) =>
  edit(mesh(), "songs-stream-policy", { policy: streamPolicyDocument(...statements) });
const meshOnly = {
  "cross-account-mesh-principals": { meshAccountIds: Object.values(ACCOUNTS), organizationId: ORG },
};

describe("cross-account-mesh-principals", () => {
  it("passes the fixture mesh: every cross-account principal is a mesh account, bounded by the organization", async () => {
    assert.deepEqual(await messages(policy, mesh(), meshOnly), []);
  });
  it("rejects a principal outside the mesh even when the statement is bounded by the organization", async () => {
    assert.deepEqual(await messages(policy, withStreamPolicy(read({ AWS: outsider }, org)), meshOnly), [
      `Kinesis resource policy statement 2 must only allow principals of mesh accounts (not ${outsider}).`,
    ]);
  });
  it("rejects a mesh principal of another account without the organization bound", async () => {
    assert.deepEqual(await messages(policy, withStreamPolicy(read({ AWS: analytics })), meshOnly), [
      `Kinesis resource policy statement 2 must bound ${analytics} by aws:PrincipalOrgID ${ORG}.`,
    ]);
  });
  it("rejects a bound naming another organization than the configured one", async () => {
    const other = { StringEquals: { "aws:PrincipalOrgID": "o-zzzzzzzzzz" } };
    assert.deepEqual(await messages(policy, withStreamPolicy(read({ AWS: analytics }, other)), meshOnly), [
      `Kinesis resource policy statement 2 must bound ${analytics} by aws:PrincipalOrgID ${ORG}.`,
    ]);
  });
  it("passes principals of the resource's own account without the organization bound", async () => {
    const own = read({ AWS: `arn:aws:iam::${ACCOUNTS.songs}:role/mesh-songs-producer` });
    assert.deepEqual(await messages(policy, withStreamPolicy(own), meshOnly), []);
  });
  it("checks key policies, bucket policies and trust policies the same way", async () => {
    const keyGrant = {
      Effect: "Allow",
      Principal: { AWS: outsider },
      Action: "kms:Decrypt",
      Resource: "*",
      Condition: org,
    };
    const key = edit(mesh(), "songs-key", (inputs) => {
      const document = JSON.parse(inputs.policy as string) as { Statement: object[] };
      document.Statement.push(keyGrant);
      inputs.policy = JSON.stringify(document);
    });
    assert.deepEqual(await messages(policy, key, meshOnly), [
      `KMS key policy statement 3 must only allow principals of mesh accounts (not ${outsider}).`,
    ]);
    const trust = resource(
      "aws:iam/role:Role",
      "songs-reader",
      {
        assumeRolePolicy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Principal: { AWS: analytics }, Action: "sts:AssumeRole" }],
        }),
      },
      { account: ACCOUNTS.songs },
    );
    assert.deepEqual(await messages(policy, [...mesh(), trust], meshOnly), [
      `IAM role trust policy statement 1 must bound ${analytics} by aws:PrincipalOrgID ${ORG}.`,
    ]);
    const bucketPolicy = resource(
      "aws:s3/bucketPolicy:BucketPolicy",
      "songs-bucket-share",
      {
        bucket: "songs-bucket",
        policy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Principal: { AWS: outsider },
              Action: "s3:GetObject",
              Resource: "*",
              Condition: org,
            },
          ],
        }),
      },
      { account: ACCOUNTS.songs },
    );
    assert.deepEqual(await messages(policy, [...mesh(), bucketPolicy], meshOnly), [
      `S3 bucket policy statement 1 must only allow principals of mesh accounts (not ${outsider}).`,
    ]);
  });
  it("lets service principals through: they act for the account that configured them", async () => {
    const service = read({ Service: "firehose.amazonaws.com" });
    assert.deepEqual(await messages(policy, withStreamPolicy(service), meshOnly), []);
  });
  it("could not check a principal unknown during preview", async () => {
    const unknown = read({ AWS: UNKNOWN_STRING });
    assert.deepEqual(
      await messages(
        policy,
        edit(mesh(), "songs-stream-policy", { policy: JSON.parse(streamPolicyDocument(unknown)) }),
        meshOnly,
      ),
      ["Kinesis resource policy statement 2 principals could not be checked during preview."],
    );
  });
});
