import { z } from "zod";

/**
 * The training pipeline's one computation. Amazon States Language (JSONPath) has no subtraction
 * and `States.MathAdd` rounds its arguments to integers, so "not worse than the current version by
 * more than the margin" on metrics between 0 and 1 needs this function. It is the code the
 * pipeline's tests run inside the local state machine interpreter.
 */
export const MetricsGateInput = z.object({
  /** The offline metric of the newly trained solution version. */
  candidate: z.number().finite(),
  /** The same metric of the version the campaign serves now. */
  current: z.number().finite(),
  /** How much lower the candidate may score and still replace the current version. */
  margin: z.number().finite().min(0),
});
export type MetricsGateInput = z.infer<typeof MetricsGateInput>;

export interface MetricsGateVerdict {
  readonly notWorse: boolean;
  /** The lowest candidate score that would have passed. */
  readonly floor: number;
}

export async function handler(event: unknown): Promise<MetricsGateVerdict> {
  const parsed = MetricsGateInput.safeParse(event);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.join(".") || "input"}: ${issue.message}`);
    throw new Error(`metrics gate: invalid input: ${issues.join("; ")}`);
  }
  const { candidate, current, margin } = parsed.data;
  const floor = current - margin;
  return { notWorse: candidate >= floor, floor };
}
