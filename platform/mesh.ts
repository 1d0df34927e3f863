import { z } from "zod";
import {
  type AtRestProduct,
  type AtRestSubscription,
  atRestOptionsSchema,
  atRestSubscriptionSchema,
  resolveAtRestProduct,
  resolveAtRestSubscription,
} from "./at-rest";
import { type StackConfig, stackConfigSchema, ALL_UNITS, PLATFORM_UNIT } from "./config";
import { accountShardQuota, MAX_STANDARD_CONSUMERS, OnDemandLimits, requiredShards } from "./sizing";
import {
  breakingChanges,
  contractFields,
  currentVersion,
  eventJsonSchema,
  type Contract,
  type JsonSchema,
} from "./contract";
import {
  AccessPattern,
  Ordering,
  type Access,
  type Capacity,
  type Classification,
  type DeliveryOptions,
  type DomainDeclaration,
  type FilterRule,
  type StartingPosition,
} from "./declarations";

/** Limits (docs/aws-facts.md, with their sources) that the declaration is checked against. */
export const Limits = {
  retentionHours: { min: 24, max: 8760 },
  batchSize: { min: 1, max: 10000 },
  batchingWindowSeconds: { min: 0, max: 300 },
  maxRetryAttempts: { min: 0, max: 10000 },
  maxRecordAgeSeconds: { min: 60, max: 604800 },
  parallelizationFactor: { min: 1, max: 10 },
  timeoutSeconds: { min: 1, max: 900 },
  filtersPerMapping: 5,
  efoConsumersPerStream: 20,
  /** Tags per resource, and the lengths of a tag key and value. */
  tagsPerResource: 50,
  tagKey: 128,
  tagValue: 256,
} as const;

/** Longest physical name AWS accepts, per resource the mesh names from a declaration (docs/aws-facts.md). */
export const NameLimits = {
  "Kinesis stream": 128,
  "Kinesis stream consumer": 128,
  "IAM role": 64,
  "Lambda function": 64,
  "KMS alias": 256,
  "Glue schema": 255,
  "Glue registry": 255,
  "DynamoDB table": 255,
} as const;
type NamedResource = keyof typeof NameLimits;

/** Tag keys a declaration may not set: the mesh's own (ABAC, cost, governance) and AWS's. */
const RESERVED_TAG_PREFIXES = ["mesh:", "aws:"] as const;

/** Function names the push channel derives from a push subscription's prefix (components/push-channel.ts). */
export const PUSH_FUNCTION_SUFFIXES = ["authorizer", "connect", "disconnect"] as const;

/** Physical names the platform derives from declarations: one place, used by the components. */
export const Names = {
  stream: (domain: string, product: string) => `${domain}.${product}`,
  keyAlias: (domain: string, product: string) => `alias/mesh/${domain}/${product}`,
  producerRole: (domain: string) => `mesh-${domain}-producer`,
  schemaRegistry: (domain: string) => `mesh-${domain}`,
  idempotencyTable: (domain: string) => `mesh-${domain}-idempotency`,
  /** Execution role and function of a subscription. */
  subscriber: (domain: string, subscription: string) => `mesh-${domain}-${subscription}`,
  efoConsumer: (domain: string, subscription: string) => `${domain}.${subscription}`,
} as const;

/** Event source mapping defaults: bounded retries and age, bisect, and replay from the oldest record. */
export const DeliveryDefaults = {
  startingPosition: "TRIM_HORIZON" as StartingPosition,
  batchSize: 100,
  batchingWindowSeconds: 1,
  maxRetryAttempts: 5,
  maxRecordAgeSeconds: 21600,
  parallelizationFactor: 1,
  bisectOnError: true,
  timeoutSeconds: 60,
};

const name = z.string().regex(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/, "must be lower-case words joined by hyphens");
const range = (limits: { min: number; max: number }) =>
  z
    .number()
    .int()
    .min(limits.min, `must be between ${limits.min} and ${limits.max}`)
    .max(limits.max, `must be between ${limits.min} and ${limits.max}`);

const contractSchema = z.custom<Contract>(
  (value) =>
    typeof value === "object" &&
    value !== null &&
    Array.isArray((value as Contract).versions) &&
    (value as Contract).versions.length > 0,
  "must be a contract with at least one version (defineContract)",
);

const capacitySchema = z.discriminatedUnion("mode", [
  z.strictObject({ mode: z.literal("on-demand") }),
  z.strictObject({
    mode: z.literal("provisioned"),
    writeMiBps: z.number().positive(),
    writeRecordsPerSecond: z.number().positive(),
  }),
]);

