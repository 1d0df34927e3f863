import { principalAccount } from "../lib/documents";
import { resourceRule, type ResourceView } from "../lib/rule";
import { T } from "../lib/types";
import { asList, get, parseMaybeJson, UNKNOWN } from "../lib/values";

const IAM_ALLOWED_PRINCIPALS = "IAM_ALLOWED_PRINCIPALS";
const MIN_SHARING_VERSION = 4;

export const lakeformationDataSharingVersion = resourceRule({
  name: "lakeformation-data-sharing-version",
  description: `Lake Formation settings must use cross-account data sharing version ${MIN_SHARING_VERSION} or later (CROSS_ACCOUNT_VERSION).`,
  enforcementLevel: "mandatory",
  types: [T.LakeFormationSettings],
  check(settings, context) {
    const version = get(parseMaybeJson(settings.props.parameters), "CROSS_ACCOUNT_VERSION");
    if (version === UNKNOWN) {
      context.couldNotCheck("Lake Formation CROSS_ACCOUNT_VERSION could not be checked during preview.");
      return;
    }
    const number =
      typeof version === "number" ? version : typeof version === "string" ? Number(version) : NaN;
    if (!(number >= MIN_SHARING_VERSION)) {
      context.report(
        `Lake Formation parameters.CROSS_ACCOUNT_VERSION must be at least ${MIN_SHARING_VERSION} (it is ${String(version ?? "unset")}).`,
      );
    }
  },
});

export const lakeformationNoIamAllowedPrincipals = resourceRule({
  name: "lakeformation-no-iam-allowed-principals",
  description:
    "Lake Formation must not grant IAM_ALLOWED_PRINCIPALS, which bypasses Lake Formation permissions on shared databases and tables.",
  enforcementLevel: "mandatory",
  types: [T.LakeFormationPermissions, T.LakeFormationSettings],
  check(resource, context) {
    if (resource.type === T.LakeFormationPermissions) {
      const principal = resource.props.principal;
      if (principal === UNKNOWN)
        context.couldNotCheck("Lake Formation permissions principal could not be checked during preview.");
      else if (principal === IAM_ALLOWED_PRINCIPALS) {
        context.report(`Lake Formation permissions must not be granted to ${IAM_ALLOWED_PRINCIPALS}.`);
      }
      return;
    }
    for (const key of ["createDatabaseDefaultPermissions", "createTableDefaultPermissions"]) {
      const defaults = resource.props[key];
      if (defaults === UNKNOWN) {
        context.couldNotCheck(`Lake Formation ${key} could not be checked during preview.`);
        continue;
      }
      const principals = asList(defaults).map((entry) => get(entry, "principal"));
      if (principals.includes(IAM_ALLOWED_PRINCIPALS)) {
        context.report(`Lake Formation ${key} must not grant ${IAM_ALLOWED_PRINCIPALS}.`);
      } else if (principals.includes(UNKNOWN)) {
        context.couldNotCheck(`Lake Formation ${key} could not be checked during preview.`);
      }
    }
  },
});

/**
 * Whether a grant's principal is outside the account that writes the grant: another account, an
 * org or an OU. A consumer account granting its own roles SELECT on a table another account shared
 * with it names the producer's catalog, but grants nothing across accounts: that is internal.
 */
function isExternal(permissions: ResourceView, principal: string): boolean | typeof UNKNOWN {
  if (principal === IAM_ALLOWED_PRINCIPALS) return false;
  if (/^arn:aws[\w-]*:organizations::/.test(principal)) return true;
  const catalog = permissions.props.catalogId;
  const own =
    permissions.account ?? (typeof catalog === "string" ? catalog : catalog === UNKNOWN ? UNKNOWN : undefined);
  const account = principalAccount(principal);
  if (account === undefined) return false; // SAML / Identity Center principals live in the catalog's account
  if (own === UNKNOWN || own === undefined) return /^\d{12}$/.test(principal) ? true : UNKNOWN;
  return account !== own;
}

const NAMED_RESOURCES = ["database", "table", "tableWithColumns", "dataCellsFilter"] as const;

export const lakeformationExternalGrantsLfTags = resourceRule({
  name: "lakeformation-external-grants-lf-tags",
  description:
    "Lake Formation grants to other accounts or organizations must go through LF-tag expressions, not named resources.",
  enforcementLevel: "mandatory",
  types: [T.LakeFormationPermissions],
  check(permissions, context) {
    const principal = permissions.props.principal;
    if (principal === UNKNOWN) {
      context.couldNotCheck("Lake Formation permissions principal could not be checked during preview.");
      return;
    }
    if (typeof principal !== "string") return;
    const named = NAMED_RESOURCES.filter(
      (key) => permissions.props[key] !== undefined && permissions.props[key] !== null,
    );
    if (named.length === 0) return;
    const external = isExternal(permissions, principal);
    if (external === UNKNOWN) {
      context.couldNotCheck(
        "Lake Formation permissions catalog account could not be checked during preview.",
      );
    } else if (external) {
      context.report(
        `Lake Formation grant to external principal ${principal} must use an LF-tag policy (lfTagPolicy), not ${named[0]}.`,
      );
    }
  },
});
