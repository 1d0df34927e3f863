import { resourceRule } from "../lib/rule";
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