const fieldCondition = z.union([
  z.strictObject({ equals: z.union([z.string(), z.number(), z.boolean()]) }),
  z.strictObject({ anyOf: z.array(z.union([z.string(), z.number()])).min(1) }),
  z.strictObject({ prefix: z.string().min(1) }),
  z.strictObject({ numeric: z.tuple([z.enum([">", ">=", "<", "<=", "="]), z.number()]) }),
  z.strictObject({ exists: z.boolean() }),
]);

const filterRule = z
  .strictObject({
    eventTypes: z.array(z.string().min(1)).min(1).optional(),
    where: z.record(z.string().min(1), fieldCondition).optional(),
  })
  .refine((rule) => rule.eventTypes || rule.where, "must name event types or conditions");

const accessSchema = z.discriminatedUnion("pattern", [
  z.strictObject({ pattern: z.literal(AccessPattern.SharedReplay) }),
  z.strictObject({ pattern: z.literal(AccessPattern.EnhancedFanOut) }),
  z.strictObject({
    pattern: z.literal(AccessPattern.Filtered),
    filters: z
      .array(filterRule)
      .min(1)
      .max(Limits.filtersPerMapping, `at most ${Limits.filtersPerMapping} filters per mapping`),
  }),
  z.strictObject({ pattern: z.literal(AccessPattern.PushWithoutReplay) }),
]);

const deliverySchema = z
  .strictObject({
    startingPosition: z.enum(["TRIM_HORIZON", "LATEST", "AT_TIMESTAMP"]).optional(),
    startingTimestamp: z.iso.datetime({ offset: true }).optional(),
    batchSize: range(Limits.batchSize).optional(),
    batchingWindowSeconds: range(Limits.batchingWindowSeconds).optional(),
    maxRetryAttempts: range(Limits.maxRetryAttempts).optional(),
    maxRecordAgeSeconds: range(Limits.maxRecordAgeSeconds).optional(),
    parallelizationFactor: range(Limits.parallelizationFactor).optional(),
    bisectOnError: z.boolean().optional(),
    timeoutSeconds: range(Limits.timeoutSeconds).optional(),
  })
  .superRefine((delivery, ctx) => {
    const atTimestamp = delivery.startingPosition === "AT_TIMESTAMP";
    if (atTimestamp && !delivery.startingTimestamp) {
      ctx.addIssue({ code: "custom", path: ["startingTimestamp"], message: "is required with AT_TIMESTAMP" });
    }
    if (!atTimestamp && delivery.startingTimestamp) {
      ctx.addIssue({
        code: "custom",
        path: ["startingTimestamp"],
        message: "is only allowed with AT_TIMESTAMP",
      });
    }
  });

const productSchema = z.strictObject({
  kind: z.literal("stream"),
  name,
  description: z.string().min(1),
  contract: contractSchema,
  partitionKey: z.string().min(1),
  ordering: z.enum([Ordering.PerKey, Ordering.None]).optional(),
  retentionHours: range(Limits.retentionHours).optional(),
  capacity: capacitySchema,
  classification: z.enum(["public", "internal", "confidential", "pii"]),
  tags: z.record(z.string(), z.string()).optional(),
  atRest: atRestOptionsSchema.optional(),
});

const atRestProductSchema = z.strictObject({
  kind: z.literal("at-rest"),
  name,
  description: z.string().min(1),
  contract: contractSchema,
  classification: z.enum(["public", "internal", "confidential", "pii"]),
  tags: z.record(z.string(), z.string()).optional(),
  atRest: atRestOptionsSchema.optional(),
});

const subscriptionSchema = z.strictObject({
  kind: z.literal("stream").optional(),
  name,
  product: z.string().regex(/^[a-z0-9-]+\/[a-z0-9-]+$/, "must be <domain>/<product>"),
  handler: z.string().regex(/^[\w./-]+\.ts$/, "must be a .ts path relative to the domain folder"),
  access: accessSchema,
  delivery: deliverySchema.optional(),
});

/** Where a domain's alarms go: its owner's contact, subscribed to its alarm topic. */
const alarmEndpoint = z.union([z.email(), z.url({ protocol: /^https$/ })], {
  error: "must be an email address or an https URL: the domain's alarms are sent there",
});

/** The domain itself; its products and subscriptions are checked one by one so that one bad entry
 * does not hide the problems of the others. */
const domainSchema = z.strictObject({
  name,
  description: z.string().min(1),
  owner: z.strictObject({ team: z.string().min(1), contact: alarmEndpoint }),
  account: z.string().min(1),
  products: z.array(z.unknown()),
  subscriptions: z.array(z.unknown()),
});

