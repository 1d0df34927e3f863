import { listOf } from "../lib/checks";
import { environmentOf, resourceRule, tagOf } from "../lib/rule";
import { STATEFUL_TYPES, T, TAGGABLE_TYPES } from "../lib/types";
import { UNKNOWN } from "../lib/values";

export const MESH_TAGS = ["mesh:domain", "mesh:environment", "mesh:managed-by"] as const;
export const STREAM_TAGS = [...MESH_TAGS, "mesh:product", "mesh:classification"] as const;

export const meshRequiredTags = resourceRule({
  name: "mesh-required-tags",
  description:
    "Taggable mesh resources must carry mesh:domain, mesh:environment and mesh:managed-by=pulumi, and streams also mesh:product and mesh:classification.",
  enforcementLevel: "mandatory",
  types: TAGGABLE_TYPES,
  settings: ["environment"],
  check(resource, context) {
    if (resource.tags === UNKNOWN) {
      context.couldNotCheck("Resource tags could not be checked during preview.");
      return;
    }
    const required = resource.type === T.Stream ? STREAM_TAGS : MESH_TAGS;
    // A tag whose value is not known yet is present.
    const missing = required.filter((key) => {
      const value = tagOf(resource, key);
      return value !== UNKNOWN && (typeof value !== "string" || value.length === 0);
    });
    if (missing.length > 0)
      context.report(`Resource must have the tag${missing.length > 1 ? "s" : ""} ${listOf(missing)}.`);
    const managedBy = tagOf(resource, "mesh:managed-by");
    if (typeof managedBy === "string" && managedBy.length > 0 && managedBy !== "pulumi") {
      context.report(`Tag mesh:managed-by must be pulumi (it is ${managedBy}).`);
    }
    const environment = tagOf(resource, "mesh:environment");
    const configured = context.settings.environment;
    if (
      configured &&
      typeof environment === "string" &&
      environment.length > 0 &&
      environment !== configured
    ) {
      context.report(`Tag mesh:environment must be ${configured} (it is ${environment}).`);
    }
  },
});

const STATEFUL_LABELS: Record<string, string> = {
  [T.Stream]: "Kinesis stream",
  [T.KmsKey]: "KMS key",
  [T.DynamoTable]: "DynamoDB table",
  [T.RdsCluster]: "Aurora cluster",
  [T.Bucket]: "S3 bucket",
  [T.BucketV2]: "S3 bucket",
  [T.OpenSearchDomain]: "OpenSearch domain",
};

export const meshProtectStatefulInProd = resourceRule({
  name: "mesh-protect-stateful-in-prod",
  description:
    "Streams, KMS keys, DynamoDB tables, Aurora clusters, S3 buckets and OpenSearch domains must be protected (protect: true) in prod.",
  enforcementLevel: "mandatory",
  types: STATEFUL_TYPES,
  settings: ["environment"],
  check(resource, context) {
    if (resource.protect) return;
    const environment = environmentOf(resource, context.settings.environment);
    if (environment === "prod")
      context.report(`${STATEFUL_LABELS[resource.type]} must be protected in prod (protect: true).`);
    else if (environment === undefined && tagOf(resource, "mesh:environment") === UNKNOWN) {
      context.couldNotCheck("Resource environment could not be checked during preview.");
    }
  },
});
