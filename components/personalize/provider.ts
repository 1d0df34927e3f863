// Pulumi serialises these providers (closure serialisation) into every resource's `__provider`
// input. Everything reachable from a provider method is captured, so this module imports nothing
// at runtime: the SDK is loaded inside the methods and the client built per call from the inputs.
//
// Why hand-written rather than a Pulumi package: no Pulumi provider (aws, aws-native) covers these
// Personalize resources. What they must survive is written down in docs/personalize-training.md.
import type { PersonalizeClient } from "@aws-sdk/client-personalize";
import type * as pulumi from "@pulumi/pulumi";

type Sdk = typeof import("@aws-sdk/client-personalize");

interface Connection {
  readonly sdk: Sdk;
  readonly client: PersonalizeClient;
}

/**
 * The Personalize resources `pulumi up` manages, as `as const` object and union. Solution versions
 * and the campaign are not among them: the training pipeline (`training.ts`) creates them.
 */
export const PersonalizeResourceType = {
  DatasetGroup: "DatasetGroup",
  Schema: "Schema",
  Dataset: "Dataset",
  EventTracker: "EventTracker",
  Solution: "Solution",
} as const;
export type PersonalizeResourceType = (typeof PersonalizeResourceType)[keyof typeof PersonalizeResourceType];

/** How long to wait for Personalize to settle a create, update or delete. */
export interface WaitOptions {
  /** Longest pause between two Describe calls; polls start at an eighth of it and back off. */
  readonly pollIntervalMs?: number;
  /** Milliseconds after which an operation that has not settled fails. */
  readonly timeoutMs?: number;
}

/** Waits used when none are given. A solution's delete also waits for its campaigns to go. */
export const DEFAULT_WAITS: Readonly<Record<PersonalizeResourceType, Required<WaitOptions>>> = {
  DatasetGroup: { pollIntervalMs: 10_000, timeoutMs: 30 * 60_000 },
  Schema: { pollIntervalMs: 5_000, timeoutMs: 10 * 60_000 },
  Dataset: { pollIntervalMs: 10_000, timeoutMs: 30 * 60_000 },
  EventTracker: { pollIntervalMs: 10_000, timeoutMs: 30 * 60_000 },
  Solution: { pollIntervalMs: 10_000, timeoutMs: 60 * 60_000 },
};

/** Inputs every Personalize resource takes. */
export interface PersonalizeInputs {
  /** AWS region of the resource. */
  readonly region: string;
  /**
   * Role the provider assumes to reach the account (the account's deploy role); without it the
   * ambient credentials are used. A change is recorded without replacing the resource.
   */
  readonly roleArn?: string;
  /** Physical name, unique per account and region. */
  readonly name: string;
}

export type DatasetGroupInputs = PersonalizeInputs;

export interface SchemaInputs extends PersonalizeInputs {
  /** The Avro schema as a JSON string. */
  readonly schema: string;
}

export interface DatasetInputs extends PersonalizeInputs {
  readonly datasetGroupArn: string;
  readonly schemaArn: string;
  readonly datasetType: "Interactions" | "Items" | "Users";
}

export interface EventTrackerInputs extends PersonalizeInputs {
  readonly datasetGroupArn: string;
}

export interface SolutionInputs extends PersonalizeInputs {
  readonly datasetGroupArn: string;
  readonly recipeArn: string;
  readonly performHPO: boolean;
  readonly performAutoTraining: boolean;
  readonly eventType?: string;
}

export interface InputsByType {
  DatasetGroup: DatasetGroupInputs;
  Schema: SchemaInputs;
  Dataset: DatasetInputs;
  EventTracker: EventTrackerInputs;
  Solution: SolutionInputs;
}

/**
 * State Pulumi keeps: the inputs, the ARN (also the resource id), the status the service last
 * reported (`ACTIVE`, `CREATE FAILED`, `UPDATE FAILED`, ...) and any read-only outputs.
 */
export type PersonalizeOutputs<T extends PersonalizeResourceType> = InputsByType[T] & {
  readonly arn: string;
  readonly status: string;
  readonly failureReason?: string;
} & (T extends "EventTracker" ? { readonly trackingId: string } : unknown);

/**
 * A create, update or delete that failed or did not settle. `id` and `properties` make the dynamic
 * provider host report a resource that exists but failed to initialise, so Pulumi keeps tracking
 * it instead of leaking it.
 */
