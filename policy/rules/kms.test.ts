import { strict as assert } from "node:assert";
import { UNKNOWN_STRING } from "../lib/values";
import { ACCOUNTS, edit, mesh } from "../tests/fixtures";
import { messages } from "../tests/harness";
import { kmsDeletionWindow, kmsKeyPolicyScoped, kmsKeyRotation } from "./kms";

const keyPolicy = (...Statement: object[]) => JSON.stringify({ Version: "2012-10-17", Statement });
const root = {
  Effect: "Allow",
  Principal: { AWS: `arn:aws:iam::${ACCOUNTS.songs}:root` },
  Action: "kms:*",
  Resource: "*",
};
const withKeyPolicy = (...statements: object[]) =>
  edit(mesh(), "songs-key", { policy: keyPolicy(root, ...statements) });

describe("kms-key-rotation", () => {
  it("passes a key with rotation", async () => {
    assert.deepEqual(await messages(kmsKeyRotation, mesh()), []);
  });
  it("rejects a key without rotation", async () => {
    assert.deepEqual(
      await messages(kmsKeyRotation, edit(mesh(), "songs-key", { enableKeyRotation: false })),
      ["KMS key must enable key rotation."],
    );
  });
  it("rejects a key that leaves rotation unset", async () => {
    assert.deepEqual(
      await messages(kmsKeyRotation, edit(mesh(), "songs-key", { enableKeyRotation: undefined })),
      ["KMS key must enable key rotation."],
    );
  });
  it("does not apply to asymmetric keys, which cannot rotate", async () => {
    const resources = edit(mesh(), "songs-key", {
      enableKeyRotation: false,
      customerMasterKeySpec: "RSA_2048",
      keyUsage: "SIGN_VERIFY",
    });
    assert.deepEqual(await messages(kmsKeyRotation, resources), []);
  });
});

describe("kms-deletion-window", () => {
  it("passes 30 days", async () => {
    assert.deepEqual(await messages(kmsDeletionWindow, mesh()), []);
  });
  it("passes the unset default, which is 30 days", async () => {
    assert.deepEqual(
      await messages(kmsDeletionWindow, edit(mesh(), "songs-key", { deletionWindowInDays: undefined })),
      [],
    );
  });
  it("rejects 7 days", async () => {
    assert.deepEqual(
      await messages(kmsDeletionWindow, edit(mesh(), "songs-key", { deletionWindowInDays: 7 })),
      ["KMS key deletion window must be 30 days (it is 7)."],
    );
  });
});

describe("kms-key-policy-scoped", () => {
  const policy = kmsKeyPolicyScoped;
  it("passes root administration and a conditioned decrypt grant", async () => {
    assert.deepEqual(await messages(policy, mesh()), []);
  });
  it("passes a key without a policy (AWS's default key policy)", async () => {
    assert.deepEqual(await messages(policy, edit(mesh(), "songs-key", { policy: undefined })), []);
  });
  it("rejects kms:* to a role", async () => {
    const role = `arn:aws:iam::${ACCOUNTS.songs}:role/admin`;
    assert.deepEqual(
      await messages(
        policy,
        withKeyPolicy({ Effect: "Allow", Principal: { AWS: role }, Action: "kms:*", Resource: "*" }),
      ),
      [`KMS key policy statement 2 must grant kms:* only to the key account's root (not ${role}).`],
    );
  });
  it("rejects kms:* to another account's root", async () => {
    const other = `arn:aws:iam::${ACCOUNTS.analytics}:root`;
    assert.deepEqual(
      await messages(
        policy,
        withKeyPolicy({ Effect: "Allow", Principal: { AWS: other }, Action: "kms:*", Resource: "*" }),
      ),
      [`KMS key policy statement 2 must grant kms:* only to the key account's root (not ${other}).`],
    );
  });
  const unbounded =
    "KMS key policy statement 2 must not allow a wildcard principal without a condition on who calls (aws:PrincipalOrgID, aws:PrincipalAccount, aws:PrincipalArn, kms:CallerAccount, aws:SourceAccount or aws:SourceArn).";
  const wildcard = (Condition?: unknown) => ({
    Effect: "Allow",
    Principal: { AWS: "*" },
    Action: "kms:Decrypt",
    Resource: "*",
    ...(Condition ? { Condition } : {}),
  });
  it("rejects a wildcard principal without a condition", async () => {
    assert.deepEqual(
      await messages(
        policy,
        withKeyPolicy({ Effect: "Allow", Principal: "*", Action: "kms:Decrypt", Resource: "*" }),
      ),
      [unbounded],
    );
  });
  it("rejects a wildcard principal whose only condition is unrelated to who calls", async () => {
    const viaService = { StringEquals: { "kms:ViaService": "kinesis.eu-west-1.amazonaws.com" } };
    assert.deepEqual(await messages(policy, withKeyPolicy(wildcard(viaService))), [unbounded]);
  });
  it("rejects a wildcard principal bounded only by a negated or wildcard identity condition", async () => {
    const negated = { StringNotEquals: { "aws:PrincipalAccount": ACCOUNTS.songs } };
    assert.deepEqual(await messages(policy, withKeyPolicy(wildcard(negated))), [unbounded]);
    const anyone = { StringLike: { "aws:PrincipalArn": "*" } };
    assert.deepEqual(await messages(policy, withKeyPolicy(wildcard(anyone))), [unbounded]);
  });
  it("passes a wildcard principal bounded by who calls", async () => {
    const bounded = {
      StringEquals: {
        "kms:ViaService": "kinesis.eu-west-1.amazonaws.com",
        "kms:CallerAccount": ACCOUNTS.songs,
      },
    };
    assert.deepEqual(await messages(policy, withKeyPolicy(wildcard(bounded))), []);
    const org = { StringEquals: { "aws:PrincipalOrgID": "o-a1b2c3d4e5" } };
    assert.deepEqual(await messages(policy, withKeyPolicy(wildcard(org))), []);
  });
  it("rejects a malformed key policy", async () => {
    assert.deepEqual(await messages(policy, edit(mesh(), "songs-key", { policy: "[]" })), [
      "KMS key policy must be a valid policy document (it is not a JSON object).",
    ]);
  });
  it("could not check a key policy unknown during preview", async () => {
    assert.deepEqual(await messages(policy, edit(mesh(), "songs-key", { policy: UNKNOWN_STRING })), [
      "KMS key policy could not be checked during preview.",
    ]);
  });
});
