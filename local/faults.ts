import { ScanCommand } from "@aws-sdk/client-dynamodb";
import { PutRecordCommand, type KinesisClient } from "@aws-sdk/client-kinesis";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Publisher } from "../runtime/publisher";
import type { LocalDynamoDB } from "./dynamodb";
import { filterView, parsePatterns, passes } from "./filter";
import type { LocalFunction } from "./functions";
import type { LocalFirehose } from "./firehose";
import type { LocalPersonalizeEvents } from "./personalize-events";
import type { LocalPlan, PlannedMapping } from "./plan";
import type { ScenarioEvent } from "./scenario";
import type { Subscriber } from "./websocket-gateway";

/** What one subscription did with each event, by event id (or `<shard>/<sequence>` for undecodable data). */
export interface Ledger {
  readonly mapping: PlannedMapping;
  readonly outcomes: ReadonlyMap<string, "delivered" | "filtered" | "dead-lettered">;
  /** How many discarded batches (on-failure invocation records) included each key. */
  readonly deadLetters: ReadonlyMap<string, number>;
  /** Sequence number of each key's record. */
  readonly sequenceNumbers: ReadonlyMap<string, string>;
  /** Longest time one batch held its shard lane, and what the mapping allows. */
  longestBatchMs(): number;
  allowedBatchMs(): number;
}

export interface FaultContext {
  readonly plan: LocalPlan;
  readonly kinesis: KinesisClient;
  readonly publishers: ReadonlyMap<string, Publisher>;
  readonly personalize: LocalPersonalizeEvents;
  readonly firehose: LocalFirehose;
  readonly dynamodb: LocalDynamoDB;
  readonly functions: ReadonlyMap<string, LocalFunction>;
  readonly subscribers: readonly Subscriber[];
  readonly workDir: string;
  /** Interaction events published so far, for the duplicate delivery. */
  readonly published: readonly ScenarioEvent[];
  readonly log: (line: string) => void;
}

type Expected = "dead-lettered" | "filtered" | "delivered";

interface Poison {
  readonly key: string;
  readonly what: string;
  readonly stream: string;
  readonly data: Buffer;
  readonly partitionKey: string;
  readonly sequenceNumber: string;
  /** Whether a mapping's function is expected to refuse it (once the filter let it through). */
  readonly refusedBy: (mapping: PlannedMapping) => boolean;
}

/**
 * The `--faults` scenario, injected while the producers run (at the given share of the events
 * produced), and the required outcome, checked at the end:
 *
 * - poison records: data that is not JSON (users), an interaction that breaks its contract (no
 *   sessionId), and a valid interaction whose event Personalize refuses (400) on every attempt;
 * - Personalize throttling (400 ThrottlingException) and 5xx (500 InternalFailure) on a few calls;
 * - Firehose partial failures (a few entries of a few PutRecordBatch calls refused);
 * - a crash of the Personalize writer's environment mid-batch, right after one of its PutEvents
 *   calls was accepted (effects done, completions not recorded);
 * - a duplicate delivery: interaction events already published, published again with their ids;
 * - a push subscriber whose connection drops (API Gateway then runs `$disconnect`).
 *
 * Required: nothing lost; every poison record dead-lettered exactly once by every subscription that
 * should refuse it (and by no other), with its reason; no event dead-lettered that is not poison; no
 * batch held its shard lane longer than its mapping allows; each effect at most once, Personalize in
 * per-user order (the mesh's own effect checks); the gone subscriber removed from the table.
 */
export class Faults {
  private readonly steps: { at: number; name: string; run: () => Promise<void> }[];
  private readonly poisons: Poison[] = [];
  private readonly done: string[] = [];
  /** When the crashed invocation started, and when it crashed. */
  private crash: { since: number; at: number } | undefined;
  /** PutEvents calls accepted so far, with when. */
  private readonly accepted: { at: number; eventIds: string[] }[] = [];

  constructor(private readonly context: FaultContext) {
    const writer = this.personalizeWriter();
    context.personalize.afterAccept = (operation, body) => {
      if (operation === "PutEvents") this.accepted.push({ at: Date.now(), eventIds: eventIdsOf(body) });
    };
    this.steps = [
      { at: 0.2, name: "poison records", run: () => this.poison() },
      {
        at: 0.3,
        name: "subscriber disconnects",
        // Dropped without a close handshake, as a phone losing its network.
        run: async () => context.subscribers[0]!.socket.terminate(),
      },
      {
        at: 0.4,
        name: "Personalize throttling",
        run: async () => context.personalize.failNext(4, 400, "ThrottlingException"),
      },
      {
        at: 0.45,
        name: "Firehose partial failures",
        run: async () => context.firehose.refuseEntries(3, 5),
      },
      {
        at: 0.5,
        name: "Personalize 5xx",
        run: async () => context.personalize.failNext(3, 500, "InternalFailure"),
      },
      {
        at: 0.6,
        name: `crash of ${writer?.planned.name ?? "the Personalize writer"} mid-batch`,
        run: async () => {
          const record = context.personalize.afterAccept!;
          context.personalize.afterAccept = (operation, body) => {
            record(operation, body);
            if (operation !== "PutEvents" || this.crash || !writer?.runningSince) return;
            this.crash = { since: writer.runningSince, at: Date.now() };
            writer.crash();
          };
        },
      },
      { at: 0.7, name: "duplicate delivery", run: () => this.duplicate() },
    ];
  }

