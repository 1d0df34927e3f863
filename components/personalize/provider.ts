// Pulumi serialises these providers (closure serialisation) into every resource's `__provider`
// input. Everything reachable from a provider method is captured, so this module imports nothing
// at runtime: the SDK is loaded inside the methods and the client built per call from the inputs.
import type { PersonalizeClient } from "@aws-sdk/client-personalize";
import type * as pulumi from "@pulumi/pulumi";

type Sdk = typeof import("@aws-sdk/client-personalize");

interface Connection {
  readonly sdk: Sdk;
  readonly client: PersonalizeClient;
}

/** The Personalize resource kinds managed here, as `as const` object and union. */
export const PersonalizeResourceType = {
  DatasetGroup: "DatasetGroup",
  Schema: "Schema",
  Dataset: "Dataset",
  EventTracker: "EventTracker",
  Solution: "Solution",
  SolutionVersion: "SolutionVersion",
  Campaign: "Campaign",
} as const;
export type PersonalizeResourceType = (typeof PersonalizeResourceType)[keyof typeof PersonalizeResourceType];

/** How long to wait for Personalize to settle a create, update or delete. */
export interface WaitOptions {
  /** Milliseconds between two Describe calls. */
  readonly pollIntervalMs?: number;
  /** Milliseconds after which an operation that has not settled fails. */
  readonly timeoutMs?: number;
}

/** Waits used when none are given: minutes for most resources, hours for training. */
export const DEFAULT_WAITS: Readonly<Record<PersonalizeResourceType, Required<WaitOptions>>> = {
  DatasetGroup: { pollIntervalMs: 10_000, timeoutMs: 30 * 60_000 },
  Schema: { pollIntervalMs: 5_000, timeoutMs: 10 * 60_000 },
  Dataset: { pollIntervalMs: 10_000, timeoutMs: 30 * 60_000 },
  EventTracker: { pollIntervalMs: 10_000, timeoutMs: 30 * 60_000 },
  Solution: { pollIntervalMs: 10_000, timeoutMs: 30 * 60_000 },
  // Training routinely takes hours on real data.
  SolutionVersion: { pollIntervalMs: 60_000, timeoutMs: 8 * 60 * 60_000 },
  Campaign: { pollIntervalMs: 30_000, timeoutMs: 2 * 60 * 60_000 },
};

/** Inputs every Personalize resource takes. */
export interface PersonalizeInputs {
  /** AWS region of the resource. */
  readonly region: string;
  /**
   * Role the provider assumes to reach the account (the account's deploy role); without it the
   * ambient credentials are used. Changing it does not replace the resource.
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

export interface SolutionVersionInputs extends PersonalizeInputs {
  readonly solutionArn: string;
  readonly trainingMode: "FULL" | "UPDATE";
}

export interface CampaignInputs extends PersonalizeInputs {
  readonly solutionVersionArn: string;
  readonly minProvisionedTPS: number;
  /** Lets GetRecommendations return item metadata columns (billed separately). */
  readonly enableMetadataWithRecommendations: boolean;
}

export interface InputsByType {
  DatasetGroup: DatasetGroupInputs;
  Schema: SchemaInputs;
  Dataset: DatasetInputs;
  EventTracker: EventTrackerInputs;
  Solution: SolutionInputs;
  SolutionVersion: SolutionVersionInputs;
  Campaign: CampaignInputs;
}

