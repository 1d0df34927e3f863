import { strict as assert } from "node:assert";
import { UNKNOWN_STRING } from "../lib/values";
import { edit, mesh } from "../tests/fixtures";
import { messages } from "../tests/harness";
import {
  opensearchEncryptionAtRest,
  opensearchEnforceHttps,
  opensearchFineGrainedAccessControl,
  opensearchNodeToNodeEncryption,
} from "./opensearch";

const domain = (change: Record<string, unknown>) => edit(mesh(), "search", change);

describe("opensearch-encryption-at-rest", () => {
  it("passes", async () => assert.deepEqual(await messages(opensearchEncryptionAtRest, mesh()), []));
  it("rejects a domain without it", async () => {
    assert.deepEqual(await messages(opensearchEncryptionAtRest, domain({ encryptAtRest: undefined })), [
      "OpenSearch domain encryptAtRest.enabled must be true.",
    ]);
  });
  it("could not check a setting unknown during preview", async () => {
    assert.deepEqual(
      await messages(opensearchEncryptionAtRest, domain({ encryptAtRest: { enabled: UNKNOWN_STRING } })),
      ["OpenSearch domain encryptAtRest.enabled could not be checked during preview."],
    );
  });
});

describe("opensearch-node-to-node-encryption", () => {
  it("passes", async () => assert.deepEqual(await messages(opensearchNodeToNodeEncryption, mesh()), []));
  it("rejects false", async () => {
    assert.deepEqual(
      await messages(opensearchNodeToNodeEncryption, domain({ nodeToNodeEncryption: { enabled: false } })),
      ["OpenSearch domain nodeToNodeEncryption.enabled must be true."],
    );
  });
});

describe("opensearch-enforce-https", () => {
  it("passes HTTPS with TLS 1.2", async () =>
    assert.deepEqual(await messages(opensearchEnforceHttps, mesh()), []));
  it("rejects plain HTTP", async () => {
    const endpoint = { enforceHttps: false, tlsSecurityPolicy: "Policy-Min-TLS-1-2-2019-07" };
    assert.deepEqual(await messages(opensearchEnforceHttps, domain({ domainEndpointOptions: endpoint })), [
      "OpenSearch domain domainEndpointOptions.enforceHttps must be true.",
    ]);
  });
  it("rejects TLS 1.0", async () => {
    const endpoint = { enforceHttps: true, tlsSecurityPolicy: "Policy-Min-TLS-1-0-2019-07" };
    assert.deepEqual(await messages(opensearchEnforceHttps, domain({ domainEndpointOptions: endpoint })), [
      "OpenSearch domain domainEndpointOptions.tlsSecurityPolicy must be Policy-Min-TLS-1-2-2019-07 or Policy-Min-TLS-1-2-PFS-2023-10 (it is Policy-Min-TLS-1-0-2019-07).",
    ]);
  });
});

describe("opensearch-fine-grained-access-control", () => {
  it("passes", async () => assert.deepEqual(await messages(opensearchFineGrainedAccessControl, mesh()), []));
  it("rejects a domain without it", async () => {
    assert.deepEqual(
      await messages(
        opensearchFineGrainedAccessControl,
        domain({ advancedSecurityOptions: { enabled: false } }),
      ),
      ["OpenSearch domain advancedSecurityOptions.enabled must be true."],
    );
  });
});