  /**
   * The events the crashed invocation sent to Personalize: its calls accepted before the crash and
   * those it had in flight, which the local endpoint answers within a second (a retry of the batch
   * may send them again: at-least-once after a crash, see `recordOwner` in the consumer kit).
   */
  crashVictims(): Set<string> {
    const crash = this.crash;
    if (!crash) return new Set();
    return new Set(
      this.accepted
        .filter((call) => call.at >= crash.since && call.at <= crash.at + 1000)
        .flatMap((call) => call.eventIds),
    );
  }

  /** Runs the steps due at `progress` (share of the events produced). */
  async at(progress: number): Promise<void> {
    while (this.steps.length && this.steps[0]!.at <= progress) {
      const step = this.steps.shift()!;
      await step.run();
      this.done.push(step.name);
      this.context.log(`fault: ${step.name}`);
    }
  }

  private personalizeWriter(): LocalFunction | undefined {
    const fn = [...this.context.plan.functions.values()].find((planned) =>
      planned.unknownEnvironment.includes("PERSONALIZE_TRACKING_ID"),
    );
    return fn && this.context.functions.get(fn.name);
  }

  private async put(stream: string, partitionKey: string, data: Buffer) {
    const answer = await this.context.kinesis.send(
      new PutRecordCommand({ StreamName: stream, PartitionKey: partitionKey, Data: data }),
    );
    return { shardId: answer.ShardId!, sequenceNumber: answer.SequenceNumber! };
  }

  private async poison(): Promise<void> {
    const never = () => true;
    const notJson = Buffer.from("{ this is not json", "utf8");
    const written = await this.put("users.user-events", "poison-user-1", notJson);
    this.poisons.push({
      key: `${written.shardId}/${written.sequenceNumber}`,
      what: "data that is not JSON",
      stream: "users.user-events",
      data: notJson,
      partitionKey: "poison-user-1",
      sequenceNumber: written.sequenceNumber,
      refusedBy: never,
    });

    const broken = {
      specversion: "1.0",
      id: "poison-2",
      source: "mesh://interactions/interaction-events",
      type: "interaction.like",
      time: new Date().toISOString(),
      dataversion: 1,
      partitionkey: "poison-user-2",
      data: {
        userId: "poison-user-2",
        itemId: "song-1",
        itemType: "song",
        occurredAt: new Date().toISOString(),
      },
    };
    const brokenData = Buffer.from(JSON.stringify(broken), "utf8");
    const second = await this.put("interactions.interaction-events", "poison-user-2", brokenData);
    this.poisons.push({
      key: "poison-2",
      what: "an interaction without its required sessionId",
      stream: "interactions.interaction-events",
      data: brokenData,
      partitionKey: "poison-user-2",
      sequenceNumber: second.sequenceNumber,
      refusedBy: never,
    });

    const refused = {
      id: "poison-3",
      type: "interaction.play",
      data: {
        userId: "poison-user-3",
        itemId: "song-1",
        itemType: "song",
        sessionId: "poison-session-3",
        occurredAt: new Date().toISOString(),
        playedMs: 1_000,
      },
    };
    this.context.personalize.refusedEventIds.add(refused.id);
    const result = await this.context.publishers
      .get("interactions")!
      .publish("interaction-events", [refused]);
    if (result.published !== 1) throw new Error("fault: the refused interaction was not published");
    const writer = this.personalizeWriter()?.planned.name;
    this.poisons.push({
      key: "poison-3",
      what: "an interaction Personalize refuses (400 InvalidInputException)",
      stream: "interactions.interaction-events",
      data: Buffer.from(JSON.stringify({ id: refused.id, type: refused.type, data: refused.data })),
      partitionKey: "poison-user-3",
      sequenceNumber: "",
      refusedBy: (mapping) => mapping.functionName === writer,
    });
  }

