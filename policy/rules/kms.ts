import { withStatements } from "../lib/checks";
import { identityBounded, isAccountRoot, isWildcardPrincipal, principalAccount } from "../lib/documents";
import { resourceRule } from "../lib/rule";
import { T } from "../lib/types";
import { UNKNOWN } from "../lib/values";

/** Only symmetric encryption keys can rotate automatically. */
function isSymmetric(props: Readonly<Record<string, unknown>>): boolean | typeof UNKNOWN {
  const spec = props.customerMasterKeySpec;
  const usage = props.keyUsage;
  if (spec === UNKNOWN || usage === UNKNOWN) return UNKNOWN;
  return (
    (spec === undefined || spec === "SYMMETRIC_DEFAULT") &&
    (usage === undefined || usage === "ENCRYPT_DECRYPT")
  );
}

export const kmsKeyRotation = resourceRule({
  name: "kms-key-rotation",
  description: "Symmetric KMS keys must have automatic key rotation enabled.",
  enforcementLevel: "mandatory",
  types: [T.KmsKey],
  check(key, context) {
    const symmetric = isSymmetric(key.props);
    if (symmetric === false) return;
    const rotation = key.props.enableKeyRotation;
    if (rotation === UNKNOWN || symmetric === UNKNOWN) {
      if (rotation !== true) context.couldNotCheck("KMS key rotation could not be checked during preview.");
    } else if (rotation !== true) {
      context.report("KMS key must enable key rotation.");
    }
  },
});

export const kmsDeletionWindow = resourceRule({
  name: "kms-deletion-window",
  description:
    "KMS keys must have the maximum 30-day deletion window, so that a deleted key can be recovered.",
  enforcementLevel: "mandatory",
  types: [T.KmsKey],
  check(key, context) {
    const days = key.props.deletionWindowInDays;
    // Unset is AWS's (and the provider's) default of 30 days.
    if (days === UNKNOWN)
      context.couldNotCheck("KMS key deletionWindowInDays could not be checked during preview.");
    else if (days !== undefined && days !== 30) {
      context.report(`KMS key deletion window must be 30 days (it is ${String(days)}).`);
    }
  },
});

export const kmsKeyPolicyScoped = resourceRule({
  name: "kms-key-policy-scoped",
  description:
    "KMS key policies must not allow kms:* to anyone but the key account's root, nor allow a wildcard principal without a condition on who calls.",
  enforcementLevel: "mandatory",
  types: [T.KmsKey],
  check(key, context) {
    // No policy: AWS's default key policy, which gives the key account's root kms:* and nothing else.
    withStatements(context, "KMS key policy", key.props.policy, (statements) => {
      for (const statement of statements.filter((s) => s.effect === "Allow")) {
        const principals = statement.principals ?? [];
        const prefix = `KMS key policy statement ${statement.number}`;
        if (principals.some(isWildcardPrincipal)) {
          const bounded = identityBounded(statement.condition);
          if (bounded === UNKNOWN)
            context.couldNotCheck(`${prefix} conditions could not be checked during preview.`);
          else if (!bounded)
            context.report(
              `${prefix} must not allow a wildcard principal without a condition on who calls (aws:PrincipalOrgID, aws:PrincipalAccount, aws:PrincipalArn, kms:CallerAccount, aws:SourceAccount or aws:SourceArn).`,
            );
        }
        const actions = statement.actions ?? [];
        const everything =
          statement.notActions !== undefined ||
          actions.some((a) => a === "*" || (typeof a === "string" && a.toLowerCase() === "kms:*"));
        if (!everything) {
          if (actions.includes(UNKNOWN))
            context.couldNotCheck(`${prefix} actions could not be checked during preview.`);
          continue;
        }
        const outsiders: string[] = [];
        let unknown = false;
        for (const principal of principals) {
          if (principal.value === UNKNOWN) unknown = true;
          else if (principal.kind !== "AWS" || !isAccountRoot(principal.value))
            outsiders.push(principal.value);
          else if (key.account !== undefined && principalAccount(principal.value) !== key.account) {
            outsiders.push(principal.value);
          }
        }
        if (outsiders.length > 0) {
          context.report(
            `${prefix} must grant kms:* only to the key account's root (not ${outsiders.join(", ")}).`,
          );
        } else if (unknown) {
          context.couldNotCheck(`${prefix} principals could not be checked during preview.`);
        }
      }
    });
  },
});
