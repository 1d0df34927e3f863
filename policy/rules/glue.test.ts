import { strict as assert } from "node:assert";
import { edit, mesh } from "../tests/fixtures";
import { messages } from "../tests/harness";
import { glueCatalogEncryption } from "./glue";

const atRest = (encryptionAtRest: object) =>
  edit(mesh(), "catalog-encryption", (inputs) => {
    (inputs.dataCatalogEncryptionSettings as Record<string, unknown>).encryptionAtRest = encryptionAtRest;
  });

describe("glue-catalog-encryption", () => {
  it("passes SSE-KMS with a key", async () =>
    assert.deepEqual(await messages(glueCatalogEncryption, mesh()), []));
  it("rejects DISABLED", async () => {
    assert.deepEqual(await messages(glueCatalogEncryption, atRest({ catalogEncryptionMode: "DISABLED" })), [
      "Glue catalog encryptionAtRest.catalogEncryptionMode must be SSE-KMS (it is DISABLED).",
    ]);
  });
  it("rejects SSE-KMS without a key", async () => {
    assert.deepEqual(await messages(glueCatalogEncryption, atRest({ catalogEncryptionMode: "SSE-KMS" })), [
      "Glue catalog encryptionAtRest must name a KMS key (sseAwsKmsKeyId).",
    ]);
  });
});