/** A stream data product with everything derived from the declaration and the stack config. */
export interface Product {
  /** `<domain>/<product>` */
  readonly ref: string;
  readonly domain: string;
  readonly name: string;
  readonly description: string;
  readonly accountAlias: string;
  readonly accountId: string;
  /** The Kinesis stream name, `<domain>.<product>`. */
  readonly streamName: string;
  readonly streamArn: string;
  readonly contract: Contract;
  readonly partitionKey: string;
  readonly ordering: Ordering;
  readonly retentionHours: number;
  readonly capacity: Capacity;
  readonly classification: Classification;
  readonly tags: Readonly<Record<string, string>>;
}

export interface Delivery {
  readonly startingPosition: StartingPosition;
  readonly startingTimestamp?: string;
  readonly batchSize: number;
  readonly batchingWindowSeconds: number;
  readonly maxRetryAttempts: number;
  readonly maxRecordAgeSeconds: number;
  readonly parallelizationFactor: number;
  readonly bisectOnError: boolean;
  /** The consuming function's timeout. */
  readonly timeoutSeconds: number;
}

export interface Subscription {
  /** `<consumer domain>/<subscription>` */
  readonly ref: string;
  readonly name: string;
  readonly domain: string;
  readonly accountAlias: string;
  readonly accountId: string;
  readonly product: Product;
  readonly handler: string;
  readonly access: Access;
  readonly delivery: Delivery;
  /** Execution role of the consuming function: named from the declaration so that producers can
   * name it in their policies before it exists. */
  readonly roleName: string;
  readonly roleArn: string;
  /** Name of the registered stream consumer, for enhanced fan-out. */
  readonly efoConsumerName?: string;
}

export interface Domain {
  readonly declaration: DomainDeclaration;
  readonly name: string;
  /** Role the domain's services assume to publish its products. */
  readonly producerRoleName: string;
  readonly accountAlias: string;
  readonly accountId: string;
  /** Stream products. */
  readonly products: readonly Product[];
  /** Stream subscriptions. */
  readonly subscriptions: readonly Subscription[];
  /** Products kept at rest: at-rest products and stream products' at-rest copies. */
  readonly atRestProducts: readonly AtRestProduct[];
  readonly atRestSubscriptions: readonly AtRestSubscription[];
}

export interface Mesh {
  readonly config: StackConfig;
  readonly domains: readonly Domain[];
  readonly products: readonly Product[];
  readonly subscriptions: readonly Subscription[];
  readonly atRestProducts: readonly AtRestProduct[];
  readonly atRestSubscriptions: readonly AtRestSubscription[];
  /** The units this stack deploys (`platform` and domain names). */
  readonly units: ReadonlySet<string>;
}

export type ParseResult = { ok: true; mesh: Mesh } | { ok: false; problems: string[] };

export class MeshConfigError extends Error {
  override readonly name = "MeshConfigError";
  constructor(readonly problems: readonly string[]) {
    super(`the mesh declaration has ${problems.length} problem(s):\n  - ${problems.join("\n  - ")}`);
  }
}

function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((part, index) =>
      typeof part === "number" ? `[${part}]` : index === 0 ? String(part) : `.${String(part)}`,
    )
    .join("");
}

function zodProblems(prefix: string, error: z.ZodError): string[] {
  return error.issues.map(
    (issue) => `${formatPath([prefix, ...issue.path].filter((p) => p !== ""))}: ${issue.message}`,
  );
}

/**
 * Validates the stack config (`mesh:*` keys) and every domain declaration, and resolves them into
 * the mesh this stack deploys. Pure: no Pulumi runtime, no I/O. Returns every problem at once,
 * each prefixed with its path (`domains.songs.products[0].retentionHours: ...`): a broken config
 * does not hide the declarations' problems, nor a broken product the problems of its subscribers.
 */
