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
