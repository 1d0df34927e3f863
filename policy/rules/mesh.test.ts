import { strict as assert } from "node:assert";
import { UNKNOWN_STRING } from "../lib/values";
import { ACCOUNTS, edit, mesh, resource } from "../tests/fixtures";
import { messages } from "../tests/harness";
import { meshProtectStatefulInProd, meshRequiredTags } from "./mesh";

const dropTag = (name: string, key: string) =>
  edit(mesh(), name, (inputs) => {
    delete (inputs.tags as Record<string, string>)[key];
  });

describe("mesh-required-tags", () => {
  const policy = meshRequiredTags;
  it("passes the tagged mesh", async () => assert.deepEqual(await messages(policy, mesh()), []));
  it("rejects a resource without mesh:domain", async () => {
    assert.deepEqual(await messages(policy, dropTag("songs-key", "mesh:domain")), [
      "Resource must have the tag mesh:domain.",
    ]);
  });
  it("rejects a stream without mesh:product and mesh:classification", async () => {
    const resources = edit(mesh(), "songs-stream", (inputs) => {
      const tags = inputs.tags as Record<string, string>;
      delete tags["mesh:product"];
      delete tags["mesh:classification"];
    });
    assert.deepEqual(await messages(policy, resources), [
      "Resource must have the tags mesh:product and mesh:classification.",
    ]);
  });
  it("rejects mesh:managed-by other than pulumi", async () => {
    const resources = edit(mesh(), "songs-key", (inputs) => {
      (inputs.tags as Record<string, string>)["mesh:managed-by"] = "console";
    });
    assert.deepEqual(await messages(policy, resources), [
      "Tag mesh:managed-by must be pulumi (it is console).",
    ]);
  });
  it("rejects an environment tag that is not the configured environment", async () => {
    assert.deepEqual(await messages(policy, [mesh()[0]!], { "mesh-required-tags": { environment: "dev" } }), [
      "Tag mesh:environment must be dev (it is prod).",
    ]);
  });
  it("counts the provider's defaultTags", async () => {
    const provider = resource(
      "pulumi:providers:aws",
      "account-songs",
      {
        allowedAccountIds: JSON.stringify([ACCOUNTS.songs]),
        defaultTags: JSON.stringify({ tags: { "mesh:environment": "prod", "mesh:managed-by": "pulumi" } }),
      },
      { account: null },
    );
    const resources = edit(mesh(), "songs-key", { tags: { "mesh:domain": "songs" } });
    assert.deepEqual(await messages(policy, resources), [
      "Resource must have the tags mesh:environment and mesh:managed-by.",
    ]);
    assert.deepEqual(await messages(policy, [provider, ...resources]), []);
  });
  it("does not apply to types without tags", async () => {
    assert.deepEqual(await messages(policy, edit(mesh(), "songs-stream-policy", { tags: undefined })), []);
  });
  it("could not check tags unknown during preview", async () => {
    assert.deepEqual(await messages(policy, edit(mesh(), "songs-key", { tags: UNKNOWN_STRING })), [
      "Resource tags could not be checked during preview.",
    ]);
  });
});

describe("mesh-protect-stateful-in-prod", () => {
  const policy = meshProtectStatefulInProd;
  it("passes protected stateful resources in prod", async () =>
    assert.deepEqual(await messages(policy, mesh()), []));
  it("rejects an unprotected stream in prod", async () => {
    assert.deepEqual(await messages(policy, edit(mesh(), "songs-stream", {}, { protect: false })), [
      "Kinesis stream must be protected in prod (protect: true).",
    ]);
  });
  it("rejects an unprotected bucket when the config says prod", async () => {
    const resources = edit(mesh(), "archive", { tags: { "mesh:domain": "platform" } }, { protect: false });
    assert.deepEqual(
      await messages(policy, resources, { "mesh-protect-stateful-in-prod": { environment: "prod" } }),
      ["S3 bucket must be protected in prod (protect: true)."],
    );
  });
  it("passes an unprotected key outside prod", async () => {
    const resources = edit(
      mesh(),
      "songs-key",
      (inputs) => {
        (inputs.tags as Record<string, string>)["mesh:environment"] = "dev";
      },
      { protect: false },
    );
    assert.deepEqual(await messages(policy, resources), []);
  });
  it("could not check an unprotected resource whose environment tag is unknown during preview", async () => {
    const resources = edit(
      mesh(),
      "connections",
      (inputs) => {
        (inputs.tags as Record<string, string>)["mesh:environment"] = UNKNOWN_STRING;
      },
      { protect: false },
    );
    assert.deepEqual(await messages(policy, resources), [
      "Resource environment could not be checked during preview.",
    ]);
  });
});
