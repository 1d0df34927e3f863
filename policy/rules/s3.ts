import { listOf } from "../lib/checks";
import { conditionValues, isWildcardPrincipal, parsePolicyDocument, type Statement } from "../lib/documents";
import { bucketLinks, type Link } from "../lib/links";
import { displayName, resourceRule, stackRule, type ResourceView, type StackView } from "../lib/rule";
import { BUCKET_TYPES, T } from "../lib/types";
import { asList, get, UNKNOWN } from "../lib/values";

type Verdict = "yes" | "no" | "unknown";

/**
 * Bucket settings live in separate resources (v7), linked to the bucket by its `bucket` input. A
 * bucket passes when one linked resource satisfies `satisfies`, or its own deprecated inline setting
 * does; it cannot be checked when no linked resource passes and some setting or link is unknown.
 */
/** The sub-resources of each bucket, from their links. */
function byBucket(
  resources: readonly ResourceView[],
  links: ReadonlyMap<ResourceView, Link>,
): Map<ResourceView, ResourceView[]> {
  const of = new Map<ResourceView, ResourceView[]>();
  for (const resource of resources) {
    for (const bucket of links.get(resource)!.targets) {
      const list = of.get(bucket);
      if (list) list.push(resource);
      else of.set(bucket, [resource]);
    }
  }
  return of;
}

function checkBuckets(
  stack: StackView,
  types: readonly string[],
  satisfies: (resource: ResourceView) => Verdict,
  inline: (bucket: ResourceView) => Verdict,
  onViolation: (bucket: ResourceView, name: string) => void,
  onUnknown: (bucket: ResourceView, name: string) => void,
): void {
  const buckets = stack.ofType(...BUCKET_TYPES);
  const settings = stack.ofType(...types);
  const links = bucketLinks(stack, settings, buckets);
  const settingsOf = byBucket(settings, links);
  // A setting whose bucket cannot be known yet may be any bucket's.
  const anyUnknown = settings.some((resource) => links.get(resource)!.unknown);
  for (const bucket of buckets) {
    const verdicts: Verdict[] = [inline(bucket), ...(settingsOf.get(bucket) ?? []).map(satisfies)];
    if (anyUnknown) verdicts.push("unknown");
    if (verdicts.includes("yes")) continue;
    const name = displayName(bucket, "bucket");
    if (verdicts.includes("unknown")) onUnknown(bucket, name);
    else onViolation(bucket, name);
  }
}

const PUBLIC_ACCESS_FLAGS = [
  "blockPublicAcls",
  "blockPublicPolicy",
  "ignorePublicAcls",
  "restrictPublicBuckets",
] as const;

export const s3PublicAccessBlock = stackRule({
  name: "s3-public-access-block",
  description: "S3 buckets must have a public access block with all four settings true.",
  enforcementLevel: "mandatory",
  check(stack, context) {
    const blocks = stack.ofType(T.BucketPublicAccessBlock);
    const buckets = stack.ofType(...BUCKET_TYPES);
    // Each block's bucket once, from one index: linear in blocks and buckets.
    const links = bucketLinks(stack, blocks, buckets);
    const unlinked = blocks.some((block) => links.get(block)!.unknown);
    const blocksOf = byBucket(blocks, links);
    for (const bucket of buckets) {
      const linked = blocksOf.get(bucket) ?? [];
      const name = displayName(bucket, "bucket");
      if (linked.length === 0) {
        if (unlinked)
          context.couldNotCheck(
            `S3 bucket ${name} public access block could not be checked during preview.`,
            bucket.urn,
          );
        else context.report(`S3 bucket ${name} must have a public access block.`, bucket.urn);
        continue;
      }
      for (const block of linked) {
        const off = PUBLIC_ACCESS_FLAGS.filter(
          (flag) => block.props[flag] !== true && block.props[flag] !== UNKNOWN,
        );
        if (off.length > 0) {
          context.report(`S3 bucket ${name} public access block must set ${listOf(off)} to true.`, block.urn);
        } else if (PUBLIC_ACCESS_FLAGS.some((flag) => block.props[flag] === UNKNOWN)) {
          context.couldNotCheck(
            `S3 bucket ${name} public access block could not be checked during preview.`,
            block.urn,
          );
        }
      }
    }
  },
});

/** `Deny` of all S3 actions to everyone when aws:SecureTransport is false. */
function deniesInsecureTransport(statement: Statement): Verdict {
  if (statement.effect !== "Deny") return "no";
  const everyone = (statement.principals ?? []).some(isWildcardPrincipal);
  const actions = statement.actions ?? [];
  const allActions = actions.some(
    (action) => action === "*" || (typeof action === "string" && action.toLowerCase() === "s3:*"),
  );
  const secure = conditionValues(statement.condition, "aws:SecureTransport", ["Bool"]);
  if (secure === UNKNOWN) return everyone && allActions ? "unknown" : "no";
  const denies = everyone && allActions && secure.includes("false");
  if (denies) return "yes";
  return secure.includes(UNKNOWN) || actions.includes(UNKNOWN) ? "unknown" : "no";
}

