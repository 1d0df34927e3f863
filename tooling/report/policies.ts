/**
 * Reading IAM policy documents as the plan records them: just enough of IAM's evaluation to tell
 * who a statement lets do what on which resource. Pure functions, no AWS calls.
 */

/** One statement of a policy document, as written (every field in its loosest IAM form). */
export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect?: string;
  readonly Principal?: unknown;
  readonly NotPrincipal?: unknown;
  readonly Action?: string | readonly string[];
  readonly NotAction?: string | readonly string[];
  readonly Resource?: string | readonly string[];
  readonly NotResource?: string | readonly string[];
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

/** A principal a statement resolves to: a role (or other IAM ARN), an account root, a service or `*`. */
export interface ResolvedPrincipal {
  /** 12-digit account id; `*` for any account; `aws` for a service principal. */
  readonly accountId: string;
  /** The role ARN (possibly a pattern from `aws:PrincipalArn`), `arn:aws:iam::<id>:root`, a service name or `*`. */
  readonly arn: string;
}

/**
 * Kinesis actions the report knows, so that wildcards (`kinesis:Get*`, `kinesis:*`) and
 * `NotAction` can be expanded into the actions they really grant.
 */
export const KINESIS_ACTIONS = [
  "kinesis:AddTagsToStream",
  "kinesis:CreateStream",
  "kinesis:DecreaseStreamRetentionPeriod",
  "kinesis:DeleteResourcePolicy",
  "kinesis:DeleteStream",
  "kinesis:DeregisterStreamConsumer",
  "kinesis:DescribeLimits",
  "kinesis:DescribeStream",
  "kinesis:DescribeStreamConsumer",
  "kinesis:DescribeStreamSummary",
  "kinesis:DisableEnhancedMonitoring",
  "kinesis:EnableEnhancedMonitoring",
  "kinesis:GetRecords",
  "kinesis:GetResourcePolicy",
  "kinesis:GetShardIterator",
  "kinesis:IncreaseStreamRetentionPeriod",
  "kinesis:ListShards",
  "kinesis:ListStreamConsumers",
  "kinesis:ListStreams",
  "kinesis:ListTagsForResource",
  "kinesis:ListTagsForStream",
  "kinesis:MergeShards",
  "kinesis:PutRecord",
  "kinesis:PutRecords",
  "kinesis:PutResourcePolicy",
  "kinesis:RegisterStreamConsumer",
  "kinesis:RemoveTagsFromStream",
  "kinesis:SplitShard",
  "kinesis:StartStreamEncryption",
  "kinesis:StopStreamEncryption",
  "kinesis:SubscribeToShard",
  "kinesis:TagResource",
  "kinesis:UntagResource",
  "kinesis:UpdateShardCount",
  "kinesis:UpdateStreamMode",
] as const;

/** The statements of a policy input: a JSON string or an object, `Statement` one or many. */
export function statementsOf(policy: unknown): PolicyStatement[] {
  let document = policy;
  if (typeof document === "string") {
    try {
      document = JSON.parse(document);
    } catch {
      return [];
    }
  }
  const statement = (document as { Statement?: unknown } | null)?.Statement;
  if (!statement) return [];
  return (Array.isArray(statement) ? statement : [statement]) as PolicyStatement[];
}

export const list = (value: unknown): string[] =>
  value === undefined || value === null ? [] : Array.isArray(value) ? value.map(String) : [String(value)];

/** IAM's wildcard match (`*` any run of characters, `?` one), case-sensitive as for ARNs. */
export function wildcardMatch(pattern: string, value: string, ignoreCase = false): boolean {
  const key = `${ignoreCase ? "i" : "s"}${pattern}`;
  let regex = patterns.get(key);
  if (!regex) {
    regex = new RegExp(
      `^${pattern
        .split("")
        .map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[.+^${}()|[\]\\]/g, "\\$&")))
        .join("")}$`,
      ignoreCase ? "i" : "",
    );
    patterns.set(key, regex);
  }
  return regex.test(value);
}
/** Each pattern compiled once: a plan's policies repeat a few hundred patterns many thousand times. */
const patterns = new Map<string, RegExp>();

/** Whether a statement's `Resource` / `NotResource` covers an ARN (a statement without either covers it). */
export function coversResource(statement: PolicyStatement, arn: string): boolean {
  if (statement.Resource !== undefined) return list(statement.Resource).some((p) => wildcardMatch(p, arn));
  if (statement.NotResource !== undefined)
    return !list(statement.NotResource).some((p) => wildcardMatch(p, arn));
  return true;
}

/**
 * The Kinesis actions a statement names, wildcards expanded against {@link KINESIS_ACTIONS}
 * (action names are case-insensitive in IAM). Actions of other services are left out.
 */
