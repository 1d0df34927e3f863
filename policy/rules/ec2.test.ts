import { strict as assert } from "node:assert";
import { UNKNOWN_STRING } from "../lib/values";
import { edit, mesh } from "../tests/fixtures";
import { messages } from "../tests/harness";
import { ec2NoPublicIngress } from "./ec2";

describe("ec2-no-public-ingress", () => {
  const policy = ec2NoPublicIngress;
  it("passes ingress from named security groups in all three shapes", async () =>
    assert.deepEqual(await messages(policy, mesh()), []));
  it("rejects an inline ingress rule open to 0.0.0.0/0", async () => {
    const open = edit(mesh(), "users-database-sg", {
      ingress: [{ protocol: "tcp", fromPort: 5432, toPort: 5432, cidrBlocks: ["0.0.0.0/0"] }],
    });
    assert.deepEqual(await messages(policy, open), ["Security group ingress must not be open to 0.0.0.0/0."]);
  });
  it("rejects a vpc ingress rule open to ::/0", async () => {
    const open = edit(mesh(), "users-database-from-glue", {
      referencedSecurityGroupId: undefined,
      cidrIpv6: "::/0",
    });
    assert.deepEqual(await messages(policy, open), ["Security group ingress must not be open to ::/0."]);
  });
  it("rejects an ec2 ingress rule open to 0.0.0.0/0", async () => {
    const open = edit(mesh(), "users-database-from-clients", {
      sourceSecurityGroupId: undefined,
      cidrBlocks: ["10.0.0.0/8", "0.0.0.0/0"],
    });
    assert.deepEqual(await messages(policy, open), ["Security group ingress must not be open to 0.0.0.0/0."]);
  });
  it("does not apply to egress rules", async () => {
    const egress = edit(mesh(), "users-database-from-clients", { type: "egress", cidrBlocks: ["0.0.0.0/0"] });
    assert.deepEqual(await messages(policy, egress), []);
  });
  it("could not check a source unknown during preview", async () => {
    const unknown = edit(mesh(), "users-database-from-glue", { cidrIpv4: UNKNOWN_STRING });
    assert.deepEqual(await messages(policy, unknown), [
      "Security group ingress could not be checked during preview.",
    ]);
  });
});
