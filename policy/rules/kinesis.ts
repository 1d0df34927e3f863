import { isCustomerManagedKey, parseKinesisArn } from "../lib/arns";
import { listOf, withStatements } from "../lib/checks";
import { isWildcardPrincipal, sameAction } from "../lib/documents";
import { streamLink } from "../lib/links";
import {
  displayName,
  environmentOf,
  resourceRule,
  stackRule,
  tagOf,
  type ResourceView,
  type StackView,
} from "../lib/rule";
import { T } from "../lib/types";
import { UNKNOWN } from "../lib/values";

/** The actions docs/aws-facts.md#kinesis-data-streams lists for sharing a stream: standard and EFO consumers, producers. */
export const SHAREABLE_STREAM_ACTIONS = [
  "kinesis:DescribeStream",
  "kinesis:DescribeStreamSummary",
  "kinesis:GetRecords",
  "kinesis:GetShardIterator",
  "kinesis:ListShards",
  "kinesis:SubscribeToShard",
  "kinesis:DescribeStreamConsumer",
  "kinesis:PutRecord",
  "kinesis:PutRecords",
] as const;

/** Kinesis' default retention, applied when a stream does not set `retentionPeriod`. */
const DEFAULT_RETENTION_HOURS = 24;
const PROD_RETENTION_HOURS = 168;

type Verdict = "yes" | "no" | "unknown";

/** Whether a stream is encrypted with a customer-managed key (see {@link isCustomerManagedKey}). */
function customerManagedEncryption(stream: ResourceView): Verdict {
  const type = stream.props.encryptionType;
  if (type === UNKNOWN) return "unknown";
  if (type !== "KMS") return "no";
  return isCustomerManagedKey(stream.props.kmsKeyId) ? "yes" : "no";
}

/** A stream is shared when tagged as a mesh product or when a resource policy in the stack names it. */
function isShared(stack: StackView, stream: ResourceView): Verdict {
  const product = tagOf(stream, "mesh:product");
  if (typeof product === "string" && product.length > 0) return "yes";
  let verdict: Verdict = product === UNKNOWN ? "unknown" : "no";
  for (const policy of stack.ofType(T.StreamResourcePolicy)) {
    const link = streamLink(stack, policy, "resourceArn");
    if (link.targets.includes(stream)) return "yes";
    if (link.unknown) verdict = "unknown";
  }
  return verdict;
}

export const kinesisSharedStreamCmk = stackRule({
  name: "kinesis-shared-stream-cmk",
  description:
    "Kinesis streams shared across accounts (a mesh product, or named by a resource policy) must be encrypted with a customer-managed KMS key.",
  enforcementLevel: "mandatory",
  check(stack, context) {
    for (const stream of stack.ofType(T.Stream)) {
      const encryption = customerManagedEncryption(stream);
      if (encryption === "yes") continue;
      const shared = isShared(stack, stream);
      if (shared === "no") continue;
      const name = displayName(stream);
      if (encryption === "no" && shared === "yes") {
        context.report(
          `Shared Kinesis stream ${name} must be encrypted with a customer-managed KMS key.`,
          stream.urn,
        );
      } else {
        context.couldNotCheck(
          `Kinesis stream ${name} encryption could not be checked during preview.`,
          stream.urn,
        );
      }
    }
  },
});

function retentionHours(stream: ResourceView): number | typeof UNKNOWN | undefined {
  const retention = stream.props.retentionPeriod;
  if (retention === UNKNOWN) return UNKNOWN;
  if (retention === undefined || retention === null) return DEFAULT_RETENTION_HOURS;
  return typeof retention === "number" ? retention : undefined;
}

export const kinesisRetentionFloor = resourceRule({
  name: "kinesis-retention-floor",
  description:
    "Kinesis streams must retain records at least minRetentionHours (default 168 hours in prod, 24 elsewhere).",
  enforcementLevel: "mandatory",
  types: [T.Stream],
  settings: ["environment", "minRetentionHours"],
  check(stream, context) {
    const { minRetentionHours } = context.settings;
    const environment = environmentOf(stream, context.settings.environment);
    const floor =
      minRetentionHours ?? (environment === "prod" ? PROD_RETENTION_HOURS : DEFAULT_RETENTION_HOURS);
    const retention = retentionHours(stream);
    if (retention === UNKNOWN) {
      context.couldNotCheck("Kinesis stream retentionPeriod could not be checked during preview.");
    } else if (retention === undefined) {
      context.report(`Kinesis stream retentionPeriod must be a number of hours.`);
    } else if (retention < floor) {
      context.report(`Kinesis stream retention must be at least ${floor} hours (it is ${retention}).`);
    } else if (
      retention < PROD_RETENTION_HOURS &&
      minRetentionHours === undefined &&
      environment === undefined &&
      tagOf(stream, "mesh:environment") === UNKNOWN
    ) {
      context.couldNotCheck("Kinesis stream environment could not be checked during preview.");
    }
  },
});

