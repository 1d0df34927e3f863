import { isCustomerManagedKey } from "../lib/arns";
import { resourceRule, type ResourceView, type RuleContext } from "../lib/rule";
import type { SettingKey } from "../lib/settings";
import { T } from "../lib/types";
import { get, UNKNOWN } from "../lib/values";

const FIREHOSE = "Firehose delivery stream";

export const firehoseSourceAwareEncryption = resourceRule({
  name: "firehose-source-aware-encryption",
  description:
    "Direct PUT Firehose streams must encrypt with a customer-managed KMS key; streams reading a Kinesis stream or MSK must not set server-side encryption, as the source's encryption applies.",
  enforcementLevel: "mandatory",
  types: [T.FirehoseDeliveryStream],
  check(firehose, context) {
    const kinesisSource = firehose.props.kinesisSourceConfiguration;
    const mskSource = firehose.props.mskSourceConfiguration;
    if (kinesisSource === UNKNOWN || mskSource === UNKNOWN) {
      context.couldNotCheck(`${FIREHOSE} source could not be checked during preview.`);
      return;
    }
    const enabled = get(firehose.props, "serverSideEncryption", "enabled");
    if (kinesisSource !== undefined || mskSource !== undefined) {
      if (enabled === UNKNOWN)
        context.couldNotCheck(`${FIREHOSE} serverSideEncryption could not be checked during preview.`);
      else if (enabled === true) {
        context.report(
          `${FIREHOSE} reading from a stream must not enable serverSideEncryption (the source stream's encryption applies).`,
        );
      }
      return;
    }
    const keyType = get(firehose.props, "serverSideEncryption", "keyType");
    const keyArn = get(firehose.props, "serverSideEncryption", "keyArn");
    if (enabled === UNKNOWN || keyType === UNKNOWN) {
      context.couldNotCheck(`${FIREHOSE} serverSideEncryption could not be checked during preview.`);
    } else if (enabled !== true || keyType !== "CUSTOMER_MANAGED_CMK" || (keyArn !== UNKNOWN && !keyArn)) {
      context.report(
        `Direct PUT ${FIREHOSE} must enable serverSideEncryption with a CUSTOMER_MANAGED_CMK key.`,
      );
    }
  },
});

export const firehoseOpensearchRetry = resourceRule({
  name: "firehose-opensearch-retry",
  description:
    "Firehose streams delivering to OpenSearch must retry failed deliveries (retryDuration above 0).",
  enforcementLevel: "mandatory",
  types: [T.FirehoseDeliveryStream],
  check(firehose, context) {
    const destination = firehose.props.destination;
    if (destination === UNKNOWN) {
      context.couldNotCheck(`${FIREHOSE} destination could not be checked during preview.`);
      return;
    }
    if (destination !== "opensearch") return;
    // Unset is the service default of 300 seconds.
    const duration = get(firehose.props, "opensearchConfiguration", "retryDuration");
    if (duration === UNKNOWN)
      context.couldNotCheck(`${FIREHOSE} retryDuration could not be checked during preview.`);
    else if (duration !== undefined && !(typeof duration === "number" && duration > 0)) {
      context.report(
        `${FIREHOSE} opensearchConfiguration.retryDuration must be above 0 seconds (it is ${String(duration)}).`,
      );
    }
  },
});

export const firehoseOpensearchS3Backup = resourceRule({
  name: "firehose-opensearch-s3-backup",
  description:
    "Firehose streams delivering to OpenSearch must back up to S3 explicitly, with s3BackupMode FailedDocumentsOnly or AllDocuments.",
  enforcementLevel: "mandatory",
  types: [T.FirehoseDeliveryStream],
  check(firehose, context) {
    const destination = firehose.props.destination;
    if (destination === UNKNOWN) {
      context.couldNotCheck(`${FIREHOSE} destination could not be checked during preview.`);
      return;
    }
    if (destination !== "opensearch") return;
    const mode = get(firehose.props, "opensearchConfiguration", "s3BackupMode");
    const bucket = get(firehose.props, "opensearchConfiguration", "s3Configuration", "bucketArn");
    if (mode === UNKNOWN) {
      context.couldNotCheck(`${FIREHOSE} s3BackupMode could not be checked during preview.`);
    } else if (mode !== "FailedDocumentsOnly" && mode !== "AllDocuments") {
      context.report(
        `${FIREHOSE} opensearchConfiguration.s3BackupMode must be FailedDocumentsOnly or AllDocuments (it is ${String(mode ?? "unset")}).`,
      );
    } else if (bucket !== UNKNOWN && (typeof bucket !== "string" || bucket.length === 0)) {
      context.report(`${FIREHOSE} opensearchConfiguration.s3Configuration must name a backup bucket.`);
    }
  },
});