  private async duplicate(): Promise<void> {
    const again = this.context.published
      .filter((item) => item.product === "interactions/interaction-events")
      .slice(-20);
    const result = await this.context.publishers.get("interactions")!.publish(
      "interaction-events",
      again.map((item) => item.event),
    );
    if (result.failed.length) throw new Error("fault: the duplicates were not published");
  }

  /** Keys of the poison records: not produced events, checked on their own. */
  poisonKeys(): Set<string> {
    return new Set(this.poisons.map((poison) => poison.key));
  }

  /** The required outcome, one line per check. */
  async checks(ledgers: readonly Ledger[]): Promise<{ ok: boolean; line: string }[]> {
    const checks: { ok: boolean; line: string }[] = [];
    const pending = this.steps.map((step) => step.name);
    checks.push({
      ok: pending.length === 0 && this.crash !== undefined,
      line: `faults injected: ${this.done.join(", ")}${this.crash !== undefined ? "" : " (the crash never happened)"}${pending.length ? `; not reached: ${pending.join(", ")}` : ""}`,
    });
    for (const poison of this.poisons) {
      for (const ledger of ledgers.filter((l) => l.mapping.streamName === poison.stream)) {
        const patterns = parsePatterns(ledger.mapping.filterPatterns, ledger.mapping.name);
        const view = filterView({
          partitionKey: poison.partitionKey,
          sequenceNumber: poison.sequenceNumber,
          approximateArrivalTimestamp: 0,
          data: poison.data,
        });
        const expected: Expected = !passes(patterns, view)
          ? "filtered"
          : poison.refusedBy(ledger.mapping)
            ? "dead-lettered"
            : "delivered";
        const outcome = ledger.outcomes.get(poison.key);
        const times = ledger.deadLetters.get(poison.key) ?? 0;
        const ok =
          expected === "dead-lettered"
            ? outcome === "dead-lettered" && times === 1
            : outcome === expected && times === 0;
        const reason =
          expected === "dead-lettered"
            ? `; reason: ${this.reason(ledger, poison.key) ?? "not found in the function's log"}`
            : "";
        checks.push({
          ok,
          line: `poison ${poison.key} (${poison.what}) in ${ledger.mapping.name}: ${outcome ?? "no outcome"}${times ? `, dead-lettered ${times} time(s)` : ""}, expected ${expected}${reason}`,
        });
      }
    }
    const poisonKeys = this.poisonKeys();
    for (const ledger of ledgers) {
      const wrongly = [...ledger.outcomes].filter(
        ([key, outcome]) => outcome === "dead-lettered" && !poisonKeys.has(key),
      );
      checks.push({
        ok: wrongly.length === 0,
        line: `${ledger.mapping.name}: ${wrongly.length} events dead-lettered that are not poison${wrongly.length ? ` (e.g. ${wrongly[0]![0]}: ${this.reason(ledger, wrongly[0]![0]) ?? "?"})` : ""}`,
      });
      checks.push({
        ok: ledger.longestBatchMs() <= ledger.allowedBatchMs(),
        line: `${ledger.mapping.name}: longest batch held its shard ${(ledger.longestBatchMs() / 1000).toFixed(1)} s, the mapping allows ${(ledger.allowedBatchMs() / 1000).toFixed(0)} s`,
      });
    }
    const table = this.context.plan.tables.find((t) => t.hashKey === "connectionId");
    if (table) {
      const { Items = [] } = await this.context.dynamodb.client.send(
        new ScanCommand({ TableName: table.name }),
      );
      const [gone, ...others] = this.context.subscribers;
      const stillReceiving = others.every((subscriber) => subscriber.messages.length > 0);
      checks.push({
        ok: Items.length === others.length && stillReceiving,
        line: `push: the subscriber that went away was removed from ${table.name} (${Items.length} connections remain, the others still receive); it got ${gone!.messages.length} messages before`,
      });
    }
    return checks;
  }

  /** The error the function logged for a key's record, last time it failed. */
  private reason(ledger: Ledger, key: string): string | undefined {
    const sequenceNumber = ledger.sequenceNumbers.get(key);
    if (!sequenceNumber) return undefined;
    let text: string;
    try {
      text = readFileSync(join(this.context.workDir, `${ledger.mapping.functionName}.log`), "utf8");
    } catch {
      return undefined;
    }
    const lines = text.split("\n").filter((line) => line.includes(sequenceNumber));
    for (const line of lines.reverse()) {
      try {
        const entry = JSON.parse(line) as { error?: { name?: string; message?: string } };
        if (entry.error?.message) return `${entry.error.name ?? "Error"}: ${entry.error.message}`;
      } catch {
        // not a JSON log line
      }
    }
    return undefined;
  }
}

function eventIdsOf(body: Record<string, unknown>): string[] {
  return ((body.eventList ?? []) as { eventId?: string }[]).map((event) => String(event.eventId));
}