export const kinesisRetentionCoversConsumers = stackRule({
  name: "kinesis-retention-covers-consumers",
  description:
    "Kinesis stream retention must be at least the longest maximumRecordAgeInSeconds of the event source mappings reading it.",
  enforcementLevel: "mandatory",
  check(stack, context) {
    if (stack.ofType(T.Stream).length === 0) return;
    const longest = new Map<ResourceView, { seconds: number; unknown: boolean }>();
    for (const mapping of stack.ofType(T.EventSourceMapping)) {
      const age = mapping.props.maximumRecordAgeInSeconds;
      if (age !== UNKNOWN && (typeof age !== "number" || age <= 0)) continue; // -1 (unbounded) is lambda-esm-bounded-record-age's
      const link = streamLink(stack, mapping, "eventSourceArn");
      if (link.unknown) {
        context.couldNotCheck(
          `Event source mapping ${mapping.name} eventSourceArn could not be checked during preview.`,
          mapping.urn,
        );
      }
      for (const stream of link.targets) {
        const entry = longest.get(stream) ?? { seconds: 0, unknown: false };
        if (age === UNKNOWN) entry.unknown = true;
        else entry.seconds = Math.max(entry.seconds, age);
        longest.set(stream, entry);
      }
    }
    for (const [stream, { seconds, unknown }] of longest) {
      const retention = retentionHours(stream);
      const name = displayName(stream);
      if (retention === UNKNOWN || unknown) {
        context.couldNotCheck(
          `Kinesis stream ${name} retention could not be checked during preview.`,
          stream.urn,
        );
      }
      if (retention === UNKNOWN || retention === undefined || seconds === 0) continue;
      const needed = Math.ceil(seconds / 3600);
      if (retention < needed) {
        context.report(
          `Kinesis stream ${name} retention must be at least ${needed} hours to cover the maximumRecordAgeInSeconds ${seconds} of its event source mappings (it is ${retention}).`,
          stream.urn,
        );
      }
    }
  },
});

const POLICY_SUBJECT = "Kinesis resource policy";

export const kinesisPolicyNoWildcardPrincipal = resourceRule({
  name: "kinesis-policy-no-wildcard-principal",
  description: "Kinesis resource policies must not allow a wildcard principal.",
  enforcementLevel: "mandatory",
  types: [T.StreamResourcePolicy],
  check(policy, context) {
    withStatements(context, POLICY_SUBJECT, policy.props.policy, (statements) => {
      for (const statement of statements.filter((s) => s.effect === "Allow")) {
        if (statement.notPrincipals) {
          context.report(`${POLICY_SUBJECT} statement ${statement.number} must not allow NotPrincipal.`);
        }
        const principals = statement.principals ?? [];
        if (principals.some(isWildcardPrincipal)) {
          context.report(
            `${POLICY_SUBJECT} statement ${statement.number} must not allow a wildcard principal.`,
          );
        } else if (principals.some((principal) => principal.value === UNKNOWN)) {
          context.couldNotCheck(
            `${POLICY_SUBJECT} statement ${statement.number} principal could not be checked during preview.`,
          );
        }
      }
    });
  },
});

export const kinesisPolicyLeastPrivilege = resourceRule({
  name: "kinesis-policy-least-privilege",
  description:
    "Kinesis resource policies must only allow the consumer, enhanced fan-out and producer data-plane actions.",
  enforcementLevel: "mandatory",
  types: [T.StreamResourcePolicy],
  check(policy, context) {
    withStatements(context, POLICY_SUBJECT, policy.props.policy, (statements) => {
      for (const statement of statements.filter((s) => s.effect === "Allow")) {
        if (statement.notActions) {
          context.report(
            `${POLICY_SUBJECT} statement ${statement.number} must list its actions rather than use NotAction.`,
          );
          continue;
        }
        const actions = statement.actions ?? [];
        const denied = actions.filter(
          (action): action is string =>
            action !== UNKNOWN && !SHAREABLE_STREAM_ACTIONS.some((allowed) => sameAction(allowed, action)),
        );
        if (denied.length > 0) {
          context.report(
            `${POLICY_SUBJECT} statement ${statement.number} must only allow read, enhanced fan-out and producer actions (not ${listOf(denied)}).`,
          );
        } else if (actions.includes(UNKNOWN)) {
          context.couldNotCheck(
            `${POLICY_SUBJECT} statement ${statement.number} actions could not be checked during preview.`,
          );
        }
      }
    });
  },
});