/**
 * The S3 destination (`extendedS3Configuration`) of a delivery stream; undefined for other
 * destinations, and also, after noting a could-not-check, while it is not known.
 */
function s3Destination<K extends SettingKey>(firehose: ResourceView, context: RuleContext<K>): unknown {
  const configuration = firehose.props.extendedS3Configuration;
  if (configuration === UNKNOWN) {
    context.couldNotCheck(`${FIREHOSE} S3 destination could not be checked during preview.`);
    return undefined;
  }
  return configuration ?? undefined;
}

export const firehoseS3CmkEncryption = resourceRule({
  name: "firehose-s3-cmk-encryption",
  description:
    "Firehose streams delivering to S3 must encrypt the objects they write with a customer-managed KMS key (extendedS3Configuration.kmsKeyArn).",
  enforcementLevel: "mandatory",
  types: [T.FirehoseDeliveryStream],
  check(firehose, context) {
    const s3 = s3Destination(firehose, context);
    if (s3 === undefined) return;
    if (!isCustomerManagedKey(get(s3, "kmsKeyArn"))) {
      context.report(
        `${FIREHOSE} extendedS3Configuration must name a customer-managed KMS key (kmsKeyArn); without one the objects get the bucket's default encryption at best.`,
      );
    }
  },
});

/**
 * The folder a delivery stream's data lands under, the location a table over it reads: the prefix up
 * to the last `/` before its first `!{...}` expression ("" is the bucket root, also when unset).
 */
const dataFolder = (prefix: unknown): string =>
  typeof prefix === "string" ? prefix.split("!{")[0]!.replace(/[^/]*$/, "") : "";

export const firehoseS3ErrorOutputPrefix = resourceRule({
  name: "firehose-s3-error-output-prefix",
  description:
    "Firehose streams delivering to S3 must write failed records under their own errorOutputPrefix, outside the folder their data lands in.",
  enforcementLevel: "mandatory",
  types: [T.FirehoseDeliveryStream],
  check(firehose, context) {
    const s3 = s3Destination(firehose, context);
    if (s3 === undefined) return;
    const errors = get(s3, "errorOutputPrefix");
    const prefix = get(s3, "prefix");
    if (errors === UNKNOWN || prefix === UNKNOWN) {
      context.couldNotCheck(`${FIREHOSE} S3 prefixes could not be checked during preview.`);
    } else if (typeof errors !== "string" || errors.length === 0) {
      context.report(`${FIREHOSE} extendedS3Configuration must set an errorOutputPrefix.`);
    } else if (errors.startsWith(dataFolder(prefix))) {
      const folder = dataFolder(prefix);
      context.report(
        `${FIREHOSE} extendedS3Configuration.errorOutputPrefix ${errors} must lie outside the data folder ${folder || "(the bucket root)"}, or a table over the data would read failed records as rows.`,
      );
    }
  },
});

/** Firehose refuses record format conversion (to Parquet or ORC) with a buffer below 64 MiB. */
const MIN_CONVERSION_BUFFER_MIB = 64;
/** The provider's default buffer size, sent when the program does not set one. */
const DEFAULT_BUFFER_MIB = 5;

export const firehoseS3ConversionBuffer = resourceRule({
  name: "firehose-s3-conversion-buffer",
  description: `Firehose streams converting records to Parquet or ORC must buffer at least ${MIN_CONVERSION_BUFFER_MIB} MiB, the service's minimum for format conversion.`,
  enforcementLevel: "mandatory",
  types: [T.FirehoseDeliveryStream],
  check(firehose, context) {
    const s3 = s3Destination(firehose, context);
    const conversion = get(s3, "dataFormatConversionConfiguration");
    if (conversion === undefined || conversion === null) return;
    // Unset `enabled` is true, the provider's default.
    const enabled = get(conversion, "enabled");
    const size = get(s3, "bufferingSize");
    if (enabled === UNKNOWN || size === UNKNOWN) {
      context.couldNotCheck(`${FIREHOSE} bufferingSize could not be checked during preview.`);
    } else if (enabled !== false && !(typeof size === "number" && size >= MIN_CONVERSION_BUFFER_MIB)) {
      context.report(
        `${FIREHOSE} converting records must set extendedS3Configuration.bufferingSize to at least ${MIN_CONVERSION_BUFFER_MIB} MiB (it is ${size === undefined || size === null ? `unset, so ${DEFAULT_BUFFER_MIB}` : String(size)}).`,
      );
    }
  },
});