function tlsOnly(document: unknown): Verdict {
  const parsed = parsePolicyDocument(document);
  if (parsed.kind === "unknown") return "unknown";
  if (parsed.kind !== "parsed") return "no";
  const verdicts = parsed.statements.map(deniesInsecureTransport);
  return verdicts.includes("yes") ? "yes" : verdicts.includes("unknown") ? "unknown" : "no";
}

export const s3TlsOnly = stackRule({
  name: "s3-tls-only",
  description:
    "S3 buckets must have a bucket policy denying every request made without TLS (aws:SecureTransport false).",
  enforcementLevel: "mandatory",
  check(stack, context) {
    checkBuckets(
      stack,
      [T.BucketPolicy],
      (policy) => tlsOnly(policy.props.policy),
      (bucket) => (bucket.props.policy === undefined ? "no" : tlsOnly(bucket.props.policy)),
      (bucket, name) =>
        context.report(
          `S3 bucket ${name} must have a bucket policy that denies requests without TLS.`,
          bucket.urn,
        ),
      (bucket, name) =>
        context.couldNotCheck(
          `S3 bucket ${name} bucket policy could not be checked during preview.`,
          bucket.urn,
        ),
    );
  },
});

function kmsDefault(rules: unknown): Verdict {
  if (rules === UNKNOWN) return "unknown";
  const verdicts = asList(rules).map((rule): Verdict => {
    const algorithm = get(rule, "applyServerSideEncryptionByDefault", "sseAlgorithm");
    const key = get(rule, "applyServerSideEncryptionByDefault", "kmsMasterKeyId");
    if (algorithm === UNKNOWN) return "unknown";
    if (algorithm !== "aws:kms" && algorithm !== "aws:kms:dsse") return "no";
    // An unknown key id is the output of a key: set.
    return key === UNKNOWN || (typeof key === "string" && key.length > 0) ? "yes" : "no";
  });
  return verdicts.includes("yes") ? "yes" : verdicts.includes("unknown") ? "unknown" : "no";
}

export const s3KmsEncryption = stackRule({
  name: "s3-kms-encryption",
  description: "S3 buckets must encrypt by default with a KMS key (sseAlgorithm aws:kms and kmsMasterKeyId).",
  enforcementLevel: "mandatory",
  check(stack, context) {
    checkBuckets(
      stack,
      [T.BucketEncryption, T.BucketEncryptionV2],
      (configuration) => kmsDefault(configuration.props.rules),
      (bucket) => {
        const inline = get(bucket.props, "serverSideEncryptionConfiguration", "rule");
        return inline === undefined ? "no" : kmsDefault(inline);
      },
      (bucket, name) =>
        context.report(`S3 bucket ${name} must be encrypted by default with a KMS key.`, bucket.urn),
      (bucket, name) =>
        context.couldNotCheck(
          `S3 bucket ${name} encryption could not be checked during preview.`,
          bucket.urn,
        ),
    );
  },
});

export const s3Versioning = stackRule({
  name: "s3-versioning",
  description:
    "S3 buckets must have versioning enabled, so that overwritten and deleted objects can be recovered.",
  enforcementLevel: "mandatory",
  check(stack, context) {
    checkBuckets(
      stack,
      [T.BucketVersioning, T.BucketVersioningV2],
      (versioning) => {
        const status = get(versioning.props, "versioningConfiguration", "status");
        return status === UNKNOWN ? "unknown" : status === "Enabled" ? "yes" : "no";
      },
      (bucket) => {
        const enabled = get(bucket.props, "versioning", "enabled");
        return enabled === UNKNOWN ? "unknown" : enabled === true ? "yes" : "no";
      },
      (bucket, name) => context.report(`S3 bucket ${name} must have versioning enabled.`, bucket.urn),
      (bucket, name) =>
        context.couldNotCheck(
          `S3 bucket ${name} versioning could not be checked during preview.`,
          bucket.urn,
        ),
    );
  },
});

export const s3NoForceDestroy = resourceRule({
  name: "s3-no-force-destroy",
  description: "S3 buckets must not set forceDestroy, which deletes every object with the bucket.",
  enforcementLevel: "mandatory",
  types: BUCKET_TYPES,
  check(bucket, context) {
    const forceDestroy = bucket.props.forceDestroy;
    if (forceDestroy === UNKNOWN)
      context.couldNotCheck("S3 bucket forceDestroy could not be checked during preview.");
    else if (forceDestroy === true) context.report("S3 bucket forceDestroy must be false.");
  },
});