export const kinesisPolicyOwnResource = resourceRule({
  name: "kinesis-policy-own-resource",
  description:
    "Every statement of a Kinesis resource policy must name exactly the stream or consumer the policy is attached to.",
  enforcementLevel: "mandatory",
  types: [T.StreamResourcePolicy],
  check(policy, context) {
    const own = policy.props.resourceArn;
    withStatements(context, POLICY_SUBJECT, policy.props.policy, (statements) => {
      for (const statement of statements) {
        const resources = statement.resources ?? [];
        if (statement.notResources || resources.length === 0) {
          context.report(
            `${POLICY_SUBJECT} statement ${statement.number} Resource must be the policy's own resourceArn.`,
          );
        } else if (own === UNKNOWN || resources.includes(UNKNOWN)) {
          context.couldNotCheck(
            `${POLICY_SUBJECT} statement ${statement.number} Resource could not be checked during preview.`,
          );
        } else if (resources.some((resource) => resource !== own)) {
          context.report(
            `${POLICY_SUBJECT} statement ${statement.number} Resource must be the policy's own resourceArn ${String(own)} (not ${listOf(resources.filter((r) => r !== own) as string[])}).`,
          );
        }
      }
    });
  },
});

/** What a resource policy is attached to: a stream or consumer of the stack, or an ARN outside it. */
function policyTarget(
  stack: StackView,
  policy: ResourceView,
): { key: string; label: string } | typeof UNKNOWN {
  const dependency = (policy.propertyDependencies.resourceArn ?? [])
    .map((urn) => stack.byUrn(urn))
    .find((target) => target?.type === T.Stream || target?.type === T.StreamConsumer);
  if (dependency) return { key: dependency.urn, label: displayName(dependency) };
  const arn = policy.props.resourceArn;
  if (arn === UNKNOWN) return UNKNOWN;
  if (typeof arn !== "string") return { key: `${policy.urn}`, label: policy.name };
  const parsed = parseKinesisArn(arn);
  if (parsed && parsed.consumer === undefined) {
    const streams = streamLink(stack, policy, "resourceArn").targets;
    if (streams.length === 1) return { key: streams[0]!.urn, label: displayName(streams[0]!) };
  }
  return { key: arn, label: arn };
}

export const kinesisOneResourcePolicyPerStream = stackRule({
  name: "kinesis-one-resource-policy-per-stream",
  description:
    "Each Kinesis stream or consumer must have a single resource policy, because writing one replaces the previous one.",
  enforcementLevel: "mandatory",
  check(stack, context) {
    const policies = stack.ofType(T.StreamResourcePolicy);
    const groups = new Map<string, { label: string; policies: ResourceView[] }>();
    for (const policy of policies) {
      const target = policyTarget(stack, policy);
      if (target === UNKNOWN) {
        if (policies.length > 1) {
          context.couldNotCheck(
            `Kinesis resource policy ${policy.name} resourceArn could not be checked during preview.`,
            policy.urn,
          );
        }
        continue;
      }
      const group = groups.get(target.key) ?? { label: target.label, policies: [] };
      group.policies.push(policy);
      groups.set(target.key, group);
    }
    for (const { label, policies: same } of groups.values()) {
      if (same.length < 2) continue;
      for (const policy of same) {
        context.report(
          `Kinesis stream ${label} must have one resource policy (this stack declares ${same.length}: ${listOf(same.map((p) => p.name))}).`,
          policy.urn,
        );
      }
    }
  },
});

export const kinesisEfoConsumerLimit = stackRule({
  name: "kinesis-efo-consumer-limit",
  description:
    "A Kinesis stream must not have more registered enhanced fan-out consumers than maxEfoConsumers (AWS: 20).",
  enforcementLevel: "mandatory",
  settings: ["maxEfoConsumers"],
  check(stack, context) {
    const { maxEfoConsumers } = context.settings;
    const groups = new Map<string, { stream?: ResourceView; label: string; consumers: ResourceView[] }>();
    const unknown: ResourceView[] = [];
    for (const consumer of stack.ofType(T.StreamConsumer)) {
      const link = streamLink(stack, consumer, "streamArn");
      if (link.unknown) unknown.push(consumer);
      const stream = link.targets[0];
      const key = stream?.urn ?? link.external;
      if (key === undefined) continue;
      const group = groups.get(key) ?? { stream, label: stream ? displayName(stream) : key, consumers: [] };
      group.consumers.push(consumer);
      groups.set(key, group);
    }
    let largest = 0;
    for (const { stream, label, consumers } of groups.values()) {
      largest = Math.max(largest, consumers.length);
      if (consumers.length <= maxEfoConsumers) continue;
      const message = `Kinesis stream ${label} must have at most ${maxEfoConsumers} enhanced fan-out consumers (this stack registers ${consumers.length}).`;
      if (stream) context.report(message, stream.urn);
      else for (const consumer of consumers) context.report(message, consumer.urn);
    }
    if (unknown.length > 0 && largest + unknown.length > maxEfoConsumers) {
      for (const consumer of unknown) {
        context.couldNotCheck(
          `Stream consumer ${consumer.name} streamArn could not be checked during preview.`,
          consumer.urn,
        );
      }
    }
  },
});
