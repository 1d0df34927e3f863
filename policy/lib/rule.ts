import type {
  PolicyResource,
  ReportViolation,
  ResourceValidation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidation,
  StackValidationPolicy,
} from "@pulumi/policy";
import {
  EXEMPTION_SINK,
  findExemption,
  nameOfUrn,
  recordExempted,
  type ExemptedViolation,
  type ExemptionSink,
} from "../exemptions";
import { configSchemaOf, parseSettings, type Exemption, type SettingKey, type Settings } from "./settings";
import { couldNotCheckError, get, isRecord, parseMaybeJson, snapshot, UNKNOWN, type Unknown } from "./values";

/** A resource as rules see it: inputs (or outputs, for stack rules) as a snapshot that never throws. */
export interface ResourceView {
  readonly type: string;
  readonly name: string;
  readonly urn: string;
  /** Properties with every unknown value replaced by {@link UNKNOWN}. */
  readonly props: Readonly<Record<string, unknown>>;
  readonly protect: boolean;
  readonly parent?: string;
  /** Physical id, when the source knows it (offline plans may record it; the engine does not pass it). */
  readonly id?: string;
  /** The account the resource's provider is pinned to (`allowedAccountIds` with one entry). */
  readonly account?: string;
  /** The provider's `defaultTags` merged with the resource's own `tags`; UNKNOWN when not known yet. */
  readonly tags: Readonly<Record<string, unknown>> | Unknown;
  /** URNs this resource depends on (stack rules only). */
  readonly dependencies: readonly string[];
  /** URNs each property depends on (stack rules only). */
  readonly propertyDependencies: Readonly<Record<string, readonly string[]>>;
}

export interface StackView {
  readonly resources: readonly ResourceView[];
  byUrn(urn: string): ResourceView | undefined;
  ofType(...types: readonly string[]): ResourceView[];
}

export interface RuleContext<K extends SettingKey> {
  readonly settings: Settings<K>;
  /** Reports a violation ("X must Y."), of the rule's resource or, in stack rules, of `urn`. */
  report(message: string, urn?: string): void;
  /**
   * Notes that an unknown value could hide a violation. The rule goes on; at the end the notes are
   * thrown as the engine's UnknownValueError, which `pulumi preview` (and `evaluatePlan`) report as an
   * advisory "can't run policy ... during preview" diagnostic: not a pass, not a failure.
   */
  couldNotCheck(message: string, urn?: string): void;
}

interface RuleSpec<K extends SettingKey> {
  /** kebab-case, unique in the pack. */
  readonly name: string;
  /** One sentence. */
  readonly description: string;
  /** mandatory for security and data-loss rules, advisory for advice. */
  readonly enforcementLevel: "mandatory" | "advisory";
  /** Settings the rule reads from its policy config (exemptions are always read). */
  readonly settings?: readonly K[];
}

export interface ResourceRuleSpec<K extends SettingKey> extends RuleSpec<K> {
  readonly types: readonly string[];
  check(resource: ResourceView, context: RuleContext<K>): void;
}

export interface StackRuleSpec<K extends SettingKey> extends RuleSpec<K> {
  check(stack: StackView, context: RuleContext<K>): void;
}

/** Runs one rule over one resource or stack: exemptions, unknown notes, then the verdict. */
class RuleRun<K extends SettingKey> implements RuleContext<K> {
  private readonly notes: string[] = [];

  constructor(
    private readonly spec: RuleSpec<K>,
    readonly settings: Settings<K | "exemptions">,
    private readonly reportViolation: ReportViolation,
    private readonly sink: ExemptionSink,
    private readonly defaultUrn: string | undefined,
    private readonly nameOf: (urn: string) => string,
  ) {}

  private exemption(urn: string | undefined): Exemption | undefined {
    return findExemption(this.settings.exemptions, urn, urn === undefined ? undefined : this.nameOf(urn));
  }

  private exempt(message: string, urn: string | undefined, exemption: Exemption): void {
    const violation: ExemptedViolation = {
      policy: this.spec.name,
      enforcementLevel: this.spec.enforcementLevel,
      urn,
      name: urn === undefined ? undefined : this.nameOf(urn),
      message,
      reason: exemption.reason,
    };
    this.sink(violation);
  }

  report = (message: string, urn?: string): void => {
    const target = urn ?? this.defaultUrn;
    const exemption = this.exemption(target);
    if (exemption) this.exempt(message, target, exemption);
    else this.reportViolation(message, urn);
  };

  couldNotCheck = (message: string, urn?: string): void => {
    const target = urn ?? this.defaultUrn;
    const exemption = this.exemption(target);
    if (exemption) this.exempt(message, target, exemption);
    else if (!this.notes.includes(message)) this.notes.push(message);
  };

  finish(): void {
    if (this.notes.length > 0) throw couldNotCheckError(this.notes.join(" "));
  }
}

function sinkOf(args: object): ExemptionSink {
  const sink = (args as { [EXEMPTION_SINK]?: ExemptionSink })[EXEMPTION_SINK];
  return typeof sink === "function" ? sink : recordExempted;
}

function keysOf<K extends SettingKey>(spec: RuleSpec<K>): (K | "exemptions")[] {
  return [...(spec.settings ?? []), "exemptions"];
}

