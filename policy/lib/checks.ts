import { parsePolicyDocument, type Statement } from "./documents";
import type { RuleContext } from "./rule";
import type { SettingKey } from "./settings";

/**
 * Runs `check` over the statements of a policy document property. A document that is not known yet
 * is a could-not-check; one that cannot be parsed is a violation of every rule that reads it (a rule
 * must not pass what it cannot read); an absent one is the caller's decision (`onAbsent`).
 */
export function withStatements<K extends SettingKey>(
  context: RuleContext<K>,
  subject: string,
  document: unknown,
  check: (statements: readonly Statement[]) => void,
  onAbsent?: () => void,
): void {
  const parsed = parsePolicyDocument(document);
  switch (parsed.kind) {
    case "unknown":
      context.couldNotCheck(`${subject} could not be checked during preview.`);
      return;
    case "malformed":
      context.report(`${subject} must be a valid policy document (${parsed.reason}).`);
      return;
    case "absent":
      onAbsent?.();
      return;
    case "parsed":
      check(parsed.statements);
  }
}

/** `a, b and c` */
export function listOf(items: readonly string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}
