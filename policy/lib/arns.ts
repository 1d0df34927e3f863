import { UNKNOWN } from "./values";

/** A Kinesis stream or registered consumer ARN, split into its parts. */
export interface KinesisArn {
  readonly region: string;
  readonly account: string;
  readonly stream: string;
  /** `<name>:<creation timestamp>` for an enhanced fan-out consumer ARN. */
  readonly consumer?: string;
}

const KINESIS_ARN = /^arn:aws[\w-]*:kinesis:([a-z0-9-]+):(\d{12}):stream\/([\w.-]+)(?:\/consumer\/(.+))?$/;

/** `arn:aws:kinesis:<region>:<account>:stream/<name>[/consumer/<name>:<ts>]`, or undefined. */
export function parseKinesisArn(value: string): KinesisArn | undefined {
  const match = KINESIS_ARN.exec(value);
  if (!match) return undefined;
  return { region: match[1]!, account: match[2]!, stream: match[3]!, consumer: match[4] };
}

/** The service of an ARN (`kinesis`, `dynamodb`, `sqs`...), or undefined when it is not an ARN. */
export const arnService = (value: string): string | undefined =>
  /^arn:aws[\w-]*:([a-z0-9-]+):/.exec(value)?.[1];

/** The account of an ARN, when it has one. */
export const arnAccount = (value: string): string | undefined =>
  /^arn:aws[\w-]*:[a-z0-9-]+:[a-z0-9-]*:(\d{12}):/.exec(value)?.[1];

/** An AWS-managed key (`alias/aws/<service>`, bare or as an alias ARN): its key policy cannot be changed. */
export const isAwsManagedKey = (keyId: string): boolean => /(^|:)alias\/aws\//.test(keyId);

/**
 * Whether a key reference names a customer-managed key. A reference that is not known yet is the
 * output of a key or alias this deployment creates, and a deployment cannot create an AWS-managed key
 * (those are referenced by a literal `alias/aws/...`), so unknown counts as customer-managed.
 */
export const isCustomerManagedKey = (keyId: unknown): boolean =>
  keyId === UNKNOWN || (typeof keyId === "string" && keyId.length > 0 && !isAwsManagedKey(keyId));