/** A resource-level rule as a @pulumi/policy ResourceValidationPolicy. */
export function resourceRule<K extends SettingKey = never>(
  spec: ResourceRuleSpec<K>,
): ResourceValidationPolicy {
  const keys = keysOf(spec);
  const validate: ResourceValidation = (args, reportViolation) => {
    if (!spec.types.includes(args.type)) {
      return args.notApplicable(`Policy only applies to resources of type ${spec.types.join(", ")}`);
    }
    const settings = parseSettings(spec.name, keys, args.getConfig<Record<string, unknown>>());
    const resource = viewOfArgs(args);
    const run = new RuleRun<K>(spec, settings, reportViolation, sinkOf(args), args.urn, () => args.name);
    spec.check(resource, run);
    run.finish();
  };
  // Lets the engine skip other types without calling the rule (as validateResourceOfType does).
  if (spec.types.length === 1) Object.assign(validate, { __pulumiType: spec.types[0] });
  return {
    name: spec.name,
    description: spec.description,
    enforcementLevel: spec.enforcementLevel,
    configSchema: configSchemaOf(keys),
    validateResource: validate,
  };
}

/** A stack-level rule (it needs several resources at once) as a StackValidationPolicy. */
export function stackRule<K extends SettingKey = never>(spec: StackRuleSpec<K>): StackValidationPolicy {
  const keys = keysOf(spec);
  const validate: StackValidation = (args, reportViolation) => {
    const settings = parseSettings(spec.name, keys, args.getConfig<Record<string, unknown>>());
    const stack = stackViewOf(args.resources);
    const nameOf = (urn: string) => stack.byUrn(urn)?.name ?? nameOfUrn(urn);
    const run = new RuleRun<K>(spec, settings, reportViolation, sinkOf(args), undefined, nameOf);
    spec.check(stack, run);
    run.finish();
  };
  return {
    name: spec.name,
    description: spec.description,
    enforcementLevel: spec.enforcementLevel,
    configSchema: configSchemaOf(keys),
    validateStack: validate,
  };
}

interface ProviderLike {
  readonly props: Record<string, unknown>;
}

function accountOf(provider: ProviderLike | undefined): string | undefined {
  if (!provider) return undefined;
  const ids = parseMaybeJson(get(snapshot(provider.props), "allowedAccountIds"));
  return Array.isArray(ids) && ids.length === 1 && typeof ids[0] === "string" ? ids[0] : undefined;
}

function tagsOf(props: Record<string, unknown>, provider: ProviderLike | undefined): ResourceView["tags"] {
  const own = parseMaybeJson(props.tags);
  if (own === UNKNOWN) return UNKNOWN;
  const defaults = provider
    ? get(parseMaybeJson(get(snapshot(provider.props), "defaultTags")), "tags")
    : undefined;
  if (defaults === UNKNOWN) return UNKNOWN;
  return { ...(isRecord(defaults) ? defaults : {}), ...(isRecord(own) ? own : {}) };
}

function view(
  source: Pick<ResourceValidationArgs, "type" | "name" | "urn" | "props" | "opts" | "provider">,
  extra: Pick<ResourceView, "dependencies" | "propertyDependencies"> & { parent?: string },
): ResourceView {
  const props = snapshot(source.props) as Record<string, unknown>;
  const idField = (source as { id?: unknown }).id;
  return {
    type: source.type,
    name: source.name,
    urn: source.urn,
    props,
    protect: source.opts?.protect === true,
    parent: extra.parent ?? source.opts?.parent,
    id: typeof idField === "string" ? idField : undefined,
    account: accountOf(source.provider),
    tags: tagsOf(props, source.provider),
    dependencies: extra.dependencies,
    propertyDependencies: extra.propertyDependencies,
  };
}

function viewOfArgs(args: ResourceValidationArgs): ResourceView {
  return view(args, { dependencies: [], propertyDependencies: {} });
}

/** The stack's view, made once per list of resources: every stack rule of a check shares it. */
export function stackViewOf(resources: readonly PolicyResource[]): StackView {
  let stack = stackViews.get(resources);
  if (!stack) {
    stack = makeStackView(resources);
    stackViews.set(resources, stack);
  }
  return stack;
}
const stackViews = new WeakMap<readonly PolicyResource[], StackView>();

function makeStackView(resources: readonly PolicyResource[]): StackView {
  const views = resources.map((resource) =>
    view(resource, {
      parent: resource.parent?.urn,
      dependencies: resource.dependencies.map((dependency) => dependency.urn),
      propertyDependencies: Object.fromEntries(
        Object.entries(resource.propertyDependencies).map(([key, list]) => [key, list.map((d) => d.urn)]),
      ),
    }),
  );
  const byUrn = new Map(views.map((resource) => [resource.urn, resource]));
  const byType = new Map<string, ResourceView[]>();
  for (const resource of views) {
    const ofType = byType.get(resource.type);
    if (ofType) ofType.push(resource);
    else byType.set(resource.type, [resource]);
  }
  return {
    resources: views,
    byUrn: (urn) => byUrn.get(urn),
    ofType: (...types) =>
      types.length === 1
        ? [...(byType.get(types[0]!) ?? [])]
        : views.filter((resource) => types.includes(resource.type)),
  };
}

/** The value of a tag, UNKNOWN when the tags are not known yet, undefined when absent. */
export function tagOf(resource: ResourceView, key: string): unknown {
  return resource.tags === UNKNOWN ? UNKNOWN : resource.tags[key];
}

/** The stack's environment: the policy config's `environment`, else the resource's mesh:environment tag. */
export function environmentOf(resource: ResourceView, configured: string | undefined): string | undefined {
  if (configured) return configured;
  const tag = tagOf(resource, "mesh:environment");
  return typeof tag === "string" ? tag : undefined;
}

/** How messages name a resource: its physical name when known, else its logical name. */
export function displayName(resource: ResourceView, ...keys: string[]): string {
  for (const key of [...keys, "name"]) {
    const value = resource.props[key];
    if (typeof value === "string" && value.length > 0) return value;
  }
  return resource.name;
}
