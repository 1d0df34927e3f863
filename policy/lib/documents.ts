import { asList, isRecord, snapshot, UNKNOWN, type Unknown } from "./values";

/** One principal of a statement: `"*"` (the bare wildcard) or a `{ kind: value }` entry. */
export interface Principal {
  readonly kind: "*" | "AWS" | "Service" | "Federated" | "CanonicalUser" | string;
  readonly value: string | Unknown;
}

/** A statement of an IAM or resource policy, normalised: lists are lists, absent is undefined. */
export interface Statement {
  /** 1-based position in the document, used in messages. */
  readonly number: number;
  readonly effect: "Allow" | "Deny";
  readonly principals?: readonly Principal[];
  readonly notPrincipals?: readonly Principal[];
  readonly actions?: readonly (string | Unknown)[];
  readonly notActions?: readonly (string | Unknown)[];
  readonly resources?: readonly (string | Unknown)[];
  readonly notResources?: readonly (string | Unknown)[];
  /** `{ operator: { key: value } }`, or UNKNOWN when the whole block is unknown. */
  readonly condition?: Readonly<Record<string, unknown>> | Unknown;
}

export type ParsedDocument =
  | { readonly kind: "parsed"; readonly statements: readonly Statement[] }
  | { readonly kind: "unknown" }
  | { readonly kind: "absent" }
  | { readonly kind: "malformed"; readonly reason: string };

/**
 * Parses a policy document given as a JSON string (what `pulumi.jsonStringify` produces) or as an
 * object (`aws.iam.PolicyDocument`). Never throws: a document that cannot be read is `malformed`,
 * which rules report as a violation; a document that is not known yet is `unknown`.
 */
export function parsePolicyDocument(value: unknown): ParsedDocument {
  if (value === UNKNOWN) return { kind: "unknown" };
  if (value === undefined || value === null || value === "") return { kind: "absent" };
  let document: unknown = value;
  if (typeof value === "string") {
    try {
      document = snapshot(JSON.parse(value));
    } catch {
      return { kind: "malformed", reason: "it is not valid JSON" };
    }
  }
  if (!isRecord(document)) return { kind: "malformed", reason: "it is not a JSON object" };
  const raw = document.Statement;
  if (raw === UNKNOWN) return { kind: "unknown" };
  if (raw === undefined) return { kind: "malformed", reason: "it has no Statement" };
  const statements: Statement[] = [];
  const list = asList(raw);
  for (const [index, entry] of list.entries()) {
    const number = index + 1;
    if (entry === UNKNOWN) return { kind: "unknown" };
    if (!isRecord(entry)) return { kind: "malformed", reason: `statement ${number} is not an object` };
    const effect = entry.Effect;
    if (effect === UNKNOWN) return { kind: "unknown" };
    if (effect !== "Allow" && effect !== "Deny") {
      return { kind: "malformed", reason: `statement ${number} has no Effect Allow or Deny` };
    }
    const fields: Record<string, readonly (string | Unknown)[] | undefined> = {};
    for (const key of ["Action", "NotAction", "Resource", "NotResource"] as const) {
      const strings = stringList(entry[key]);
      if (strings === "malformed") {
        return { kind: "malformed", reason: `statement ${number} ${key} is not a string or list of strings` };
      }
      fields[key] = strings;
    }
    if (fields.Action === undefined && fields.NotAction === undefined) {
      return { kind: "malformed", reason: `statement ${number} has no Action` };
    }
    const principals = principalList(entry.Principal);
    const notPrincipals = principalList(entry.NotPrincipal);
    if (principals === "malformed" || notPrincipals === "malformed") {
      return { kind: "malformed", reason: `statement ${number} has a malformed Principal` };
    }
    const condition = entry.Condition;
    if (condition !== undefined && condition !== UNKNOWN && !isRecord(condition)) {
      return { kind: "malformed", reason: `statement ${number} Condition is not an object` };
    }
    statements.push({
      number,
      effect,
      principals,
      notPrincipals,
      actions: fields.Action,
      notActions: fields.NotAction,
      resources: fields.Resource,
      notResources: fields.NotResource,
      condition: condition as Statement["condition"],
    });
  }
  return { kind: "parsed", statements };
}

function stringList(value: unknown): (string | Unknown)[] | undefined | "malformed" {
  if (value === undefined) return undefined;
  if (value === UNKNOWN) return [UNKNOWN];
  const list = asList(value);
  if (list.length === 0) return "malformed";
  return list.every((item) => typeof item === "string" || item === UNKNOWN)
    ? (list as (string | Unknown)[])
    : "malformed";
}