export class PersonalizeResourceError extends Error {
  override readonly name = "PersonalizeResourceError";
  constructor(
    message: string,
    readonly id?: string,
    readonly properties?: object,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

interface StatusSource {
  readonly status?: string;
  readonly failureReason?: string;
}

/** What Describe reports about a resource. */
interface Described<I extends PersonalizeInputs> {
  readonly status: string;
  readonly failureReason?: string;
  /** The latest in-place update, when the kind has them. */
  readonly latestUpdate?: StatusSource & {
    readonly target: Partial<I>;
    /** When it started (ms): tells a retried update from the failed one it retries. */
    readonly startedAt?: number;
  };
  /** The inputs as the service holds them (region and role excepted): what import and adoption read. */
  readonly inputs: Omit<I, "region" | "roleArn">;
  /** Read-only outputs. */
  readonly outs?: Record<string, unknown>;
}

/** Something that must go before a resource can be deleted (a campaign serving a solution). */
interface Dependent {
  readonly what: string;
  remove(c: Connection): Promise<"wait" | "gone">;
  /** Throws ResourceNotFoundException once it is gone. */
  describe(c: Connection): Promise<unknown>;
}

interface Kind<I extends PersonalizeInputs> {
  readonly type: PersonalizeResourceType;
  /** Inputs whose change means a new resource. */
  readonly replaceOn: readonly (keyof I & string)[];
  /** Inputs changed in place by `update`. */
  readonly updateOn: readonly (keyof I & string)[];
  create(c: Connection, inputs: I): Promise<{ arn: string; outs?: Record<string, unknown> }>;
  /** ARN of the resource called `inputs.name` in the inputs' scope, if there is one. */
  find(c: Connection, inputs: I): Promise<string | undefined>;
  /** Throws ResourceNotFoundException once the resource is gone. */
  describe(c: Connection, arn: string): Promise<Described<I>>;
  /** Inputs in the form the service returns them (a schema's JSON is reformatted). */
  normalise?(inputs: Partial<I>): Partial<I>;
  update?(c: Connection, arn: string, inputs: I): Promise<void>;
  dependents?(c: Connection, arn: string): Promise<Dependent[]>;
  /** Starts the deletion; "gone" when nothing is left to wait for. */
  remove(c: Connection, arn: string): Promise<"wait" | "gone">;
}

async function connect(region: string, roleArn?: string): Promise<Connection> {
  if (!region) throw new Error("Personalize resources need a region input");
  // Loaded here rather than imported at the top so the serialised provider does not capture them.
  const sdk: Sdk = await import("@aws-sdk/client-personalize");
  const credentials = roleArn
    ? (await import("@aws-sdk/credential-providers")).fromTemporaryCredentials({
        params: { RoleArn: roleArn, RoleSessionName: "mesh-personalize-provider" },
        clientConfig: { region },
      })
    : undefined;
  return { sdk, client: new sdk.PersonalizeClient({ region, credentials }) };
}

function errorName(e: unknown): string | undefined {
  return typeof e === "object" && e !== null && "name" in e
    ? String((e as { name: unknown }).name)
    : undefined;
}

function isNotFound(e: unknown): boolean {
  return errorName(e) === "ResourceNotFoundException";
}

// The SDK retries these a few times itself; a wait of minutes must outlast longer bursts.
const THROTTLING = ["ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded"];
// Session credentials that lapsed during a long wait: a new client fetches fresh ones (assumes
// the role again, or re-reads the ambient chain).
const EXPIRED_CREDENTIALS = [
  "ExpiredTokenException",
  "ExpiredToken",
  "RequestExpired",
  "UnrecognizedClientException",
  "CredentialsProviderError",
];
const MAX_RECONNECTS = 3;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Exponential backoff with "equal jitter": the cap doubles from `baseMs` per attempt up to `capMs`,
 * and the delay is drawn from its upper half, so concurrent waiters spread out but never poll
 * faster than half the cap.
 */
export function backoffDelay(attempt: number, baseMs: number, capMs: number, random = Math.random): number {
  const cap = Math.min(capMs, Math.max(1, baseMs) * 2 ** Math.min(attempt, 30));
  return cap / 2 + random() * (cap / 2);
}

/** One operation on one resource: its connection, deadline and error handling. */
interface Session {
  connection: Connection;
  readonly region: string;
  readonly roleArn?: string;
  readonly deadline: number;
  readonly wait: Required<WaitOptions>;
}

async function openSession(region: string, roleArn: string | undefined, wait: Required<WaitOptions>) {
  const session: Session = {
    connection: await connect(region, roleArn),
    region,
    roleArn,
    deadline: Date.now() + wait.timeoutMs,
    wait,
  };
  return session;
}

/** Sends through the session: throttling backs off until the deadline, lapsed credentials reconnect. */
async function send<T>(s: Session, op: (c: Connection) => Promise<T>): Promise<T> {
  let throttled = 0;
  let reconnects = 0;
  for (;;) {
    try {
      return await op(s.connection);
    } catch (e) {
      const name = errorName(e) ?? "";
      if (THROTTLING.includes(name) && Date.now() < s.deadline) {
        await sleep(backoffDelay(throttled++, s.wait.pollIntervalMs, 8 * s.wait.pollIntervalMs));
      } else if (EXPIRED_CREDENTIALS.includes(name) && reconnects < MAX_RECONNECTS) {
        reconnects++;
        s.connection = await connect(s.region, s.roleArn);
      } else {
        throw e;
      }
    }
  }
}

/** `ACTIVE`, the resource's own status, or `UPDATE <state>` while or after an in-place update. */
function statusOf<I extends PersonalizeInputs>(d: Described<I>): string {
  const update = d.latestUpdate?.status;
  if (d.status === "ACTIVE" && update && update !== "ACTIVE") {
    return `UPDATE ${update.replace(/^(CREATE|UPDATE) /, "")}`;
  }
  return d.status;
}

function failureOf<I extends PersonalizeInputs>(d: Described<I>): string | undefined {
  return d.status === "ACTIVE" ? d.latestUpdate?.failureReason : d.failureReason;
}

function isFailed(status: string): boolean {
  return /FAILED|STOPP|DELETE/.test(status);
}

function stripProvider<T extends object>(inputs: T): T {
  const { __provider: _provider, ...rest } = inputs as T & { __provider?: unknown };
  return rest as T;
}

/** Region of an ARN (`arn:aws:personalize:<region>:...`), for an import that has no state yet. */
function regionOf(arn: string): string {
  return arn.split(":")[3] ?? "";
}

/**
 * The state reported with a failed create or update. The provider host adds `__provider` to
 * successful results only; without it Pulumi could not load the provider to delete the resource.
 */
function failedState(state: object, raw: object): object {
  const provider = (raw as { __provider?: unknown }).__provider;
  return provider === undefined ? state : { ...state, __provider: provider };
}

function label(type: PersonalizeResourceType, name: string): string {
  return `Personalize ${type} ${name}`;
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/** The keys among `keys` whose values differ, compared in the service's form. */
function differing<I extends PersonalizeInputs>(
  kind: Kind<I>,
  keys: readonly (keyof I & string)[],
  a: Partial<I>,
  b: Partial<I>,
): (keyof I & string)[] {
  const normalise = kind.normalise ?? ((x: Partial<I>) => x);
  const [na, nb] = [normalise(a), normalise(b)];
  return keys.filter((key) => !sameValue(na[key], nb[key]));
}

/** A wait that ended without the resource settling, with the status the service last reported. */
class WaitError extends Error {
  override readonly name = "WaitError";
  constructor(
    message: string,
    readonly status: string,
  ) {
    super(message);
  }
}

function messageOf(e: unknown): string {
  return e instanceof WaitError ? e.message : `could not be followed: ${String(e)}`;
}

/** The status to keep in the state after a failure: the last one seen, else UNKNOWN (waits again). */
function lastStatus(e: unknown): string {
  return e instanceof WaitError ? e.status : "UNKNOWN";
}

/** Sends the in-place update unless the service has its values or is already applying them. */
async function updateIfBehind<I extends PersonalizeInputs>(
  kind: Kind<I>,
  s: Session,
  arn: string,
  inputs: I,
) {
  if (!kind.update) return;
  const described = await send(s, (c) => kind.describe(c, arn));
  const behind = differing(kind, kind.updateOn, described.inputs as Partial<I>, inputs).length > 0;
  const update = described.latestUpdate;
  const applying =
    update !== undefined &&
    /PENDING|IN_PROGRESS/.test(update.status ?? "") &&
    differing(kind, kind.updateOn, update.target, inputs).length === 0;
  if (!behind || applying) return undefined;
  await send(s, (c) => kind.update!(c, arn, inputs));
  return update?.startedAt;
}

/** Waits until the resource is ACTIVE with the inputs' values; throws on a failure status or the deadline. */
async function waitUntilActive<I extends PersonalizeInputs>(
  kind: Kind<I>,
  s: Session,
  arn: string,
  inputs: I,
  superseded?: number,
): Promise<Described<I>> {
  let last = "UNKNOWN";
  for (let attempt = 0; ; attempt++) {
    let described: Described<I> | undefined;
    try {
      described = await send(s, (c) => kind.describe(c, arn));
    } catch (e) {
      // Describe can lag a moment behind Create; a missing resource is retried until the deadline.
      if (!isNotFound(e)) throw e;
    }
    if (described) {
      last = statusOf(described);
      // An update still reported for other values is the previous one: its outcome is not ours.
      const update = described.latestUpdate;
      const current =
        !update ||
        (differing(kind, kind.updateOn, update.target, inputs).length === 0 &&
          (superseded === undefined || update.startedAt !== superseded));
      const converged = differing(kind, kind.updateOn, described.inputs as Partial<I>, inputs).length === 0;
      if (last === "ACTIVE" && converged) return described;
      if (isFailed(last) && (current || described.status !== "ACTIVE")) {
        throw new WaitError(`is ${last}: ${failureOf(described) ?? "no failure reason given"}`, last);
      }
    }
    if (Date.now() >= s.deadline) {
      throw new WaitError(
        `did not become ACTIVE within ${Math.round(s.wait.timeoutMs / 1000)} s (last status: ${last})`,
        last,
      );
    }
    await sleep(backoffDelay(attempt, s.wait.pollIntervalMs / 8, s.wait.pollIntervalMs));
  }
}

/** The resource of the same name, adopted when it has the inputs that would replace it otherwise. */
async function adopt<I extends PersonalizeInputs>(kind: Kind<I>, s: Session, inputs: I): Promise<string> {
  const refuse = (why: string) =>
    new PersonalizeResourceError(`${label(kind.type, inputs.name)} could not be created: ${why}`);
  const arn = await send(s, (c) => kind.find(c, inputs));
  if (!arn) throw refuse("it already exists, but is not listed");
  const described = await send(s, (c) => kind.describe(c, arn));
  const existing = described.inputs as Partial<I>;
  const keys = kind.replaceOn.filter((key) => key !== "region");
  const mismatches = differing(kind, keys, existing, inputs);
  if (mismatches.length > 0) {
    const detail = mismatches
      .map(
        (key) => `${key} is ${JSON.stringify(existing[key])}, the program has ${JSON.stringify(inputs[key])}`,
      )
      .join("; ");
    throw refuse(
      `it already exists as ${arn} with other inputs (${detail}); import it, delete it or rename it`,
    );
  }
  return arn;
}

/** Removes a resource and waits until it is gone; in use means a dependent is still going. */
async function removeAndWait(s: Session, what: string, target: Omit<Dependent, "what">): Promise<void> {
  let next: "wait" | "gone";
  for (let attempt = 0; ; attempt++) {
    try {
      next = await send(s, (c) => target.remove(c));
      break;
    } catch (e) {
      if (isNotFound(e)) return;
      if (errorName(e) !== "ResourceInUseException" || Date.now() >= s.deadline) {
        throw new PersonalizeResourceError(
          `${what} could not be deleted: ${String(e)}`,
          undefined,
          undefined,
          {
            cause: e,
          },
        );
      }
      await sleep(backoffDelay(attempt, s.wait.pollIntervalMs / 8, s.wait.pollIntervalMs));
    }
  }
  for (let attempt = 0; next === "wait"; attempt++) {
    try {
      await send(s, (c) => target.describe(c));
    } catch (e) {
      if (isNotFound(e)) return;
      throw new PersonalizeResourceError(`${what} could not be deleted: ${String(e)}`, undefined, undefined, {
        cause: e,
      });
    }
    if (Date.now() >= s.deadline) {
      throw new PersonalizeResourceError(
        `${what} was not deleted within ${Math.round(s.wait.timeoutMs / 1000)} s`,
      );
    }
    await sleep(backoffDelay(attempt, s.wait.pollIntervalMs / 8, s.wait.pollIntervalMs));
  }
}

const NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9\-_]{0,62}$/;
// Inputs that change nothing in the service but must be kept in the state (delete uses them).
const RECORDED = ["roleArn"] as const;

function makeProvider<I extends PersonalizeInputs>(
  kind: Kind<I>,
  wait: Required<WaitOptions>,
): pulumi.dynamic.ResourceProvider<I, I & { arn: string }> {
  /** The state after a settled wait: inputs, what the service reports, ARN and status. */
  const settledState = (
    inputs: I,
    arn: string,
    described: Described<I>,
    extra?: Record<string, unknown>,
  ) => ({
    ...extra,
    ...inputs,
    ...described.outs,
    arn,
    status: "ACTIVE",
  });

  return {
    async check(_olds, news) {
      const failures: pulumi.dynamic.CheckFailure[] = [];
      // Unknown values (previews) are strings too, and the pattern accepts them.
      if (typeof news.name === "string" && !NAME_PATTERN.test(news.name)) {
        failures.push({ property: "name", reason: `must match ${NAME_PATTERN.source}, is "${news.name}"` });
      }
      if (!news.region) failures.push({ property: "region", reason: "is required" });
      return { inputs: news, failures };
    },

    async diff(_id, olds, news) {
      const status = (olds as { status?: string }).status ?? "ACTIVE";
      // A resource whose create failed can only be deleted; a failed update is sent again.
      const failedCreate = isFailed(status) && !status.startsWith("UPDATE");
      const changed = [...kind.replaceOn, ...kind.updateOn, ...RECORDED].filter(
        (key) => !sameValue(olds[key], news[key]),
      );
      const replaces = [
        ...changed.filter((key) => (kind.replaceOn as readonly string[]).includes(key)),
        ...(failedCreate ? ["status"] : []),
      ];
      return {
        changes: changed.length > 0 || status !== "ACTIVE",
        replaces,
        // Personalize names are unique: a replacement under the same name must delete first.
        deleteBeforeReplace: replaces.length > 0 && olds.name === news.name,
      };
    },

    async create(raw) {
      const inputs = stripProvider(raw);
      const s = await openSession(inputs.region, inputs.roleArn, wait);
      let arn: string;
      let outs: Record<string, unknown> | undefined;
      let adopted = false;
      try {
        ({ arn, outs } = await send(s, (c) => kind.create(c, inputs)));
      } catch (e) {
        // A create whose answer was lost, or a resource left by a failed run: same inputs, same resource.
        if (errorName(e) !== "ResourceAlreadyExistsException") {
          throw new PersonalizeResourceError(
            `${label(kind.type, inputs.name)} could not be created: ${String(e)}`,
            undefined,
            undefined,
            { cause: e },
          );
        }
        arn = await adopt(kind, s, inputs);
        adopted = true;
      }
      // From here on the resource exists: every failure reports its id so that Pulumi keeps it.
      try {
        const superseded = adopted ? await updateIfBehind(kind, s, arn, inputs) : undefined;
        const described = await waitUntilActive(kind, s, arn, inputs, superseded);
        return { id: arn, outs: settledState(inputs, arn, described, outs) };
      } catch (e) {
        throw new PersonalizeResourceError(
          `${label(kind.type, inputs.name)} (${arn}) ${messageOf(e)}`,
          arn,
          failedState({ ...inputs, ...outs, arn, status: lastStatus(e) }, raw),
          { cause: e },
        );
      }
    },

    // Without state (an import) the region comes from the ARN and the inputs from Describe.
    async read(id, props) {
      const known = stripProvider((props ?? {}) as Partial<I>);
      const region = known.region || regionOf(id);
      const s = await openSession(region, known.roleArn, wait);
      let described: Described<I>;
      try {
        described = await send(s, (c) => kind.describe(c, id));
      } catch (e) {
        if (isNotFound(e)) return {};
        throw e;
      }
      // Values the service reformats (a schema's JSON) keep the program's form when they are equal.
      const service = described.inputs as Partial<I>;
      const same = Object.keys(service).filter(
        (key) => differing(kind, [key as keyof I & string], known, service).length === 0,
      );
      const inputs = {
        ...service,
        ...Object.fromEntries(same.map((key) => [key, known[key as keyof I]])),
        region,
        ...(known.roleArn ? { roleArn: known.roleArn } : {}),
      } as I;
      const failureReason = failureOf(described);
      const status = statusOf(described);
      const state = {
        ...inputs,
        ...described.outs,
        arn: id,
        status,
        ...(isFailed(status) && failureReason ? { failureReason } : {}),
      };
      return { id, props: state, inputs: inputs as I & { arn: string } };
    },

    // Also called with unchanged inputs when an earlier create did not settle: it then waits
    // again. A failed update is sent again because its state keeps the values the service has.
    async update(id, olds, raw) {
      const news = stripProvider(raw);
      const s = await openSession(news.region, news.roleArn, wait);
      const previous = stripProvider(olds) as I & { status?: string };
      try {
        const superseded = await updateIfBehind(kind, s, id, news);
        const described = await waitUntilActive(kind, s, id, news, superseded);
        return { outs: settledState(news, id, described, previous as Record<string, unknown>) };
      } catch (e) {
        // The values the service still has, so that the next diff sees the update as not done.
        const kept = Object.fromEntries(kind.updateOn.map((key) => [key, previous[key]]));
        throw new PersonalizeResourceError(
          `${label(kind.type, news.name)} (${id}) ${messageOf(e)}`,
          id,
          failedState({ ...previous, ...news, ...kept, arn: id, status: lastStatus(e) }, raw),
          { cause: e },
        );
      }
    },

    async delete(id, props) {
      const s = await openSession(props.region || regionOf(id), props.roleArn, wait);
      const what = `${label(kind.type, props.name)} (${id})`;
      // Dependents first: a solution cannot go while a campaign serves one of its versions.
      const dependents = kind.dependents ? await send(s, (c) => kind.dependents!(c, id)) : [];
      for (const dependent of dependents)
        await removeAndWait(s, `${dependent.what} (serving ${what})`, dependent);
      await removeAndWait(s, what, {
        remove: (c) => kind.remove(c, id),
        describe: (c) => kind.describe(c, id),
      });
    },
  };
}

/** The ARN of the item called `name` on any page of a listing (through the SDK's paginator). */
async function findByName<P, T extends { name?: string }>(
  pages: AsyncIterable<P>,
  items: (page: P) => T[] | undefined,
  name: string,
  arnOf: (item: T) => string | undefined,
): Promise<string | undefined> {
  for await (const page of pages) {
    const match = (items(page) ?? []).find((item) => item.name === name);
    if (match) return arnOf(match);
  }
  return undefined;
}

const datasetGroupKind: Kind<DatasetGroupInputs> = {
  type: "DatasetGroup",
  replaceOn: ["region", "name"],
  updateOn: [],
  async create({ sdk, client }, inputs) {
    const out = await client.send(new sdk.CreateDatasetGroupCommand({ name: inputs.name }));
    return { arn: out.datasetGroupArn! };
  },
  find: ({ sdk, client }, inputs) =>
    findByName(
      sdk.paginateListDatasetGroups({ client }, {}),
      (page) => page.datasetGroups,
      inputs.name,
      (g) => g.datasetGroupArn,
    ),
  async describe({ sdk, client }, arn) {
    const { datasetGroup } = await client.send(new sdk.DescribeDatasetGroupCommand({ datasetGroupArn: arn }));
    return {
      status: datasetGroup?.status ?? "UNKNOWN",
      failureReason: datasetGroup?.failureReason,
      inputs: { name: datasetGroup?.name ?? "" },
    };
  },
  async remove({ sdk, client }, arn) {
    await client.send(new sdk.DeleteDatasetGroupCommand({ datasetGroupArn: arn }));
    return "wait";
  },
};

function canonicalJson(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  try {
    return JSON.stringify(JSON.parse(text));
  } catch {
    return text;
  }
}

const schemaKind: Kind<SchemaInputs> = {
  type: "Schema",
  replaceOn: ["region", "name", "schema"],
  updateOn: [],
  async create({ sdk, client }, inputs) {
    const out = await client.send(new sdk.CreateSchemaCommand({ name: inputs.name, schema: inputs.schema }));
    return { arn: out.schemaArn! };
  },
  find: ({ sdk, client }, inputs) =>
    findByName(
      sdk.paginateListSchemas({ client }, {}),
      (page) => page.schemas,
      inputs.name,
      (x) => x.schemaArn,
    ),
  // Schemas have no status: one that can be described is usable.
  async describe({ sdk, client }, arn) {
    const { schema } = await client.send(new sdk.DescribeSchemaCommand({ schemaArn: arn }));
    return { status: "ACTIVE", inputs: { name: schema?.name ?? "", schema: schema?.schema ?? "" } };
  },
  // The service may reformat the JSON; equal documents are the same schema.
  normalise: (inputs) => ({ ...inputs, schema: canonicalJson(inputs.schema) }),
  async remove({ sdk, client }, arn) {
    await client.send(new sdk.DeleteSchemaCommand({ schemaArn: arn }));
    return "wait";
  },
};

const DATASET_TYPES: Readonly<Record<string, DatasetInputs["datasetType"]>> = {
  interactions: "Interactions",
  items: "Items",
  users: "Users",
};

const datasetKind: Kind<DatasetInputs> = {
  type: "Dataset",
  replaceOn: ["region", "name", "datasetGroupArn", "datasetType"],
  // A new schema is swapped in with UpdateDataset, keeping the imported data.
  updateOn: ["schemaArn"],
  async create({ sdk, client }, inputs) {
    const out = await client.send(
      new sdk.CreateDatasetCommand({
        name: inputs.name,
        datasetGroupArn: inputs.datasetGroupArn,
        schemaArn: inputs.schemaArn,
        datasetType: inputs.datasetType,
      }),
    );
    return { arn: out.datasetArn! };
  },
  find: ({ sdk, client }, inputs) =>
    findByName(
      sdk.paginateListDatasets({ client }, { datasetGroupArn: inputs.datasetGroupArn }),
      (page) => page.datasets,
      inputs.name,
      (x) => x.datasetArn,
    ),
  async describe({ sdk, client }, arn) {
    const { dataset } = await client.send(new sdk.DescribeDatasetCommand({ datasetArn: arn }));
    const update = dataset?.latestDatasetUpdate;
    return {
      status: dataset?.status ?? "UNKNOWN",
      latestUpdate: update && {
        status: update.status,
        failureReason: update.failureReason,
        target: { schemaArn: update.schemaArn },
        startedAt: update.creationDateTime?.getTime(),
      },
      inputs: {
        name: dataset?.name ?? "",
        datasetGroupArn: dataset?.datasetGroupArn ?? "",
        schemaArn: dataset?.schemaArn ?? "",
        datasetType: DATASET_TYPES[(dataset?.datasetType ?? "").toLowerCase()] ?? ("" as never),
      },
    };
  },
  async update({ sdk, client }, arn, inputs) {
    await client.send(new sdk.UpdateDatasetCommand({ datasetArn: arn, schemaArn: inputs.schemaArn }));
  },
  async remove({ sdk, client }, arn) {
    await client.send(new sdk.DeleteDatasetCommand({ datasetArn: arn }));
    return "wait";
  },
};

const eventTrackerKind: Kind<EventTrackerInputs> = {
  type: "EventTracker",
  replaceOn: ["region", "name", "datasetGroupArn"],
  updateOn: [],
  async create({ sdk, client }, inputs) {
    const out = await client.send(
      new sdk.CreateEventTrackerCommand({ name: inputs.name, datasetGroupArn: inputs.datasetGroupArn }),
    );
    return { arn: out.eventTrackerArn!, outs: { trackingId: out.trackingId } };
  },
  find: ({ sdk, client }, inputs) =>
    findByName(
      sdk.paginateListEventTrackers({ client }, { datasetGroupArn: inputs.datasetGroupArn }),
      (page) => page.eventTrackers,
      inputs.name,
      (x) => x.eventTrackerArn,
    ),
  async describe({ sdk, client }, arn) {
    const { eventTracker } = await client.send(new sdk.DescribeEventTrackerCommand({ eventTrackerArn: arn }));
    return {
      status: eventTracker?.status ?? "UNKNOWN",
      inputs: { name: eventTracker?.name ?? "", datasetGroupArn: eventTracker?.datasetGroupArn ?? "" },
      outs: { trackingId: eventTracker?.trackingId },
    };
  },
  async remove({ sdk, client }, arn) {
    await client.send(new sdk.DeleteEventTrackerCommand({ eventTrackerArn: arn }));
    return "wait";
  },
};

const solutionKind: Kind<SolutionInputs> = {
  type: "Solution",
  replaceOn: [
    "region",
    "name",
    "datasetGroupArn",
    "recipeArn",
    "performHPO",
    "performAutoTraining",
    "eventType",
  ],
  updateOn: [],
  async create({ sdk, client }, inputs) {
    const out = await client.send(
      new sdk.CreateSolutionCommand({
        name: inputs.name,
        datasetGroupArn: inputs.datasetGroupArn,
        recipeArn: inputs.recipeArn,
        performHPO: inputs.performHPO,
        performAutoTraining: inputs.performAutoTraining,
        eventType: inputs.eventType,
      }),
    );
    return { arn: out.solutionArn! };
  },
  find: ({ sdk, client }, inputs) =>
    findByName(
      sdk.paginateListSolutions({ client }, { datasetGroupArn: inputs.datasetGroupArn }),
      (page) => page.solutions,
      inputs.name,
      (x) => x.solutionArn,
    ),
  async describe({ sdk, client }, arn) {
    const { solution } = await client.send(new sdk.DescribeSolutionCommand({ solutionArn: arn }));
    return {
      status: solution?.status ?? "UNKNOWN",
      inputs: {
        name: solution?.name ?? "",
        datasetGroupArn: solution?.datasetGroupArn ?? "",
        recipeArn: solution?.recipeArn ?? "",
        performHPO: solution?.performHPO ?? false,
        performAutoTraining: solution?.performAutoTraining ?? false,
        ...(solution?.eventType ? { eventType: solution.eventType } : {}),
      },
    };
  },
  // The training pipeline's campaigns serve this solution's versions, and a training it started
  // blocks DeleteSolution: the campaigns are deleted and the trainings stopped first.
  async dependents({ sdk, client }, arn) {
    const dependents: Dependent[] = [];
    for await (const page of sdk.paginateListCampaigns({ client }, { solutionArn: arn })) {
      for (const campaign of page.campaigns ?? []) {
        const campaignArn = campaign.campaignArn!;
        dependents.push({
          what: `Personalize Campaign ${campaign.name}`,
          remove: async (c) => {
            await c.client.send(new c.sdk.DeleteCampaignCommand({ campaignArn }));
            return "wait";
          },
          describe: (c) => c.client.send(new c.sdk.DescribeCampaignCommand({ campaignArn })),
        });
      }
    }
    for await (const page of sdk.paginateListSolutionVersions({ client }, { solutionArn: arn })) {
      for (const version of page.solutionVersions ?? []) {
        if (!/^CREATE (PENDING|IN_PROGRESS)$/.test(version.status ?? "")) continue;
        const solutionVersionArn = version.solutionVersionArn!;
        dependents.push({
          what: `Personalize training ${solutionVersionArn}`,
          // Stopping settles in the background; DeleteSolution is retried while it is in use.
          remove: async (c) => {
            await c.client.send(new c.sdk.StopSolutionVersionCreationCommand({ solutionVersionArn }));
            return "gone";
          },
          describe: (c) => c.client.send(new c.sdk.DescribeSolutionVersionCommand({ solutionVersionArn })),
        });
      }
    }
    return dependents;
  },
  async remove({ sdk, client }, arn) {
    await client.send(new sdk.DeleteSolutionCommand({ solutionArn: arn }));
    return "wait";
  },
};

const KINDS: { readonly [T in PersonalizeResourceType]: Kind<InputsByType[T]> } = {
  DatasetGroup: datasetGroupKind,
  Schema: schemaKind,
  Dataset: datasetKind,
  EventTracker: eventTrackerKind,
  Solution: solutionKind,
};

/**
 * The dynamic provider for one Personalize resource kind. Create and update wait until the
 * resource is ACTIVE (failing with its status and failure reason), delete removes dependents and
 * waits until the resource is gone; `wait` overrides {@link DEFAULT_WAITS} (tests pass a 1 ms poll
 * interval). Only the chosen kind is captured, which keeps the serialised provider small.
 */
export function personalizeProvider<T extends PersonalizeResourceType>(
  type: T,
  wait: WaitOptions = {},
): pulumi.dynamic.ResourceProvider<InputsByType[T], PersonalizeOutputs<T>> {
  const kind = KINDS[type] as unknown as Kind<InputsByType[T]>;
  const settings = {
    pollIntervalMs: wait.pollIntervalMs ?? DEFAULT_WAITS[type].pollIntervalMs,
    timeoutMs: wait.timeoutMs ?? DEFAULT_WAITS[type].timeoutMs,
  };
  return makeProvider(kind, settings) as unknown as pulumi.dynamic.ResourceProvider<
    InputsByType[T],
    PersonalizeOutputs<T>
  >;
}
