import { instance } from "@viz-js/viz";
import { AccessPattern } from "../../platform/declarations";
import type { Mesh } from "../../platform/mesh";
import { RestParty, TableAccess, type AtRestMatrix, type RestRow } from "./at-rest-matrix";
import {
  AccessClass,
  Party,
  accountLabel,
  canReadRecords,
  roleNameOf,
  type AccessMatrix,
  type AccessRow,
} from "./access-matrix";

/** Data in motion is drawn in red, data at rest in blue (as seed 002 draws the two planes). */
export const PlaneColor = { motion: "#c62828", rest: "#1565c0" } as const;

/**
 * How an edge of each access pattern is drawn: red for data in motion, blue for data at rest,
 * distinct line styles within a plane so the picture reads in grey too. A reader without a
 * subscription is magenta and bold, on either plane.
 */
export const EdgeStyle: Readonly<
  Record<
    | AccessPattern
    | "write"
    | "describe-only"
    | "unsubscribed"
    | "at-rest-read"
    | "at-rest-describe"
    | "at-rest-landing",
    { style: string; color: string; arrowhead: string }
  >
> = {
  [AccessPattern.SharedReplay]: { style: "solid", color: PlaneColor.motion, arrowhead: "normal" },
  [AccessPattern.EnhancedFanOut]: { style: "bold", color: PlaneColor.motion, arrowhead: "normal" },
  [AccessPattern.Filtered]: { style: "solid", color: PlaneColor.motion, arrowhead: "diamond" },
  [AccessPattern.PushWithoutReplay]: { style: "dashed", color: PlaneColor.motion, arrowhead: "vee" },
  write: { style: "solid", color: "#000000", arrowhead: "normal" },
  "describe-only": { style: "dotted", color: "#757575", arrowhead: "odot" },
  unsubscribed: { style: "bold", color: "#ad1457", arrowhead: "normal" },
  "at-rest-read": { style: "solid", color: PlaneColor.rest, arrowhead: "normal" },
  "at-rest-describe": { style: "dotted", color: PlaneColor.rest, arrowhead: "odot" },
  "at-rest-landing": { style: "dashed", color: PlaneColor.rest, arrowhead: "normal" },
};

const PATTERN_LABEL: Readonly<Record<AccessPattern, string>> = {
  [AccessPattern.SharedReplay]: "shared-replay",
  [AccessPattern.EnhancedFanOut]: "enhanced fan-out",
  [AccessPattern.Filtered]: "filtered",
  [AccessPattern.PushWithoutReplay]: "push without replay",
};