function principalList(value: unknown): Principal[] | undefined | "malformed" {
  if (value === undefined) return undefined;
  if (value === UNKNOWN) return [{ kind: "AWS", value: UNKNOWN }];
  if (value === "*") return [{ kind: "*", value: "*" }];
  if (!isRecord(value)) return "malformed";
  const principals: Principal[] = [];
  for (const [kind, entries] of Object.entries(value)) {
    const list = entries === UNKNOWN ? [UNKNOWN] : asList(entries);
    if (list.length === 0) return "malformed";
    for (const item of list) {
      if (typeof item !== "string" && item !== UNKNOWN) return "malformed";
      principals.push({ kind, value: item as string | Unknown });
    }
  }
  return principals.length > 0 ? principals : "malformed";
}

/** `"*"` or `{ AWS: "*" }` (and `{ AWS: ["*"] }`): anyone, in any account. */
export const isWildcardPrincipal = (principal: Principal): boolean =>
  principal.kind === "*" || (principal.kind === "AWS" && principal.value === "*");

/** The account of an AWS principal: an account id, an account root, or an IAM/STS ARN. */
export function principalAccount(value: string): string | undefined {
  if (/^\d{12}$/.test(value)) return value;
  return /^arn:aws[\w-]*:(?:iam|sts)::(\d{12}):/.exec(value)?.[1];
}

/** True for the root of an account: the account id itself or `arn:aws:iam::<id>:root`. */
export const isAccountRoot = (value: string): boolean =>
  /^\d{12}$/.test(value) || /^arn:aws[\w-]*:iam::\d{12}:root$/.test(value);

/** The values of a condition key across operators, e.g. `aws:PrincipalOrgID` under StringEquals. */
export function conditionValues(
  condition: Statement["condition"],
  key: string,
  operators: readonly string[],
): (string | Unknown)[] | Unknown {
  if (condition === UNKNOWN) return UNKNOWN;
  if (condition === undefined) return [];
  const values: (string | Unknown)[] = [];
  for (const [operator, block] of Object.entries(condition)) {
    if (!operators.includes(operator)) continue;
    if (block === UNKNOWN) return UNKNOWN;
    if (!isRecord(block)) continue;
    for (const [conditionKey, value] of Object.entries(block)) {
      if (conditionKey.toLowerCase() !== key.toLowerCase()) continue;
      for (const item of asList(value)) {
        if (typeof item === "string" || item === UNKNOWN) values.push(item);
        else if (typeof item === "boolean") values.push(String(item));
      }
    }
  }
  return values;
}

/**
 * Condition keys that say who the caller is (or, for a service acting for someone, on whose
 * behalf): a statement whose principal is `*` is bounded only by one of these, under an operator
 * that matches (not a negated one).
 */
export const IDENTITY_CONDITION_KEYS = [
  "aws:PrincipalOrgID",
  "aws:PrincipalOrgPaths",
  "aws:PrincipalAccount",
  "aws:PrincipalArn",
  "aws:userid",
  "kms:CallerAccount",
  "aws:SourceAccount",
  "aws:SourceArn",
  "aws:SourceOwner",
] as const;

const MATCHING_OPERATORS = [
  "StringEquals",
  "StringEqualsIgnoreCase",
  "StringLike",
  "ArnEquals",
  "ArnLike",
  "ForAnyValue:StringEquals",
  "ForAnyValue:StringLike",
  "ForAllValues:StringEquals",
  "ForAllValues:StringLike",
];

/** Whether the condition bounds who calls: a matching operator on an identity key, with a value that is not `*`. */
export function identityBounded(condition: Statement["condition"]): boolean | Unknown {
  let unknown = false;
  for (const key of IDENTITY_CONDITION_KEYS) {
    const values = conditionValues(condition, key, MATCHING_OPERATORS);
    if (values === UNKNOWN) return UNKNOWN;
    if (values.includes(UNKNOWN)) unknown = true;
    else if (
      values.length > 0 &&
      values.every((value) => typeof value === "string" && value.replace(/[*?]/g, "") !== "")
    ) {
      return true;
    }
  }
  return unknown ? UNKNOWN : false;
}

/** True when the condition block has at least one operator with at least one key. */
export function hasCondition(condition: Statement["condition"]): boolean | Unknown {
  if (condition === UNKNOWN) return UNKNOWN;
  if (condition === undefined) return false;
  return Object.values(condition).some(
    (block) => block === UNKNOWN || (isRecord(block) && Object.keys(block).length > 0),
  );
}

/** IAM action names are case-insensitive. */
export const sameAction = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();
