import { parseKinesisArn } from "./arns";
import type { ResourceView, StackView } from "./rule";
import { T } from "./types";
import { asList, get, UNKNOWN } from "./values";

/**
 * How stack rules find which resource a property points at (a resource policy's stream, a public
 * access block's bucket): first the engine's property dependencies, which hold even while the value
 * is unknown; then the value itself compared with what identifies the target. A link that cannot be
 * decided is UNKNOWN, so a rule can say it could not check rather than guess.
 */
export interface Link {
  /** Targets in the stack the property points at. */
  readonly targets: readonly ResourceView[];
  /** The property is unknown and no dependency says where it points. */
  readonly unknown: boolean;
  /** The known value, when it points at nothing in the stack (e.g. another stack's stream). */
  readonly external?: string;
}

const dependencyTargets = (stack: StackView, from: ResourceView, prop: string): ResourceView[] =>
  (from.propertyDependencies[prop] ?? []).flatMap((urn) => stack.byUrn(urn) ?? []);

function link(
  stack: StackView,
  from: ResourceView,
  prop: string,
  candidates: readonly ResourceView[],
  identifies: (target: ResourceView, value: string) => number,
): Link {
  const byDependency = dependencyTargets(stack, from, prop).filter((target) => candidates.includes(target));
  if (byDependency.length > 0) return { targets: byDependency, unknown: false };
  const value = get(from.props, prop);
  if (value === UNKNOWN)
    return { targets: [], unknown: (from.propertyDependencies[prop] ?? []).length === 0 };
  if (typeof value !== "string") return { targets: [], unknown: false };
  const scored = candidates.map((target) => ({ target, score: identifies(target, value) }));
  const best = Math.max(0, ...scored.map(({ score }) => score));
  if (best === 0) return { targets: [], unknown: false, external: value };
  return {
    targets: scored.filter(({ score }) => score === best).map(({ target }) => target),
    unknown: false,
  };
}

/**
 * How well a stream ARN (or a consumer ARN under it) identifies a stream: 3 for its own ARN, 2 for
 * its name in its own account, 1 for its name alone. Names are `<domain>.<product>`, unique in the
 * mesh; the account only breaks ties (offline plans built with mocks give every ARN one account).
 */
function streamScore(stream: ResourceView, value: string): number {
  const arn = stream.props.arn;
  if (typeof arn === "string" && (value === arn || value.startsWith(`${arn}/consumer/`))) return 3;
  const parsed = parseKinesisArn(value);
  const name = stream.props.name;
  if (!parsed || typeof name !== "string" || parsed.stream !== name) return 0;
  return stream.account === parsed.account ? 2 : 1;
}

/**
 * The stream(s) a Kinesis ARN property points at: directly, or through the registered consumer it
 * names (an ESM reading with enhanced fan-out names its consumer).
 */
export function streamLink(stack: StackView, from: ResourceView, prop: string): Link {
  const streams = stack.ofType(T.Stream);
  const consumers = dependencyTargets(stack, from, prop).filter((target) => target.type === T.StreamConsumer);
  if (consumers.length > 0) {
    const viaConsumers = consumers.flatMap((consumer) => streamLink(stack, consumer, "streamArn").targets);
    if (viaConsumers.length > 0) return { targets: viaConsumers, unknown: false };
  }
  return link(stack, from, prop, streams, streamScore);
}

const sameValue = (target: ResourceView, value: string, keys: readonly string[]): number =>
  target.id === value || keys.some((key) => target.props[key] === value) ? 1 : 0;

/**
 * The buckets each S3 sub-resource (`bucket` = the bucket's name or id) belongs to, for many
 * sub-resources at once: first the engine's property dependencies, then the value looked up in one
 * index of the buckets' id, name and ARN, so a rule over every bucket and every sub-resource stays
 * linear in their number.
 */
export function bucketLinks(
  stack: StackView,
  froms: readonly ResourceView[],
  buckets: readonly ResourceView[],
): Map<ResourceView, Link> {
  const isBucket = new Set(buckets);
  const byValue = new Map<string, ResourceView[]>();
  for (const bucket of buckets) {
    const values = new Set([bucket.id, bucket.props.bucket, bucket.props.id, bucket.props.arn]);
    for (const value of values) {
      if (typeof value !== "string") continue;
      const list = byValue.get(value);
      if (list) list.push(bucket);
      else byValue.set(value, [bucket]);
    }
  }
  const links = new Map<ResourceView, Link>();
  for (const from of froms) {
    const byDependency = dependencyTargets(stack, from, "bucket").filter((target) => isBucket.has(target));
    const value = get(from.props, "bucket");
    links.set(
      from,
      byDependency.length > 0
        ? { targets: byDependency, unknown: false }
        : value === UNKNOWN
          ? { targets: [], unknown: (from.propertyDependencies.bucket ?? []).length === 0 }
          : typeof value !== "string"
            ? { targets: [], unknown: false }
            : byValue.has(value)
              ? { targets: byValue.get(value)!, unknown: false }
              : { targets: [], unknown: false, external: value },
    );
  }
  return links;
}

/** The API a route or stage (`apiId`) belongs to. */
export function apiLink(stack: StackView, from: ResourceView): Link {
  return link(stack, from, "apiId", stack.ofType(T.HttpApi), (api, value) =>
    sameValue(api, value, ["id", "apiId"]),
  );
}

/**
 * The SNS topics of a stack by what identifies them in another resource's property: id, ARN,
 * name, and (in an offline plan, whose ARNs end with it) the logical name. For {@link topicLinks}.
 */
export function topicIndex(stack: StackView): Map<string, ResourceView> {
  const byKey = new Map<string, ResourceView>();
  for (const topic of stack.ofType(T.SnsTopic)) {
    for (const key of [topic.id, topic.props.arn, topic.props.name, topic.name]) {
      if (typeof key === "string") byKey.set(key, topic);
    }
  }
  return byKey;
}

/**
 * The topics a property holding one or more topic ARNs points at (an alarm's actions, a
 * subscription's topic): the engine's dependencies first, then each ARN looked up whole or by its
 * last segment in the index. `unknown` when nothing is found and a value is not known yet.
 */
export function topicLinks(
  stack: StackView,
  from: ResourceView,
  prop: string,
  byKey: ReadonlyMap<string, ResourceView>,
): Link {
  const targets = new Set(dependencyTargets(stack, from, prop).filter((t) => t.type === T.SnsTopic));
  let unknown = false;
  for (const value of asList(get(from.props, prop))) {
    if (value === UNKNOWN) unknown = true;
    if (typeof value !== "string" || !value.startsWith("arn:aws:sns:")) continue;
    const topic = byKey.get(value) ?? byKey.get(value.split(":").pop()!);
    if (topic) targets.add(topic);
  }
  return { targets: [...targets], unknown: unknown && targets.size === 0 };
}