/** State Pulumi keeps: the inputs plus the ARN (also the resource id) and any read-only outputs. */
export type PersonalizeOutputs<T extends PersonalizeResourceType> = InputsByType[T] & {
  readonly arn: string;
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

interface Observed {
  readonly status: string;
  readonly failureReason?: string;
  /** Read-only or drift-prone values to merge into the state. */
  readonly outs?: Record<string, unknown>;
}

interface StatusSource {
  readonly status?: string;
  readonly failureReason?: string;
}

interface Kind<I extends PersonalizeInputs> {
  readonly type: PersonalizeResourceType;
  /** Inputs whose change means a new resource. */
  readonly replaceOn: readonly (keyof I & string)[];
  /** Inputs changed in place by `update`. */
  readonly updateOn: readonly (keyof I & string)[];
  /** Whether `name` is sent to Personalize, which then refuses a second resource of that name. */
  readonly namedInService: boolean;
  create(c: Connection, inputs: I): Promise<{ arn: string; outs?: Record<string, unknown> }>;
  /** Throws ResourceNotFoundException once the resource is gone. */
  describe(c: Connection, arn: string): Promise<Observed>;
  /** True once the service reports the inputs' values (after an update). */
  converged?(observed: Observed, inputs: I): boolean;
  update?(c: Connection, arn: string, inputs: I): Promise<void>;
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

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A resource still being created shows the update's status only once it is ACTIVE itself. */
function combineStatus(resource: StatusSource | undefined, latestUpdate?: StatusSource): Observed {
  const status = resource?.status ?? "UNKNOWN";
  if (status === "ACTIVE" && latestUpdate?.status && latestUpdate.status !== "ACTIVE") {
    return { status: latestUpdate.status, failureReason: latestUpdate.failureReason };
  }
  return { status, failureReason: resource?.failureReason ?? latestUpdate?.failureReason };
}

function isFailed(status: string): boolean {
  return /FAILED|STOPP|DELETE/.test(status);
}

function stripProvider<T extends object>(inputs: T): T {
  const { __provider: _provider, ...rest } = inputs as T & { __provider?: unknown };
  return rest as T;
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

async function waitUntilActive<I extends PersonalizeInputs>(
  kind: Kind<I>,
  c: Connection,
  arn: string,
  inputs: I,
  wait: Required<WaitOptions>,
  state: object,
): Promise<Observed> {
  const deadline = Date.now() + wait.timeoutMs;
  let last = "not visible yet";
  for (;;) {
    let observed: Observed | undefined;
    try {
      observed = await kind.describe(c, arn);
    } catch (e) {
      // Describe can lag a moment behind Create; a missing resource is retried until the deadline.
      if (!isNotFound(e)) throw e;
    }
    if (observed) {
      last = observed.status;
      if (observed.status === "ACTIVE" && (kind.converged?.(observed, inputs) ?? true)) return observed;
      if (isFailed(observed.status)) {
        throw new PersonalizeResourceError(
          `${label(kind.type, inputs.name)} (${arn}) is ${observed.status}: ${observed.failureReason ?? "no failure reason given"}`,
          arn,
          state,
        );
      }
    }
    if (Date.now() >= deadline) {
      throw new PersonalizeResourceError(
        `${label(kind.type, inputs.name)} (${arn}) did not become ACTIVE within ${Math.round(wait.timeoutMs / 1000)} s (last status: ${last})`,
        arn,
        state,
      );
    }
    await sleep(wait.pollIntervalMs);
  }
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

const NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9\-_]{0,62}$/;

function makeProvider<I extends PersonalizeInputs>(
  kind: Kind<I>,
  wait: Required<WaitOptions>,
): pulumi.dynamic.ResourceProvider<I, I & { arn: string }> {
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
      const changed = [...kind.replaceOn, ...kind.updateOn].filter((key) => !sameValue(olds[key], news[key]));
      const replaces = changed.filter((key) => (kind.replaceOn as readonly string[]).includes(key));
      return {
        changes: changed.length > 0,
        replaces,
        // Personalize names are unique: a replacement under the same name must delete first.
        deleteBeforeReplace: replaces.length > 0 && kind.namedInService && olds.name === news.name,
      };
    },

    async create(raw) {
      const inputs = stripProvider(raw);
      const c = await connect(inputs.region, inputs.roleArn);
      let created: { arn: string; outs?: Record<string, unknown> };
      try {
        created = await kind.create(c, inputs);
      } catch (e) {
        throw new PersonalizeResourceError(
          `${label(kind.type, inputs.name)} could not be created: ${String(e)}`,
          undefined,
          undefined,
          {
            cause: e,
          },
        );
      }
      const { arn, outs } = created;
      const state = { ...inputs, ...outs, arn };
      const observed = await waitUntilActive(kind, c, arn, inputs, wait, failedState(state, raw));
      return { id: arn, outs: { ...state, ...observed.outs } };
    },

    async read(id, props) {
      if (!props) throw new Error(`${label(kind.type, id)}: import needs the region in the state`);
      const c = await connect(props.region, props.roleArn);
      try {
        const observed = await kind.describe(c, id);
        return { id, props: { ...stripProvider(props), ...observed.outs, arn: id } };
      } catch (e) {
        if (isNotFound(e)) return {};
        throw e;
      }
    },

    // Also called with unchanged inputs when an earlier create failed or timed out: it then
    // waits again, so a finished training is picked up without a replacement.
    async update(id, olds, raw) {
      const news = stripProvider(raw);
      const c = await connect(news.region, news.roleArn);
      if (kind.update && kind.updateOn.some((key) => !sameValue(olds[key], news[key]))) {
        await kind.update(c, id, news);
      }
      const state = { ...stripProvider(olds), ...news, arn: id };
      const observed = await waitUntilActive(kind, c, id, news, wait, failedState(state, raw));
      return { outs: { ...state, ...observed.outs } };
    },

    async delete(id, props) {
      const c = await connect(props.region, props.roleArn);
      const deadline = Date.now() + wait.timeoutMs;
      let next: "wait" | "gone";
      for (;;) {
        try {
          next = await kind.remove(c, id);
          break;
        } catch (e) {
          if (isNotFound(e)) return;
          // In use while a dependent finishes deleting or the resource is still settling.
          if (errorName(e) !== "ResourceInUseException" || Date.now() >= deadline) {
            throw new PersonalizeResourceError(
              `${label(kind.type, props.name)} (${id}) could not be deleted: ${String(e)}`,
              undefined,
              undefined,
              {
                cause: e,
              },
            );
          }
          await sleep(wait.pollIntervalMs);
        }
      }
      while (next === "wait") {
        try {
          await kind.describe(c, id);
        } catch (e) {
          if (isNotFound(e)) return;
          throw e;
        }
        if (Date.now() >= deadline) {
          throw new PersonalizeResourceError(
            `${label(kind.type, props.name)} (${id}) was not deleted within ${Math.round(wait.timeoutMs / 1000)} s`,
          );
        }
        await sleep(wait.pollIntervalMs);
      }
    },
  };
}

const datasetGroupKind: Kind<DatasetGroupInputs> = {
  type: "DatasetGroup",
  replaceOn: ["region", "name"],
  updateOn: [],
  namedInService: true,
  async create({ sdk, client }, inputs) {
    const out = await client.send(new sdk.CreateDatasetGroupCommand({ name: inputs.name }));
    return { arn: out.datasetGroupArn! };
  },
  async describe({ sdk, client }, arn) {
    const out = await client.send(new sdk.DescribeDatasetGroupCommand({ datasetGroupArn: arn }));
    return combineStatus(out.datasetGroup);
  },
  async remove({ sdk, client }, arn) {
    await client.send(new sdk.DeleteDatasetGroupCommand({ datasetGroupArn: arn }));
    return "wait";
  },
};

const schemaKind: Kind<SchemaInputs> = {
  type: "Schema",
  replaceOn: ["region", "name", "schema"],
  updateOn: [],
  namedInService: true,
  async create({ sdk, client }, inputs) {
    const out = await client.send(new sdk.CreateSchemaCommand({ name: inputs.name, schema: inputs.schema }));
    return { arn: out.schemaArn! };
  },
  async describe({ sdk, client }, arn) {
    // Schemas have no status: one that can be described is usable. The definition is not read
    // back: the service may reformat the JSON, which would show as a change on refresh.
    await client.send(new sdk.DescribeSchemaCommand({ schemaArn: arn }));
    return { status: "ACTIVE" };
  },
  async remove({ sdk, client }, arn) {
    await client.send(new sdk.DeleteSchemaCommand({ schemaArn: arn }));
    return "wait";
  },
};

const datasetKind: Kind<DatasetInputs> = {
  type: "Dataset",
  replaceOn: ["region", "name", "datasetGroupArn", "datasetType"],
  // A new schema is swapped in with UpdateDataset, keeping the imported data.
  updateOn: ["schemaArn"],
  namedInService: true,
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
  async describe({ sdk, client }, arn) {
    const { dataset } = await client.send(new sdk.DescribeDatasetCommand({ datasetArn: arn }));
    return {
      ...combineStatus(dataset, dataset?.latestDatasetUpdate),
      outs: { schemaArn: dataset?.schemaArn },
    };
  },
  converged: (observed, inputs) => observed.outs?.schemaArn === inputs.schemaArn,
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
  namedInService: true,
  async create({ sdk, client }, inputs) {
    const out = await client.send(
      new sdk.CreateEventTrackerCommand({ name: inputs.name, datasetGroupArn: inputs.datasetGroupArn }),
    );
    return { arn: out.eventTrackerArn!, outs: { trackingId: out.trackingId } };
  },
  async describe({ sdk, client }, arn) {
    const { eventTracker } = await client.send(new sdk.DescribeEventTrackerCommand({ eventTrackerArn: arn }));
    return { ...combineStatus(eventTracker), outs: { trackingId: eventTracker?.trackingId } };
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
  namedInService: true,
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
  async describe({ sdk, client }, arn) {
    const { solution } = await client.send(new sdk.DescribeSolutionCommand({ solutionArn: arn }));
    return combineStatus(solution, solution?.latestSolutionUpdate);
  },
  async remove({ sdk, client }, arn) {
    await client.send(new sdk.DeleteSolutionCommand({ solutionArn: arn }));
    return "wait";
  },
};

const solutionVersionKind: Kind<SolutionVersionInputs> = {
  type: "SolutionVersion",
  replaceOn: ["region", "solutionArn", "trainingMode"],
  updateOn: [],
  // Versions get generated ids, so a retraining can run before the old version goes.
  namedInService: false,
  async create({ sdk, client }, inputs) {
    const out = await client.send(
      new sdk.CreateSolutionVersionCommand({
        solutionArn: inputs.solutionArn,
        trainingMode: inputs.trainingMode,
      }),
    );
    return { arn: out.solutionVersionArn! };
  },
  async describe({ sdk, client }, arn) {
    const { solutionVersion } = await client.send(
      new sdk.DescribeSolutionVersionCommand({ solutionVersionArn: arn }),
    );
    return combineStatus(solutionVersion);
  },
  // There is no DeleteSolutionVersion: versions go with their solution. A training still running
  // is stopped so that it neither bills nor blocks DeleteSolution.
  async remove({ sdk, client }, arn) {
    const { solutionVersion } = await client.send(
      new sdk.DescribeSolutionVersionCommand({ solutionVersionArn: arn }),
    );
    if (/^CREATE (PENDING|IN_PROGRESS)$/.test(solutionVersion?.status ?? "")) {
      await client.send(new sdk.StopSolutionVersionCreationCommand({ solutionVersionArn: arn }));
    }
    return "gone";
  },
};

const campaignKind: Kind<CampaignInputs> = {
  type: "Campaign",
  replaceOn: ["region", "name"],
  updateOn: ["solutionVersionArn", "minProvisionedTPS", "enableMetadataWithRecommendations"],
  namedInService: true,
  async create({ sdk, client }, inputs) {
    const out = await client.send(
      new sdk.CreateCampaignCommand({
        name: inputs.name,
        solutionVersionArn: inputs.solutionVersionArn,
        minProvisionedTPS: inputs.minProvisionedTPS,
        campaignConfig: { enableMetadataWithRecommendations: inputs.enableMetadataWithRecommendations },
      }),
    );
    return { arn: out.campaignArn! };
  },
  async describe({ sdk, client }, arn) {
    const { campaign } = await client.send(new sdk.DescribeCampaignCommand({ campaignArn: arn }));
    return {
      ...combineStatus(campaign, campaign?.latestCampaignUpdate),
      outs: {
        solutionVersionArn: campaign?.solutionVersionArn,
        minProvisionedTPS: campaign?.minProvisionedTPS,
        enableMetadataWithRecommendations:
          campaign?.campaignConfig?.enableMetadataWithRecommendations ?? false,
      },
    };
  },
  // The service keeps serving the previous version until the update is ACTIVE.
  converged: (observed, inputs) =>
    observed.outs?.solutionVersionArn === inputs.solutionVersionArn &&
    observed.outs?.minProvisionedTPS === inputs.minProvisionedTPS &&
    observed.outs?.enableMetadataWithRecommendations === inputs.enableMetadataWithRecommendations,
  async update({ sdk, client }, arn, inputs) {
    await client.send(
      new sdk.UpdateCampaignCommand({
        campaignArn: arn,
        solutionVersionArn: inputs.solutionVersionArn,
        minProvisionedTPS: inputs.minProvisionedTPS,
        campaignConfig: { enableMetadataWithRecommendations: inputs.enableMetadataWithRecommendations },
      }),
    );
  },
  async remove({ sdk, client }, arn) {
    await client.send(new sdk.DeleteCampaignCommand({ campaignArn: arn }));
    return "wait";
  },
};

const KINDS: { readonly [T in PersonalizeResourceType]: Kind<InputsByType[T]> } = {
  DatasetGroup: datasetGroupKind,
  Schema: schemaKind,
  Dataset: datasetKind,
  EventTracker: eventTrackerKind,
  Solution: solutionKind,
  SolutionVersion: solutionVersionKind,
  Campaign: campaignKind,
};

/**
 * The dynamic provider for one Personalize resource kind. Create and update wait until the
 * resource is ACTIVE (failing with its status and failure reason), delete waits until it is gone;
 * `wait` overrides {@link DEFAULT_WAITS} (tests pass a 1 ms poll interval). Only the chosen kind
 * is captured, which keeps the serialised provider small.
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
