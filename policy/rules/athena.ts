import { isCustomerManagedKey } from "../lib/arns";
import { resourceRule } from "../lib/rule";
import { T } from "../lib/types";
import { get, UNKNOWN } from "../lib/values";

const WORKGROUP = "Athena workgroup";

export const athenaWorkgroupEnforced = resourceRule({
  name: "athena-workgroup-enforced",
  description:
    "Athena workgroups must enforce their configuration, so that a client cannot write results unencrypted or elsewhere.",
  enforcementLevel: "mandatory",
  types: [T.AthenaWorkgroup],
  check(workgroup, context) {
    // Unset is true, the provider's default.
    const enforced = get(workgroup.props, "configuration", "enforceWorkgroupConfiguration");
    if (enforced === UNKNOWN) {
      context.couldNotCheck(
        `${WORKGROUP} enforceWorkgroupConfiguration could not be checked during preview.`,
      );
    } else if (enforced === false) {
      context.report(`${WORKGROUP} configuration.enforceWorkgroupConfiguration must be true.`);
    }
  },
});

/** Result encryption options that use a KMS key (server-side or client-side); SSE_S3 uses S3's own key. */
const KMS_OPTIONS = ["SSE_KMS", "CSE_KMS"];

export const athenaWorkgroupResultsEncrypted = resourceRule({
  name: "athena-workgroup-results-encrypted",
  description:
    "Athena workgroups must encrypt query results with a customer-managed KMS key (SSE_KMS or CSE_KMS, or managed query results with a key).",
  enforcementLevel: "mandatory",
  types: [T.AthenaWorkgroup],
  check(workgroup, context) {
    const configuration = get(workgroup.props, "configuration");
    const managed = get(configuration, "managedQueryResultsConfiguration");
    const managedEnabled = get(managed, "enabled");
    const encryption = get(configuration, "resultConfiguration", "encryptionConfiguration");
    const option = get(encryption, "encryptionOption");
    if (managedEnabled === UNKNOWN || option === UNKNOWN) {
      context.couldNotCheck(`${WORKGROUP} result encryption could not be checked during preview.`);
      return;
    }
    if (managedEnabled === true) {
      // Athena-owned storage: results are encrypted with the key named here, else an AWS-owned key.
      if (!isCustomerManagedKey(get(managed, "encryptionConfiguration", "kmsKey"))) {
        context.report(
          `${WORKGROUP} managedQueryResultsConfiguration must name a customer-managed KMS key (encryptionConfiguration.kmsKey).`,
        );
      }
      return;
    }
    if (typeof option !== "string" || !KMS_OPTIONS.includes(option)) {
      context.report(
        `${WORKGROUP} resultConfiguration.encryptionConfiguration.encryptionOption must be SSE_KMS or CSE_KMS (it is ${String(option ?? "unset")}).`,
      );
    } else if (!isCustomerManagedKey(get(encryption, "kmsKeyArn"))) {
      context.report(
        `${WORKGROUP} resultConfiguration.encryptionConfiguration must name a customer-managed KMS key (kmsKeyArn).`,
      );
    }
  },
});

export const athenaWorkgroupBytesScannedCutoff = resourceRule({
  name: "athena-workgroup-bytes-scanned-cutoff",
  description:
    "Athena workgroups should cap the bytes a query may scan (bytesScannedCutoffPerQuery), as Athena bills per byte scanned.",
  enforcementLevel: "advisory",
  types: [T.AthenaWorkgroup],
  check(workgroup, context) {
    const cutoff = get(workgroup.props, "configuration", "bytesScannedCutoffPerQuery");
    if (cutoff === UNKNOWN) {
      context.couldNotCheck(`${WORKGROUP} bytesScannedCutoffPerQuery could not be checked during preview.`);
    } else if (cutoff === undefined || cutoff === null) {
      context.report(`${WORKGROUP} should set configuration.bytesScannedCutoffPerQuery.`);
    }
  },
});
