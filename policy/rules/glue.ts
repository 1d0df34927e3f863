import { resourceRule } from "../lib/rule";
import { T } from "../lib/types";
import { get, UNKNOWN } from "../lib/values";

const KMS_MODES = ["SSE-KMS", "SSE-KMS-WITH-SERVICE-ROLE"];

export const glueCatalogEncryption = resourceRule({
  name: "glue-catalog-encryption",
  description: "Glue Data Catalog encryption settings must encrypt the catalog at rest with SSE-KMS.",
  enforcementLevel: "mandatory",
  types: [T.GlueCatalogEncryption],
  check(settings, context) {
    const atRest = get(settings.props, "dataCatalogEncryptionSettings", "encryptionAtRest");
    const mode = get(atRest, "catalogEncryptionMode");
    const key = get(atRest, "sseAwsKmsKeyId");
    if (mode === UNKNOWN) {
      context.couldNotCheck("Glue catalog catalogEncryptionMode could not be checked during preview.");
    } else if (typeof mode !== "string" || !KMS_MODES.includes(mode)) {
      context.report(
        `Glue catalog encryptionAtRest.catalogEncryptionMode must be SSE-KMS (it is ${String(mode ?? "unset")}).`,
      );
    } else if (key !== UNKNOWN && (typeof key !== "string" || key.length === 0)) {
      context.report("Glue catalog encryptionAtRest must name a KMS key (sseAwsKmsKeyId).");
    }
  },
});
