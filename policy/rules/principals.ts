import { parseKinesisArn } from "../lib/arns";
import { listOf, withStatements } from "../lib/checks";
import { conditionValues, isWildcardPrincipal, principalAccount, type Statement } from "../lib/documents";
import { resourceRule, type ResourceView } from "../lib/rule";
import { T } from "../lib/types";
import { UNKNOWN } from "../lib/values";

/** Resource policies that can name principals of other accounts, and the property holding each. */
const DOCUMENTS: Readonly<Record<string, { readonly property: string; readonly subject: string }>> = {
  [T.StreamResourcePolicy]: { property: "policy", subject: "Kinesis resource policy" },
  [T.KmsKey]: { property: "policy", subject: "KMS key policy" },
  [T.BucketPolicy]: { property: "policy", subject: "S3 bucket policy" },
  [T.SnsTopicPolicy]: { property: "policy", subject: "SNS topic policy" },
  [T.SqsQueuePolicy]: { property: "policy", subject: "SQS queue policy" },
  [T.IamRole]: { property: "assumeRolePolicy", subject: "IAM role trust policy" },
};

function orgBounded(statement: Statement, organizationId: string | undefined): boolean | typeof UNKNOWN {
  const values = conditionValues(statement.condition, "aws:PrincipalOrgID", [
    "StringEquals",
    "StringEqualsIgnoreCase",
    "ForAnyValue:StringEquals",
  ]);
  if (values === UNKNOWN) return UNKNOWN;
  if (values.length === 0) return false;
  if (values.includes(UNKNOWN)) return UNKNOWN;
  return organizationId === undefined || values.every((value) => value === organizationId);
}

/** The account that owns what the document guards: a stream policy's stream, else the resource's. */
function ownAccount(resource: ResourceView): string | undefined | typeof UNKNOWN {
  if (resource.type !== T.StreamResourcePolicy) return resource.account;
  const arn = resource.props.resourceArn;
  if (arn === UNKNOWN) return resource.account ?? UNKNOWN;
  return (typeof arn === "string" ? parseKinesisArn(arn)?.account : undefined) ?? resource.account;
}

/**
 * The README's promise for every grant that crosses accounts: the principal is in a mesh account,
 * and the statement is bounded by the organization (`aws:PrincipalOrgID`), both. Principals of
 * the resource's own account are its account's business (other rules); wildcard principals are the
 * wildcard rules'; service principals act for the account that configured them.
 */
export const crossAccountMeshPrincipals = resourceRule({
  name: "cross-account-mesh-principals",
  description:
    "Resource and trust policies must only allow principals of other accounts that are in the mesh, in statements bounded by aws:PrincipalOrgID.",
  enforcementLevel: "mandatory",
  types: Object.keys(DOCUMENTS),
  settings: ["meshAccountIds", "organizationId"],
  check(resource, context) {
    const { meshAccountIds, organizationId } = context.settings;
    const { property, subject } = DOCUMENTS[resource.type]!;
    const own = ownAccount(resource);
    withStatements(context, subject, resource.props[property], (statements) => {
      for (const statement of statements.filter((s) => s.effect === "Allow")) {
        const prefix = `${subject} statement ${statement.number}`;
        const outsiders: string[] = [];
        const unbounded: string[] = [];
        let unknown = false;
        for (const principal of statement.principals ?? []) {
          if (isWildcardPrincipal(principal) || principal.kind === "Service") continue;
          if (principal.value === UNKNOWN || own === UNKNOWN || own === undefined) {
            unknown = true;
            continue;
          }
          const account = principal.kind === "AWS" ? principalAccount(principal.value) : undefined;
          if (account !== undefined && account === own) continue;
          // Without a configured mesh (a bare `pulumi preview`), the organization is the boundary.
          if (account === undefined || (meshAccountIds !== undefined && !meshAccountIds.includes(account))) {
            outsiders.push(principal.value);
            continue;
          }
          const bounded = orgBounded(statement, organizationId);
          if (bounded === UNKNOWN) unknown = true;
          else if (!bounded) unbounded.push(principal.value);
        }
        if (outsiders.length) {
          context.report(`${prefix} must only allow principals of mesh accounts (not ${listOf(outsiders)}).`);
        }
        if (unbounded.length) {
          context.report(
            `${prefix} must bound ${listOf(unbounded)} by aws:PrincipalOrgID${organizationId ? ` ${organizationId}` : ""}.`,
          );
        }
        if (!outsiders.length && !unbounded.length && unknown) {
          context.couldNotCheck(`${prefix} principals could not be checked during preview.`);
        }
      }
    });
  },
});