export function parseMeshConfig(rawConfig: unknown, declarations: readonly unknown[]): ParseResult {
  const problems: string[] = [];
  const parsedConfig = stackConfigSchema.safeParse(rawConfig);
  if (!parsedConfig.success) problems.push(...zodProblems("config", parsedConfig.error));
  const config = parsedConfig.success ? parsedConfig.data : lenientConfig(rawConfig);

  const parsed: DomainDeclaration[] = [];
  /** Products declared by a domain whose declaration is broken: not reported again as missing. */
  const unresolved = new Set<string>();
  /** Paths of products and subscriptions that failed their schema: skipped when resolving. */
  const invalid = new Set<string>();
  const seenDomains = new Set<string>();
  declarations.forEach((raw, index) => {
    const label = domainLabel(raw, index);
    const result = domainSchema.safeParse(raw);
    const declaration = raw as DomainDeclaration;
    const atRest = (item: unknown) => (item as { kind?: unknown } | null)?.kind === "at-rest";
    const check = (items: unknown, schemas: [z.ZodType, z.ZodType], kind: string) => {
      if (!Array.isArray(items)) return;
      items.forEach((item, itemIndex) => {
        const checked = schemas[atRest(item) ? 1 : 0].safeParse(item);
        if (checked.success) return;
        problems.push(...zodProblems(`${label}.${kind}[${itemIndex}]`, checked.error));
        invalid.add(`${label}.${kind}[${itemIndex}]`);
        if (kind === "products") unresolved.add(`${declaration.name}/${(item as { name?: string }).name}`);
      });
    };
    // Products and subscriptions are checked even when the domain itself is broken.
    check(declaration?.products, [productSchema, atRestProductSchema], "products");
    check(declaration?.subscriptions, [subscriptionSchema, atRestSubscriptionSchema], "subscriptions");
    if (!result.success) {
      problems.push(...zodProblems(label, result.error));
      unresolved.add(label.replace(/^domains(\.|\[)/, "").replace(/\]$/, ""));
      return;
    }
    if (seenDomains.has(result.data.name)) {
      problems.push(`${label}.name: duplicate domain name ${result.data.name}`);
      return;
    }
    if (RESERVED_UNITS.includes(result.data.name)) {
      problems.push(
        `${label}.name: ${result.data.name} is reserved for a unit of mesh:units (${RESERVED_UNITS.join(", ")}); choose another domain name`,
      );
    }
    seenDomains.add(result.data.name);
    parsed.push(declaration);
  });

  const mesh = resolve(config, parsedConfig.success, parsed, { unresolved, invalid }, problems);
  return problems.length ? { ok: false, problems } : { ok: true, mesh };
}

const RESERVED_UNITS: readonly string[] = [PLATFORM_UNIT, ALL_UNITS];

/**
 * The parts of a stack config that are valid on their own, with defaults for the rest: enough to
 * check the declarations against while the config's own problems are reported.
 */
function lenientConfig(rawConfig: unknown): StackConfig {
  const raw = (typeof rawConfig === "object" && rawConfig !== null ? rawConfig : {}) as Record<
    string,
    unknown
  >;
  const fallback: Record<string, unknown> = {
    environment: "dev",
    organizationId: "o-0000000000",
    region: "us-east-1",
    accounts: {},
  };
  for (const [key, schema] of Object.entries(stackConfigSchema.shape)) {
    const value = (schema as z.ZodType).safeParse(raw[key]);
    if (value.success && value.data !== undefined) fallback[key] = value.data;
  }
  if (!Array.isArray(fallback.units)) fallback.units = [ALL_UNITS];
  return fallback as StackConfig;
}

/** {@link parseMeshConfig} that throws {@link MeshConfigError} listing every problem. */
export function loadMesh(rawConfig: unknown, declarations: readonly unknown[]): Mesh {
  const result = parseMeshConfig(rawConfig, declarations);
  if (!result.ok) throw new MeshConfigError(result.problems);
  return result.mesh;
}

function domainLabel(raw: unknown, index: number): string {
  const candidate = (raw as { name?: unknown } | null)?.name;
  return typeof candidate === "string" && /^[a-z0-9-]+$/.test(candidate)
    ? `domains.${candidate}`
    : `domains[${index}]`;
}

/** A problem for each derived name longer than AWS accepts for its resource. */
function nameProblems(path: string, names: readonly (readonly [NamedResource, string])[]): string[] {
  return names
    .filter(([resource, value]) => value.length > NameLimits[resource])
    .map(
      ([resource, value]) =>
        `${path}: ${resource} name ${value} is ${value.length} characters, more than the ${NameLimits[resource]} AWS accepts; shorten the names it is derived from`,
    );
}

function tagProblems(path: string, tags: Readonly<Record<string, string>>): string[] {
  const problems: string[] = [];
  for (const [key, value] of Object.entries(tags)) {
    const reserved = RESERVED_TAG_PREFIXES.find((prefix) => key.toLowerCase().startsWith(prefix));
    if (reserved) {
      problems.push(
        `${path}.${key}: tag keys starting with ${reserved} are set by the mesh and AWS, not declared`,
      );
    }
    if (key.length === 0 || key.length > Limits.tagKey) {
      problems.push(`${path}.${key}: tag keys are 1 to ${Limits.tagKey} characters`);
    }
    if (value.length > Limits.tagValue) {
      problems.push(`${path}.${key}: tag values are at most ${Limits.tagValue} characters`);
    }
  }
  // The mesh sets five tags of its own on a stream.
  const room = Limits.tagsPerResource - 5;
  if (Object.keys(tags).length > room) {
    problems.push(`${path}: at most ${room} tags (AWS allows ${Limits.tagsPerResource}, the mesh sets 5)`);
  }
  return problems;
}