export function kinesisActionsOf(statement: PolicyStatement): string[] {
  if (statement.NotAction !== undefined) {
    const excluded = list(statement.NotAction);
    return KINESIS_ACTIONS.filter((action) => !excluded.some((p) => wildcardMatch(p, action, true)));
  }
  const granted = new Set<string>();
  for (const pattern of list(statement.Action)) {
    if (pattern === "*" || /^kinesis:/i.test(pattern)) {
      const expanded = KINESIS_ACTIONS.filter((action) => wildcardMatch(pattern, action, true));
      if (expanded.length) expanded.forEach((action) => granted.add(action));
      else if (!pattern.includes("*")) granted.add(pattern);
    }
  }
  return [...granted].sort();
}

/** Whether a statement names an action (wildcards and `NotAction` honoured), e.g. `kms:Decrypt`. */
export function namesAction(statement: PolicyStatement, action: string): boolean {
  if (statement.NotAction !== undefined)
    return !list(statement.NotAction).some((p) => wildcardMatch(p, action, true));
  return list(statement.Action).some((p) => wildcardMatch(p, action, true));
}

const ROOT = /^arn:aws[a-z-]*:iam::(\d{12}):root$/;
const IAM_ARN = /^arn:aws[a-z-]*:(?:iam|sts)::(\d{12}):(.+)$/;

/** `aws:PrincipalArn` values of a statement's condition, whatever the operator (ArnEquals, ArnLike, ...). */
function principalArnCondition(statement: PolicyStatement): string[] | undefined {
  let found: string[] | undefined;
  for (const [operator, block] of Object.entries(statement.Condition ?? {})) {
    if (/^(ForAnyValue:|ForAllValues:)?(Arn|String)(Equals|Like)$/.test(operator)) {
      for (const [key, value] of Object.entries(block)) {
        if (key.toLowerCase() === "aws:principalarn") found = [...(found ?? []), ...list(value)];
      }
    }
  }
  return found;
}

/** `arn:aws:sts::1:assumed-role/R/session` is role R: report the role. */
function normaliseArn(arn: string): string {
  const assumed = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([^/]+)\/.+$/.exec(arn);
  return assumed ? `arn:${assumed[1]}:iam::${assumed[2]}:role/${assumed[3]}` : arn;
}

function accountOfArn(arn: string): string {
  return IAM_ARN.exec(arn)?.[1] ?? "*";
}

/**
 * The principals a resource-policy statement applies to. An account principal (`<id>` or
 * `arn:aws:iam::<id>:root`) narrowed by `aws:PrincipalArn` is the role(s) of that condition in
 * that account, which is how the mesh names cross-account roles; without the condition it is
 * every principal of the account. `*` narrowed by `aws:PrincipalArn` is those roles.
 */
export function principalsOf(statement: PolicyStatement): ResolvedPrincipal[] {
  const principal = statement.Principal;
  const narrowed = principalArnCondition(statement);
  const values: { kind: "aws" | "service"; value: string }[] =
    principal === "*"
      ? [{ kind: "aws", value: "*" }]
      : [
          ...list((principal as { AWS?: unknown } | undefined)?.AWS).map((value) => ({
            kind: "aws" as const,
            value,
          })),
          ...list((principal as { Service?: unknown } | undefined)?.Service).map((value) => ({
            kind: "service" as const,
            value,
          })),
        ];
  const resolved: ResolvedPrincipal[] = [];
  for (const { kind, value } of values) {
    if (kind === "service") {
      resolved.push({ accountId: "aws", arn: value });
      continue;
    }
    const account = /^\d{12}$/.test(value) ? value : ROOT.exec(value)?.[1];
    if (value === "*" || account) {
      if (narrowed) {
        for (const arn of narrowed.map(normaliseArn)) {
          const roleAccount = accountOfArn(arn);
          // A PrincipalArn in another account than the principal never matches it.
          if (value === "*" || roleAccount === account || roleAccount === "*")
            resolved.push({ accountId: value === "*" ? roleAccount : account!, arn });
        }
      } else {
        resolved.push(
          value === "*"
            ? { accountId: "*", arn: "*" }
            : { accountId: account!, arn: `arn:aws:iam::${account}:root` },
        );
      }
      continue;
    }
    const arn = normaliseArn(value);
    if (!narrowed || narrowed.some((pattern) => wildcardMatch(pattern, arn))) {
      resolved.push({ accountId: accountOfArn(arn), arn });
    }
  }
  return resolved;
}

/** Whether a resolved principal covers a given role (exactly, by pattern, or as its account root / `*`). */
export function principalCovers(principal: ResolvedPrincipal, roleArn: string): boolean {
  if (principal.arn === "*") return true;
  if (ROOT.test(principal.arn)) return principal.accountId === accountOfArn(roleArn);
  return wildcardMatch(principal.arn, roleArn);
}

export { accountOfArn };
