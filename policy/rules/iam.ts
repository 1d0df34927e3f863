import { listOf, withStatements } from "../lib/checks";
import { sameAction, type Statement } from "../lib/documents";
import { resourceRule, type ResourceView } from "../lib/rule";
import { IAM_POLICY_TYPES, T } from "../lib/types";
import { asList, get, UNKNOWN } from "../lib/values";

/** The identity policy documents of a resource: a policy's `policy`, a role's inline policies. */
function identityDocuments(resource: ResourceView): { subject: string; document: unknown }[] {
  if (resource.type !== T.IamRole) return [{ subject: "IAM policy", document: resource.props.policy }];
  const inline = resource.props.inlinePolicies;
  if (inline === UNKNOWN) return [{ subject: "IAM role inline policies", document: UNKNOWN }];
  return asList(inline).map((entry, index) => ({
    subject: `IAM role inline policy ${String(get(entry, "name") ?? index + 1)}`,
    document: get(entry, "policy"),
  }));
}

const isWildcardAction = (action: string): boolean => action === "*" || /^[a-z0-9-]+:\*$/i.test(action);

const allows = (statements: readonly Statement[]) =>
  statements.filter((statement) => statement.effect === "Allow");

export const iamNoWildcardAction = resourceRule({
  name: "iam-no-wildcard-action",
  description: 'IAM policies must not allow "*" or "<service>:*" actions, nor use NotAction with Allow.',
  enforcementLevel: "mandatory",
  types: IAM_POLICY_TYPES,
  check(resource, context) {
    for (const { subject, document } of identityDocuments(resource)) {
      withStatements(context, subject, document, (statements) => {
        for (const statement of allows(statements)) {
          const prefix = `${subject} statement ${statement.number}`;
          if (statement.notActions)
            context.report(`${prefix} must list its actions rather than use NotAction.`);
          const wildcards = (statement.actions ?? []).filter(
            (a): a is string => typeof a === "string" && isWildcardAction(a),
          );
          if (wildcards.length > 0)
            context.report(`${prefix} must not allow wildcard actions (${listOf(wildcards)}).`);
          else if ((statement.actions ?? []).includes(UNKNOWN)) {
            context.couldNotCheck(`${prefix} actions could not be checked during preview.`);
          }
        }
      });
    }
  },
});

export const iamNoWildcardResource = resourceRule({
  name: "iam-no-wildcard-resource",
  description:
    'IAM policies must scope actions to resources: Resource "*" only for the actions of wildcardResourceActions, each listed with its reason.',
  enforcementLevel: "mandatory",
  types: IAM_POLICY_TYPES,
  settings: ["wildcardResourceActions"],
  check(resource, context) {
    const allowed = context.settings.wildcardResourceActions.map((entry) => entry.action);
    for (const { subject, document } of identityDocuments(resource)) {
      withStatements(context, subject, document, (statements) => {
        for (const statement of allows(statements)) {
          const prefix = `${subject} statement ${statement.number}`;
          // An unknown resource is another resource's ARN, never the literal "*".
          const everything =
            statement.notResources !== undefined || (statement.resources ?? []).includes("*");
          if (!everything) continue;
          if (statement.notActions) {
            context.report(`${prefix} must not combine NotAction with Resource "*".`);
            continue;
          }
          const actions = statement.actions ?? [];
          const unscoped = actions.filter(
            (action): action is string =>
              typeof action === "string" && !allowed.some((ok) => sameAction(ok, action)),
          );
          if (unscoped.length > 0) {
            context.report(`${prefix} must scope ${listOf(unscoped)} to resources rather than Resource "*".`);
          } else if (actions.includes(UNKNOWN)) {
            context.couldNotCheck(`${prefix} actions could not be checked during preview.`);
          }
        }
      });
    }
  },
});

/** What attaches managed policies, and the property naming them. */
const ATTACHMENTS: Readonly<Record<string, string>> = {
  [T.IamRole]: "managedPolicyArns",
  [T.IamRolePolicyAttachment]: "policyArn",
  [T.IamPolicyAttachment]: "policyArn",
  [T.IamUserPolicyAttachment]: "policyArn",
  [T.IamGroupPolicyAttachment]: "policyArn",
};

export const iamNoUnplannedManagedPolicies = resourceRule({
  name: "iam-no-unplanned-managed-policies",
  description:
    "IAM principals must not attach managed policies the plan does not create (AWS managed ones such as AdministratorAccess, or another stack's), whose permissions the pack and the access matrix cannot see.",
  enforcementLevel: "mandatory",
  types: Object.keys(ATTACHMENTS),
  check(resource, context) {
    const value = resource.props[ATTACHMENTS[resource.type]!];
    if (value === undefined || value === null) return;
    if (value === UNKNOWN) {
      if (resource.type === T.IamRole)
        context.couldNotCheck("IAM role managedPolicyArns could not be checked during preview.");
      return; // an attachment of a policy this stack creates: its ARN is not known yet, its document is checked
    }
    // A literal ARN names a policy this stack does not create; one this stack creates is an unknown output.
    const unplanned = asList(value).filter((arn): arn is string => typeof arn === "string");
    if (unplanned.length) {
      context.report(
        `IAM ${resource.type === T.IamRole ? "role" : "policy attachment"} must not attach ${listOf(unplanned)}: a managed policy outside the plan cannot be checked; grant the actions it needs inline.`,
      );
    }
  },
});