function resolve(
  config: StackConfig,
  configValid: boolean,
  declarations: readonly DomainDeclaration[],
  skipped: { unresolved: ReadonlySet<string>; invalid: ReadonlySet<string> },
  problems: string[],
): Mesh {
  const { unresolved, invalid } = skipped;
  const accountOf = (alias: string, path: string): string => {
    const account = config.accounts[alias];
    if (!account) {
      // With a broken config, the accounts are reported there.
      if (configValid) {
        problems.push(
          `${path}: unknown account alias ${alias} (known: ${Object.keys(config.accounts).join(", ")})`,
        );
      }
      return "000000000000";
    }
    return account.id;
  };

  const products = new Map<string, Product>();
  /** Products whose contract cannot be expressed as JSON Schema: reported once, not resolved. */
  const unpublished = new Set<string>();
  const atRestProducts = new Map<string, AtRestProduct>();
  /** At-rest products whose table could not be derived: their subscriptions are not checked. */
  const brokenAtRest = new Set<string>();
  for (const declaration of declarations) {
    const label = `domains.${declaration.name}`;
    const accountId = accountOf(declaration.account, `${label}.account`);
    const names = new Set<string>();
    problems.push(
      ...nameProblems(`${label}.name`, [
        ["IAM role", Names.producerRole(declaration.name)],
        ["Glue registry", Names.schemaRegistry(declaration.name)],
        ["DynamoDB table", Names.idempotencyTable(declaration.name)],
      ]),
    );
    declaration.products.forEach((product, index) => {
      const path = `${label}.products[${index}]`;
      if (invalid.has(path)) return;
      const ref = `${declaration.name}/${product.name}`;
      if (names.has(product.name)) {
        problems.push(`${path}.name: duplicate product name ${product.name} in domain ${declaration.name}`);
        return;
      }
      names.add(product.name);
      if (product.kind === "at-rest") {
        const table = resolveAtRestProduct(path, declaration, accountId, product, undefined, problems);
        if (table) atRestProducts.set(ref, table);
        else brokenAtRest.add(ref);
        return;
      }
      const contractProblems = checkContract(path, product.contract, product.partitionKey);
      problems.push(...contractProblems);
      if (contractProblems.some((problem) => problem.includes("cannot be published as JSON Schema"))) {
        unpublished.add(ref);
        return;
      }
      const retentionHours = product.retentionHours ?? config.defaultRetentionHours;
      if (retentionHours < config.minRetentionHours) {
        problems.push(
          `${path}.retentionHours: ${retentionHours} is below this environment's floor of ${config.minRetentionHours}`,
        );
      }
      const streamName = Names.stream(declaration.name, product.name);
      problems.push(
        ...nameProblems(`${path}.name`, [
          ["Kinesis stream", streamName],
          ["Glue schema", streamName],
          ["KMS alias", Names.keyAlias(declaration.name, product.name)],
        ]),
        ...tagProblems(`${path}.tags`, product.tags ?? {}),
      );
      const declared = product.capacity;
      if (
        config.capacityMode === "on-demand" &&
        declared.mode === "provisioned" &&
        (declared.writeMiBps > OnDemandLimits.writeMiBps ||
          declared.writeRecordsPerSecond > OnDemandLimits.writeRecordsPerSecond)
      ) {
        problems.push(
          `${path}.capacity: ${declared.writeMiBps} MiB/s and ${declared.writeRecordsPerSecond} records/s exceed what an on-demand stream takes by default (${OnDemandLimits.writeMiBps} MiB/s, ${OnDemandLimits.writeRecordsPerSecond} records/s), and this stack makes every stream on-demand`,
        );
      }
      products.set(ref, {
        ref,
        domain: declaration.name,
        name: product.name,
        description: product.description,
        accountAlias: declaration.account,
        accountId,
        streamName,
        streamArn: `arn:aws:kinesis:${config.region}:${accountId}:stream/${streamName}`,
        contract: product.contract,
        partitionKey: product.partitionKey,
        ordering: product.ordering ?? Ordering.PerKey,
        retentionHours,
        capacity: config.capacityMode === "on-demand" ? { mode: "on-demand" } : product.capacity,
        classification: product.classification,
        tags: product.tags ?? {},
      });
      if (product.atRest) {
        const stream = products.get(ref);
        const table = resolveAtRestProduct(path, declaration, accountId, product, stream, problems);
        if (table) atRestProducts.set(ref, table);
        else brokenAtRest.add(ref);
      }
    });
  }

  const subscriptions: Subscription[] = [];
  const atRestSubscriptions: AtRestSubscription[] = [];
  const domains: Domain[] = declarations.map((declaration) => {
    const label = `domains.${declaration.name}`;
    const accountId = config.accounts[declaration.account]?.id ?? "000000000000";
    const seen = new Set<string>();
    const subscribed = new Map<string, number>();
    const own: Subscription[] = [];
    const ownAtRest: AtRestSubscription[] = [];
    declaration.subscriptions.forEach((subscription, index) => {
      const path = `${label}.subscriptions[${index}]`;
      if (invalid.has(path)) return;
      // Checks that need only the subscription itself, so that a broken product hides none of them.
      if (seen.has(subscription.name)) {
        problems.push(
          `${path}.name: duplicate subscription name ${subscription.name} in domain ${declaration.name}`,
        );
      }
      seen.add(subscription.name);
      const [producer] = subscription.product.split("/");
      if (producer === declaration.name) {
        problems.push(
          `${path}.product: ${declaration.name} cannot subscribe to its own product ${subscription.product}: the mesh shares products across accounts; read your own stream directly`,
        );
      }
      const unknownProducer = [subscription.product, producer!].some(
        (ref) => unresolved.has(ref) || brokenAtRest.has(ref),
      );
      if (subscription.kind === "at-rest") {
        if (unknownProducer) return;
        const resolved = resolveAtRestSubscription(
          path,
          declaration,
          accountId,
          subscription,
          atRestProducts,
          products,
          problems,
        );
        if (resolved) ownAtRest.push(resolved);
        return;
      }
      // Two patterns on one product serve two purposes (analytics indexes and pushes); the same
      // pattern twice reads every record twice for nothing and doubles the shard's read load.
      const twin = `${subscription.product} ${subscription.access.pattern}`;
      const earlier = subscribed.get(twin);
      if (earlier !== undefined) {
        problems.push(
          `${path}.product: ${declaration.name} already subscribes to ${subscription.product} as ${subscription.access.pattern} (subscriptions[${earlier}]); one subscription per product and access pattern`,
        );
      } else subscribed.set(twin, index);
      const roleName = Names.subscriber(declaration.name, subscription.name);
      const efoConsumerName =
        subscription.access.pattern === AccessPattern.EnhancedFanOut
          ? Names.efoConsumer(declaration.name, subscription.name)
          : undefined;
      problems.push(
        ...nameProblems(`${path}.name`, [
          ["IAM role", roleName],
          ["Lambda function", roleName],
          ...(subscription.access.pattern === AccessPattern.PushWithoutReplay
            ? PUSH_FUNCTION_SUFFIXES.map((suffix) => ["Lambda function", `${roleName}-${suffix}`] as const)
            : []),
          ...(efoConsumerName ? [["Kinesis stream consumer", efoConsumerName] as const] : []),
        ]),
      );
      const delivery = resolveDelivery(`${path}.delivery`, subscription.delivery, problems);

      const product = products.get(subscription.product);
      if (!product) {
        if (!unknownProducer && !unpublished.has(subscription.product)) {
          problems.push(
            atRestProducts.has(subscription.product)
              ? `${path}.product: ${subscription.product} is kept at rest only; subscribe with kind "at-rest"`
              : `${path}.product: no data product ${subscription.product} in the mesh`,
          );
        }
        return;
      }
      if (subscription.access.pattern === AccessPattern.Filtered) {
        subscription.access.filters.forEach((rule, ruleIndex) =>
          problems.push(...checkFilter(`${path}.access.filters[${ruleIndex}]`, rule, product)),
        );
      }
      if (delivery.maxRecordAgeSeconds > product.retentionHours * 3600) {
        problems.push(
          `${path}.delivery.maxRecordAgeSeconds: ${delivery.maxRecordAgeSeconds} s is longer than ${product.ref}'s retention of ${product.retentionHours} h`,
        );
      }
      own.push({
        ref: `${declaration.name}/${subscription.name}`,
        name: subscription.name,
        domain: declaration.name,
        accountAlias: declaration.account,
        accountId,
        product,
        handler: subscription.handler,
        access: subscription.access,
        delivery,
        roleName,
        roleArn: `arn:aws:iam::${accountId}:role/${roleName}`,
        efoConsumerName,
      });
    });
    subscriptions.push(...own);
    atRestSubscriptions.push(...ownAtRest);
    return {
      declaration,
      name: declaration.name,
      producerRoleName: Names.producerRole(declaration.name),
      accountAlias: declaration.account,
      accountId,
      products: [...products.values()].filter((product) => product.domain === declaration.name),
      subscriptions: own,
      atRestProducts: [...atRestProducts.values()].filter((product) => product.domain === declaration.name),
      atRestSubscriptions: ownAtRest,
    };
  });

  for (const product of products.values()) {
    const efo = subscriptions.filter(
      (s) => s.product === product && s.access.pattern === AccessPattern.EnhancedFanOut,
    ).length;
    if (efo > Limits.efoConsumersPerStream) {
      problems.push(
        `domains.${product.domain}.products.${product.name}: ${efo} enhanced fan-out consumers exceed the limit of ${Limits.efoConsumersPerStream}`,
      );
    }
    const standard = subscriptions.filter(
      (s) => s.product === product && s.access.pattern !== AccessPattern.EnhancedFanOut,
    );
    if (standard.length > MAX_STANDARD_CONSUMERS) {
      problems.push(
        `domains.${product.domain}.products.${product.name}: ${standard.length} standard consumers (${standard.map((s) => s.ref).join(", ")}) poll each shard once a second each, more than the ${MAX_STANDARD_CONSUMERS} GetRecords calls a shard serves per second: subscribe the others with enhanced fan-out`,
      );
    }
  }
  problems.push(...capacityProblems(config, [...products.values()], subscriptions));

  const units = new Set(
    config.units.includes(ALL_UNITS) ? [PLATFORM_UNIT, ...domains.map((d) => d.name)] : config.units,
  );
  config.units.forEach((unit, index) => {
    if (unit !== ALL_UNITS && unit !== PLATFORM_UNIT && !domains.some((domain) => domain.name === unit)) {
      problems.push(
        `config.units[${index}]: unknown unit ${unit} (known: ${PLATFORM_UNIT}, ${domains.map((d) => d.name).join(", ")})`,
      );
    }
  });

  const pushed = subscriptions.filter(
    (s) => units.has(s.domain) && s.access.pattern === AccessPattern.PushWithoutReplay,
  );
  if (pushed.length && !config.pushTokenSha256) {
    problems.push(
      `config.pushTokenSha256: required because this stack deploys the push subscription(s) ${pushed.map((s) => s.ref).join(", ")}; ` +
        "set the hex SHA-256 of the subscribers' token with pulumi config set --secret mesh:pushTokenSha256 <hash>",
    );
  }

  return {
    config,
    domains,
    products: [...products.values()],
    subscriptions,
    atRestProducts: [...atRestProducts.values()],
    atRestSubscriptions,
    units,
  };
}

