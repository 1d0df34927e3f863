import { principalAccount } from "../lib/documents";
import { resourceRule, type ResourceView, type RuleContext } from "../lib/rule";
import type { SettingKey } from "../lib/settings";
import { T } from "../lib/types";
import { listOf } from "../lib/checks";
import { resolveGrant } from "../lib/lake";
import { asList, get, parseMaybeJson, UNKNOWN, type Unknown } from "../lib/values";

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
    permissions.account ??
    (typeof catalog === "string" ? catalog : catalog === UNKNOWN ? UNKNOWN : undefined);
  const account = principalAccount(principal);
  if (account === undefined) return false; // SAML / Identity Center principals live in the catalog's account
  if (own === UNKNOWN || own === undefined) return /^\d{12}$/.test(principal) ? true : UNKNOWN;
  return account !== own;
}

/**
 * The grant's principal when it is outside the catalog's account; undefined when it is not, and
 * also, after noting a could-not-check, when the principal or the catalog account is not known.
 */
function externalPrincipal<K extends SettingKey>(
  permissions: ResourceView,
  context: RuleContext<K>,
): string | undefined {
  const principal = permissions.props.principal;
  if (principal === UNKNOWN) {
    context.couldNotCheck("Lake Formation permissions principal could not be checked during preview.");
    return undefined;
  }
  if (typeof principal !== "string") return undefined;
  const external = isExternal(permissions, principal);
  if (external === UNKNOWN) {
    context.couldNotCheck("Lake Formation permissions catalog account could not be checked during preview.");
    return undefined;
  }
  return external ? principal : undefined;
}

const NAMED_RESOURCES = ["database", "table", "tableWithColumns", "dataCellsFilter"] as const;

export const lakeformationExternalGrantsLfTags = resourceRule({
  name: "lakeformation-external-grants-lf-tags",
  description:
    "Lake Formation grants to other accounts or organizations must go through LF-tag expressions, not named resources.",
  enforcementLevel: "mandatory",
  types: [T.LakeFormationPermissions],
  check(permissions, context) {
    const named = NAMED_RESOURCES.filter(
      (key) => permissions.props[key] !== undefined && permissions.props[key] !== null,
    );
    if (named.length === 0) return;
    const principal = externalPrincipal(permissions, context);
    if (principal) {
      context.report(
        `Lake Formation grant to external principal ${principal} must use an LF-tag policy (lfTagPolicy), not ${named[0]}.`,
      );
    }
  },
});

export const lakeformationSettingsAdmins = resourceRule({
  name: "lakeformation-settings-admins",
  description:
    "Lake Formation settings must name data lake admins, each a role or user of the catalog's own account.",
  enforcementLevel: "mandatory",
  types: [T.LakeFormationSettings],
  check(settings, context) {
    const admins = parseMaybeJson(settings.props.admins);
    if (admins === UNKNOWN) {
      context.couldNotCheck("Lake Formation admins could not be checked during preview.");
      return;
    }
    const list = asList(admins);
    if (list.length === 0) {
      context.report("Lake Formation settings must name at least one data lake admin (admins).");
      return;
    }
    const catalog = settings.props.catalogId;
    const own = typeof catalog === "string" ? catalog : catalog === UNKNOWN ? UNKNOWN : settings.account;
    for (const admin of list) {
      if (admin === UNKNOWN) continue; // the ARN of a role this deployment creates
      const account = typeof admin === "string" ? principalAccount(admin) : undefined;
      if (typeof admin !== "string" || !/^arn:aws[\w-]*:iam::\d{12}:(role|user)\//.test(admin)) {
        context.report(`Lake Formation admin ${String(admin)} must be an IAM role or user ARN.`);
      } else if (own === UNKNOWN) {
        context.couldNotCheck("Lake Formation settings catalog account could not be checked during preview.");
      } else if (own !== undefined && account !== own) {
        context.report(`Lake Formation admin ${admin} must belong to the catalog's account ${own}.`);
      }
    }
  },
});

/**
 * What a principal outside the catalog's account may be given: reading (DESCRIBE, SELECT) on data,
 * and describing or associating LF-tags, which lets its own admin grant by tag expression. Writing,
 * altering, dropping, data locations and ALL stay with the catalog's account.
 */
const EXTERNAL_DATA_PERMISSIONS = ["DESCRIBE", "SELECT"];
const EXTERNAL_TAG_PERMISSIONS = ["DESCRIBE", "ASSOCIATE"];

