/** A required environment variable is missing or empty; names the variable so the fix is obvious. */
export class MissingEnvironmentVariableError extends Error {
  override readonly name = "MissingEnvironmentVariableError";
  constructor(readonly variable: string) {
    super(`environment variable ${variable} is not set`);
  }
}

export class InvalidEnvironmentVariableError extends Error {
  override readonly name = "InvalidEnvironmentVariableError";
  constructor(
    readonly variable: string,
    readonly value: string,
    expected: string,
  ) {
    super(`environment variable ${variable} must be ${expected}, got ${JSON.stringify(value)}`);
  }
}

/**
 * The one way runtime code reads its configuration: the value of `name`, or `fallback` when the
 * variable is unset or empty. Without a fallback a missing variable throws
 * {@link MissingEnvironmentVariableError} instead of letting `undefined` travel into an API call.
 */
export function env(name: string, fallback?: string): string {
  const value = process.env[name];
  if (value !== undefined && value !== "") return value;
  if (fallback !== undefined) return fallback;
  throw new MissingEnvironmentVariableError(name);
}

/** {@link env} for whole numbers of at least `min`; throws naming the variable when it is not one. */
export function envInteger(
  name: string,
  options: { readonly min?: number; readonly fallback?: number } = {},
): number {
  const raw = env(name, options.fallback === undefined ? undefined : String(options.fallback));
  const min = options.min ?? Number.MIN_SAFE_INTEGER;
  const value = Number(raw);
  if (!/^-?\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < min) {
    throw new InvalidEnvironmentVariableError(name, raw, `an integer of at least ${min}`);
  }
  return value;
}