/**
 * Event payloads that zod cannot express as JSON Schema (dates, transforms, custom checks) cannot
 * be published to the schema registry nor checked for compatibility: a declaration problem.
 */
function unpublishableEvents(path: string, contract: Contract): string[] {
  const problems: string[] = [];
  contract.versions.forEach((version, index) => {
    for (const [type, schema] of Object.entries(version.events)) {
      try {
        eventJsonSchema(schema);
      } catch (error) {
        problems.push(
          `${path}.contract.versions[${index}].events["${type}"]: cannot be published as JSON Schema (${(error as Error).message.split("\n")[0]}); use types JSON carries, e.g. z.iso.datetime() instead of z.date(), and no transforms`,
        );
      }
    }
  });
  return problems;
}

/**
 * A failing batch is invoked once, then once per retry, plus once per bisection (which does not
 * count as a retry, docs/aws-facts.md); each invocation may take the function's timeout. If they
 * do not fit in the maximum record age, records expire before the retries they were promised, so
 * the default timeout is shortened to fit and a declared one that does not fit is refused.
 */
function resolveDelivery(path: string, declared: DeliveryOptions = {}, problems: string[]): Delivery {
  const merged = { ...DeliveryDefaults, ...declared };
  const bisections = merged.bisectOnError ? Math.ceil(Math.log2(merged.batchSize)) : 0;
  const invocations = 1 + merged.maxRetryAttempts + bisections;
  const fitting = Math.floor(merged.maxRecordAgeSeconds / invocations);
  const timeoutSeconds = declared.timeoutSeconds ?? Math.min(DeliveryDefaults.timeoutSeconds, fitting);
  if (
    timeoutSeconds < Limits.timeoutSeconds.min ||
    invocations * timeoutSeconds > merged.maxRecordAgeSeconds
  ) {
    problems.push(
      `${path}: ${invocations} invocations (1 + ${merged.maxRetryAttempts} retries` +
        (bisections ? ` + ${bisections} bisections of a batch of ${merged.batchSize}` : "") +
        `) of up to ${Math.max(timeoutSeconds, 1)} s each do not fit in maxRecordAgeSeconds ${merged.maxRecordAgeSeconds}: ` +
        `raise maxRecordAgeSeconds or lower maxRetryAttempts, batchSize or timeoutSeconds`,
    );
  }
  return { ...merged, timeoutSeconds };
}