/** A DOT double-quoted string: quotes and backslashes escaped, newlines as `\n`. */
function q(text: string): string {
  return `"${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;
}

function attributes(attrs: Record<string, string | undefined>): string {
  const set = Object.entries(attrs).filter(([, v]) => v !== undefined);
  return set.length ? ` [${set.map(([k, v]) => `${k}=${q(v!)}`).join(", ")}]` : "";
}

/** Event types a filter pattern keeps (`data.type` of the CloudEvents envelope). */
export function filterEventTypes(filters: readonly string[]): string[] {
  const types = new Set<string>();
  for (const filter of filters) {
    try {
      const pattern = JSON.parse(filter) as { data?: { type?: unknown } };
      const listed = pattern.data?.type;
      if (Array.isArray(listed)) listed.forEach((t) => types.add(String(t)));
      else types.add("(any type, by payload)");
    } catch {
      types.add("(unreadable filter)");
    }
  }
  return [...types];
}

interface Node {
  readonly id: string;
  readonly account: string;
  readonly attrs: Record<string, string>;
}

/**
 * The mesh as a Graphviz graph: one cluster per account (its alias and id), the producer of each
 * data product writing to its stream, the stream feeding each consuming function with the access
 * pattern on the edge (EFO bold, push without replay dashed, filtered labelled with the event
 * types it keeps), and the platform auditor's describe-only edge dotted. Principals that can read
 * records without a subscription are drawn in magenta. Data in motion is red. With the at-rest
 * matrix, data at rest is drawn in blue beside it: each product's table in its producer's account
 * (landed from its stream where it is a stream's copy), the central catalog's DESCRIBE, and each
 * at-rest subscriber's reader role with the columns it reads. Everything is taken from the access
 * matrices, that is from the generated policies, grants and mappings, not from the declaration.
 */
export function topologyDot(mesh: Mesh, matrix: AccessMatrix, atRest?: AtRestMatrix): string {
  const aliases = new Map(Object.entries(mesh.config.accounts).map(([alias, a]) => [a.id, alias]));
  const nodes = new Map<string, Node>();
  const edges: string[] = [];
  const node = (id: string, account: string, attrs: Record<string, string>) => {
    if (!nodes.has(id)) nodes.set(id, { id, account, attrs });
    return id;
  };
  const edge = (from: string, to: string, attrs: Record<string, string | undefined>) =>
    edges.push(`  ${q(from)} -> ${q(to)}${attributes(attrs)};`);

  const landed = new Set(atRest?.rows.filter((r) => r.party === RestParty.Landing).map((r) => r.product));
  for (const product of matrix.products) {
    const stream = node(`stream:${product.streamArn}`, product.accountId, {
      label: `${product.product}\n${product.streamName}`,
      shape: "cylinder",
      style: "filled",
      fillcolor: "#fff3c4",
    });
    for (const row of matrix.rows.filter((r) => r.product === product.product)) {
      // The landing is drawn once, on the at-rest plane, as the stream feeding its table.
      if (row.party === Party.Landing && landed.has(row.product)) continue;
      drawRow(row, stream);
    }
  }

  function drawRow(row: AccessRow, stream: string): void {
    const role = roleNameOf(row.roleArn);
    if (row.access === AccessClass.Write) {
      const domain = row.product.split("/")[0]!;
      const producer = node(`role:${row.roleArn}`, row.accountId, {
        label: row.party === Party.Producer ? `${domain} producers\n${role}` : role,
        shape: "box",
        style: "rounded,filled",
        fillcolor: row.party === Party.Producer ? "#e3f2fd" : "#ffcdd2",
      });
      edge(producer, stream, { label: "write", ...EdgeStyle.write });
      return;
    }
    if (row.access === AccessClass.DescribeOnly) {
      const auditor = node(`role:${row.roleArn}`, row.accountId, {
        label: row.party === Party.Auditor ? `platform auditor\n${role}` : role,
        shape: "box",
        style: "rounded,dashed",
      });
      edge(stream, auditor, { label: "describe-only", ...EdgeStyle["describe-only"] });
      return;
    }
    if (row.access === AccessClass.ControlPlane) {
      const admin = node(`role:${row.roleArn}`, row.accountId, {
        label: role,
        shape: "box",
        color: "#c62828",
      });
      edge(stream, admin, { label: "control-plane", ...EdgeStyle.unsubscribed });
      return;
    }
    if (!row.subscription && canReadRecords(row.actions)) {
      const reader = node(`role:${row.roleArn}`, row.accountId, {
        label: `${role}\n(no subscription)`,
        shape: "box",
        style: "filled",
        fillcolor: "#ffcdd2",
        color: "#c62828",
      });
      edge(stream, reader, { label: `${row.access}, no subscription`, ...EdgeStyle.unsubscribed });
      return;
    }
    const pattern = row.pattern ?? AccessPattern.SharedReplay;
    const targets = row.functions.length ? row.functions : [row.roleArn];
    for (const target of targets) {
      const isFunction = target.includes(":function:");
      const consumer = node(isFunction ? `function:${target}` : `role:${target}`, row.accountId, {
        label: `${isFunction ? target.split(":").pop()! : role}\n${row.subscription ?? ""}`.trim(),
        shape: isFunction ? "component" : "box",
        style: "filled",
        fillcolor: "#e8f5e9",
      });
      const label =
        pattern === AccessPattern.Filtered
          ? `filtered: ${filterEventTypes(row.filters).join(", ")}`
          : PATTERN_LABEL[pattern];
      edge(stream, consumer, { label, ...EdgeStyle[pattern] });
    }
  }

  const streams = new Map(matrix.products.map((p) => [p.product, `stream:${p.streamArn}`] as const));
  for (const table of atRest?.tables ?? []) {
    const id = node(`table:${table.accountId}/${table.database}.${table.table}`, table.accountId, {
      label: `${table.product}\n${table.database}.${table.table}${table.pii.length ? " (pii)" : ""}`,
      shape: "folder",
      style: "filled",
      fillcolor: "#e3f2fd",
      color: PlaneColor.rest,
    });
    for (const row of atRest!.rows.filter((r) => r.product === table.product)) drawRestRow(row, id);
  }

  function drawRestRow(row: RestRow, table: string): void {
    if (row.party === RestParty.Landing) {
      const stream = streams.get(row.product);
      if (stream) edge(stream, table, { label: "landed (Firehose)", ...EdgeStyle["at-rest-landing"] });
      return;
    }
    // The producer's Lake Formation location role and the consumer accounts' shares are the
    // mechanism, not readers: the reader roles they serve are drawn.
    // The producer's own publishing job is the product's writer, not a reader.
    if (
      row.party === RestParty.LakeFormation ||
      row.party === RestParty.ConsumerAccount ||
      row.party === RestParty.Pipeline
    )
      return;
    if (row.access === TableAccess.Describe) {
      const catalog = node(`catalog:${row.accountId}`, row.accountId, {
        label:
          row.party === RestParty.Catalog ? "central catalog\nLake Formation" : roleNameOf(row.principal),
        shape: "box3d",
        style: "filled",
        fillcolor: "#e3f2fd",
        color: PlaneColor.rest,
      });
      edge(table, catalog, { label: "DESCRIBE", ...EdgeStyle["at-rest-describe"] });
      return;
    }
    const role = roleNameOf(row.principal);
    if (row.party === RestParty.Unknown || !row.subscriptions.length) {
      const reader = node(`role:${row.principal}`, row.accountId, {
        label: `${role}\n(no subscription)`,
        shape: "box",
        style: "filled",
        fillcolor: "#f8bbd0",
        color: EdgeStyle.unsubscribed.color,
      });
      edge(table, reader, { label: "read at rest, no subscription", ...EdgeStyle.unsubscribed });
      return;
    }
    const reader = node(`role:${row.principal}`, row.accountId, {
      label: `${role}\n${row.subscriptions.join(", ")}`,
      shape: "box",
      style: "rounded,filled",
      fillcolor: "#e3f2fd",
      color: PlaneColor.rest,
    });
    const columns = row.pii.length ? `SELECT incl. pii (${row.pii.join(", ")})` : "SELECT";
    edge(table, reader, { label: `at rest: ${columns}`, ...EdgeStyle["at-rest-read"] });
  }

  const lines = [
    "digraph mesh {",
    `  graph${attributes({
      label: `Data mesh (${mesh.config.environment}, ${mesh.config.region}): data in motion red, data at rest blue`,
      labelloc: "t",
      rankdir: "LR",
      fontname: "Helvetica",
      compound: "true",
      nodesep: "0.4",
      ranksep: "1.2",
    })};`,
    `  node${attributes({ fontname: "Helvetica", fontsize: "11" })};`,
    `  edge${attributes({ fontname: "Helvetica", fontsize: "9" })};`,
  ];
  const accounts = [...new Set([...nodes.values()].map((n) => n.account))];
  for (const account of accounts) {
    const members = [...nodes.values()].filter((n) => n.account === account);
    lines.push(
      `  subgraph ${q(`cluster_${account === "*" ? "any" : account}`)} {`,
      `    graph${attributes({
        label: accountLabel(account, aliases.get(account) ?? null),
        style: "rounded",
        color: "#9e9e9e",
      })};`,
      ...members.map((n) => `    ${q(n.id)}${attributes(n.attrs)};`),
      "  }",
    );
  }
  lines.push(...edges, "}", "");
  return lines.join("\n");
}

/** Renders DOT to SVG with Graphviz compiled to WebAssembly (@viz-js/viz); throws on invalid DOT. */
export async function renderSvg(dot: string): Promise<string> {
  const viz = await instance();
  return viz.renderString(dot, { format: "svg", engine: "dot" });
}