export const lakeformationExternalGrantsReadOnly = resourceRule({
  name: "lakeformation-external-grants-read-only",
  description:
    "Lake Formation grants to other accounts or organizations must only read: DESCRIBE and SELECT on data, DESCRIBE and ASSOCIATE on LF-tags.",
  enforcementLevel: "mandatory",
  types: [T.LakeFormationPermissions],
  check(permissions, context) {
    const principal = externalPrincipal(permissions, context);
    if (!principal) return;
    const onTag = permissions.props.lfTag !== undefined && permissions.props.lfTag !== null;
    const allowed = onTag ? EXTERNAL_TAG_PERMISSIONS : EXTERNAL_DATA_PERMISSIONS;
    for (const key of ["permissions", "permissionsWithGrantOptions"]) {
      const granted = parseMaybeJson(permissions.props[key]);
      if (granted === UNKNOWN || asList(granted).includes(UNKNOWN)) {
        context.couldNotCheck(`Lake Formation ${key} could not be checked during preview.`);
        continue;
      }
      const extra = asList(granted)
        .map(String)
        .filter((permission) => !allowed.includes(permission));
      if (extra.length > 0) {
        context.report(
          `Lake Formation grant to external principal ${principal} must only give ${listOf(allowed)}${key === "permissions" ? "" : " with grant option"} (it gives ${listOf(extra)}).`,
        );
      }
    }
  },
});

export const lakeformationResourceNoHybridAccess = resourceRule({
  name: "lakeformation-resource-no-hybrid-access",
  description:
    "S3 locations registered with Lake Formation must not use hybrid access mode, in which IAM and bucket policies still grant access beside Lake Formation permissions.",
  enforcementLevel: "mandatory",
  types: [T.LakeFormationResource],
  check(resource, context) {
    const hybrid = resource.props.hybridAccessEnabled;
    if (hybrid === UNKNOWN) {
      context.couldNotCheck("Lake Formation hybridAccessEnabled could not be checked during preview.");
    } else if (hybrid === true) {
      context.report(
        "Lake Formation registered location must not enable hybrid access mode (hybridAccessEnabled).",
      );
    }
  },
});

/** The catalog a grant is made in: `catalogId`, else the provider's account. */
function catalogOf(grant: ResourceView): string | Unknown | undefined {
  const catalog = grant.props.catalogId;
  return typeof catalog === "string" || catalog === UNKNOWN ? catalog : grant.account;
}

export const lakeformationGrantsDeclared = resourceRule({
  name: "lakeformation-grants-declared",
  description:
    "Lake Formation grants must go to principals of the mesh's accounts and, beyond a table's producer and the central catalog, match an at-rest subscription of the principal's account.",
  enforcementLevel: "mandatory",
  types: [T.LakeFormationPermissions],
  settings: ["meshAccountIds", "lakeFormationAccess"],
  check(grant, context) {
    const principal = grant.props.principal;
    if (principal === UNKNOWN) {
      context.couldNotCheck("Lake Formation permissions principal could not be checked during preview.");
      return;
    }
    if (typeof principal !== "string" || principal === IAM_ALLOWED_PRINCIPALS) return;
    if (/^arn:aws[\w-]*:organizations::/.test(principal)) {
      context.report(
        `Lake Formation grant to ${principal} must name an account or role of the mesh, not an organization or organizational unit.`,
      );
      return;
    }
    const catalog = catalogOf(grant);
    // SAML and Identity Center principals live in the catalog's account.
    const account = principalAccount(principal) ?? catalog;
    if (account === UNKNOWN) {
      context.couldNotCheck(
        "Lake Formation permissions catalog account could not be checked during preview.",
      );
      return;
    }
    const mesh = context.settings.meshAccountIds ?? (grant.account ? [grant.account] : []);
    if (account === undefined || !mesh.includes(account)) {
      context.report(
        `Lake Formation grant to ${principal} must name a principal of the mesh's accounts (${account ?? "its account"} is not one).`,
      );
      return;
    }
    const access = context.settings.lakeFormationAccess ?? { tables: [], subscriptions: [] };
    if (account === access.catalogAccountId) return; // the central catalog administers every table
    const target = resolveGrant(grant.props, access.tables);
    if (target === UNKNOWN) {
      context.couldNotCheck("Lake Formation permissions resource could not be checked during preview.");
      return;
    }
    if (target.scope === "lf-tag") return; // describing or associating a tag reaches no data
    if (target.matches.length === 0) {
      if (account !== catalog) {
        context.report(
          `Lake Formation grant to ${principal} on ${target.label} must match an at-rest subscription of account ${account} (it reaches no table of the mesh).`,
        );
      }
      return;
    }
    for (const { table, columns } of target.matches) {
      if (table.accountId === account) continue; // the producer's own table
      const subscriptions = access.subscriptions.filter(
        (subscription) => subscription.accountId === account && subscription.product === table.product,
      );
      if (subscriptions.length === 0) {
        context.report(
          `Lake Formation grant to ${principal} on ${target.label} must match an at-rest subscription of account ${account} (none to ${table.product}).`,
        );
        continue;
      }
      if (target.scope === "database" || columns === undefined) continue;
      const declared = new Set(subscriptions.flatMap((subscription) => subscription.columns));
      const extra = columns.filter((column) => !declared.has(column));
      if (extra.length > 0) {
        context.report(
          `Lake Formation grant to ${principal} on ${table.product} must stay within the columns of ${listOf(subscriptions.map((s) => s.ref))} (it also gives ${listOf(extra)}).`,
        );
      }
    }
  },
});