/** Provisioned streams of one account together need no more shards than the account's default quota. */
function capacityProblems(
  config: StackConfig,
  products: readonly Product[],
  subscriptions: readonly Subscription[],
): string[] {
  const problems: string[] = [];
  const shardsByAccount = new Map<string, { shards: number; products: string[] }>();
  for (const product of products) {
    const declared = product.capacity;
    if (declared.mode !== "provisioned") continue;
    const where = `domains.${product.domain}.products.${product.name}.capacity`;
    const standard = subscriptions.filter(
      (s) => s.product === product && s.access.pattern !== AccessPattern.EnhancedFanOut,
    ).length;
    const shards = requiredShards(declared, standard);
    const quota = accountShardQuota(config.region);
    if (shards > quota) {
      problems.push(
        `${where}: ${declared.writeMiBps} MiB/s and ${declared.writeRecordsPerSecond} records/s with ${standard} standard consumers need ${shards} shards, more than the ${quota} shards an account may have in ${config.region}`,
      );
    }
    const entry = shardsByAccount.get(product.accountAlias) ?? { shards: 0, products: [] };
    entry.shards += shards;
    entry.products.push(product.ref);
    shardsByAccount.set(product.accountAlias, entry);
  }
  for (const [alias, { shards, products: refs }] of shardsByAccount) {
    const quota = accountShardQuota(config.region);
    if (shards > quota && refs.length > 1) {
      problems.push(
        `config.accounts.${alias}: its streams need ${shards} shards together (${refs.join(", ")}), more than the ${quota} shards an account may have in ${config.region}`,
      );
    }
  }
  return problems;
}

function checkContract(path: string, contract: Contract, partitionKey: string): string[] {
  const unpublishable = unpublishableEvents(path, contract);
  if (unpublishable.length) return unpublishable;
  const problems: string[] = [];
  contract.versions.forEach((version, index) => {
    if (version.version !== index + 1) {
      problems.push(
        `${path}.contract.versions[${index}].version: must be ${index + 1} (versions count up from 1)`,
      );
    }
    if (Object.keys(version.events).length === 0) {
      problems.push(`${path}.contract.versions[${index}].events: must declare at least one event type`);
    }
    const previous = contract.versions[index - 1];
    if (previous) {
      for (const change of breakingChanges(previous, version)) {
        problems.push(
          `${path}.contract: version ${version.version} breaks compatibility with version ${previous.version}: ${change}`,
        );
      }
    }
  });
  for (const [type, schema] of Object.entries(currentVersion(contract).events)) {
    const json = eventJsonSchema(schema);
    const field = json.properties?.[partitionKey];
    if (!field || !(json.required ?? []).includes(partitionKey) || field.type !== "string") {
      problems.push(`${path}.partitionKey: ${partitionKey} is not a required string field of ${type}`);
    }
  }
  return problems;
}

function checkFilter(path: string, rule: FilterRule, product: Product): string[] {
  const problems: string[] = [];
  const events = currentVersion(product.contract).events;
  const types = rule.eventTypes ?? Object.keys(events);
  for (const type of rule.eventTypes ?? []) {
    if (!events[type]) problems.push(`${path}.eventTypes: ${product.ref} has no event type ${type}`);
  }
  const fieldsByType = types
    .filter((type) => events[type])
    .map((type) => contractFields(eventJsonSchema(events[type]!)));
  for (const [field, condition] of Object.entries(rule.where ?? {})) {
    const schemas = fieldsByType.map((fields) => fields.get(field)).filter((s): s is JsonSchema => !!s);
    if (schemas.length === 0) {
      problems.push(`${path}.where.${field}: not a field of ${product.ref} (${types.join(", ")})`);
      continue;
    }
    if ("numeric" in condition && !schemas.some((s) => s.type === "integer" || s.type === "number")) {
      problems.push(`${path}.where.${field}: numeric condition on a field that is not a number`);
    }
    // A filter value of another type, or outside the field's enum, never matches: the
    // subscription would silently receive nothing.
    const values =
      "equals" in condition
        ? [condition.equals]
        : "anyOf" in condition
          ? [...condition.anyOf]
          : "prefix" in condition
            ? [condition.prefix]
            : [];
    for (const value of values) {
      const fits = schemas.some((schema) => {
        const types = [schema.type].flat();
        const jsonType = typeof value;
        const typed =
          types.includes(jsonType) ||
          (jsonType === "number" && Number.isInteger(value) && types.includes("integer"));
        const allowed = schema.enum ?? (schema.const !== undefined ? [schema.const] : undefined);
        if (!typed) return false;
        if (!allowed) return true;
        return "prefix" in condition
          ? allowed.some((e) => typeof e === "string" && e.startsWith(String(value)))
          : allowed.includes(value);
      });
      if (!fits) {
        const expected = [
          ...new Set(
            schemas.map((schema) =>
              schema.enum
                ? `one of ${schema.enum.map((e) => JSON.stringify(e)).join(", ")}`
                : [schema.type].flat().join(" or "),
            ),
          ),
        ].join("; ");
        problems.push(
          `${path}.where.${field}: ${JSON.stringify(value)} can never match: the field is ${expected}`,
        );
      }
    }
  }
  return problems;
}
