import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { GLUE_SCRIPT, producerEtlJob } from "../../components/etl-job";
import type { DomainInfraContext } from "../../components/wiring";
import { usersTransform } from "../../domains/users/etl";
import { mergeJobRoleName, productJobRoleName } from "../../platform/at-rest";
import { atRestMatrix, RestParty } from "../../tooling/report/at-rest-matrix";
import { domains } from "../../domains";
import { loadMesh, type Mesh } from "../../platform/mesh";
import { GLUE_TYPES } from "../../platform/columns";
import type { PlannedResource } from "../../tooling/evaluate";
import { evaluateShipped, meshConfig, policyOf, type StackUnderTest } from "../helpers/stacks";

/**
 * The producers' ETL jobs in the shipped dev mesh, by properties: every product at rest that a
 * domain's own pipelines fill, or that is landed from a stream, has one Glue 5.0 job that writes
 * exactly its table's columns, runs with its own encrypted configuration and role, is scheduled,
 * and alarms when a run fails.
 */
describe("the producers' ETL jobs under the mock runtime", () => {
  let stack: StackUnderTest;
  let mesh: Mesh;
  before(async () => {
    mesh = loadMesh(meshConfig("dev"), domains);
    stack = await evaluateShipped("dev");
  });

  const jobOf = (ref: string): PlannedResource => {
    const jobs = stack
      .ofType("aws:glue/job:Job")
      .filter((job) => (job.inputs.defaultArguments as Record<string, string>)["--product"] === ref);
    assert.equal(jobs.length, 1, `${ref}: ${jobs.map((j) => j.name).join(", ")}`);
    return jobs[0]!;
  };
  const args = (job: PlannedResource) => job.inputs.defaultArguments as Record<string, string>;
  const roleStatements = (job: PlannedResource) => {
    const roleName = String(job.inputs.roleArn).split("/").pop();
    const policy = stack
      .ofType("aws:iam/rolePolicy:RolePolicy")
      .find((p) => p.inputs.role === roleName || String(p.inputs.role).endsWith(`${roleName}`));
    assert.ok(policy, `no policy of ${roleName}`);
    return policyOf(policy!).Statement as {
      Sid: string;
      Action: string | string[];
      Resource: string | string[];
    }[];
  };
  const list = (value: string | string[]) => (Array.isArray(value) ? value : [value]);

  it("runs one Glue 5.0 job per product at rest, writing exactly the table's columns and partitions", () => {
    for (const product of mesh.atRestProducts) {
      const job = jobOf(product.ref);
      assert.equal(job.inputs.glueVersion, "5.0", product.ref);
      assert.equal(job.account, product.accountId, product.ref);
      assert.deepEqual(
        JSON.parse(args(job)["--columns"]!),
        [...product.columns, ...product.partitionKeys].map((c) => `${c.name}:${GLUE_TYPES[c.kind]}`),
      );
      assert.deepEqual(
        JSON.parse(args(job)["--partition_by"]!),
        product.partitionKeys.map((c) => c.name),
      );
      assert.ok(args(job)["--output_path"]!.endsWith(`/${product.table}/`), args(job)["--output_path"]);
      assert.ok(args(job)["--quarantine_path"]!.endsWith(`/quarantine/${product.table}/`));
    }
  });

  it("encrypts each job's output, logs and bookmarks with its domain's key, and schedules it", () => {
    for (const product of mesh.atRestProducts) {
      const job = jobOf(product.ref);
      const configuration = stack
        .ofType("aws:glue/securityConfiguration:SecurityConfiguration")
        .find((c) => c.inputs.name === job.inputs.securityConfiguration);
      assert.ok(configuration, product.ref);
      const encryption = configuration!.inputs.encryptionConfiguration as Record<
        string,
        Record<string, string>
      >;
      const keys = new Set(Object.values(encryption).map((part) => part.kmsKeyArn));
      assert.equal(keys.size, 1, product.ref);
      const trigger = stack
        .ofType("aws:glue/trigger:Trigger")
        .find((t) => (t.inputs.actions as { jobName: string }[])[0]!.jobName === job.inputs.name);
      assert.equal(trigger?.inputs.type, "SCHEDULED", product.ref);
    }
  });

  it("sends failed, timed-out and errored runs to the domain's alarm topic", () => {
    for (const product of mesh.atRestProducts) {
      const job = jobOf(product.ref);
      const rule = stack
        .ofType("aws:cloudwatch/eventRule:EventRule")
        .find((r) => JSON.parse(String(r.inputs.eventPattern)).detail?.jobName?.[0] === job.inputs.name);
      assert.ok(rule, product.ref);
      assert.deepEqual(JSON.parse(String(rule!.inputs.eventPattern)).detail.state, [
        "FAILED",
        "TIMEOUT",
        "ERROR",
      ]);
      const target = stack
        .ofType("aws:cloudwatch/eventTarget:EventTarget")
        .find((t) => t.inputs.rule === rule!.inputs.name);
      assert.match(String(target?.inputs.arn), /^arn:aws:sns:/, product.ref);
    }
  });

  it("lets each job's role write only its product's and quarantine's prefixes and its own temporary files", () => {
    for (const product of mesh.atRestProducts) {
      const job = jobOf(product.ref);
      const writes = roleStatements(job)
        .filter((s) => list(s.Action).includes("s3:PutObject"))
        .flatMap((s) => list(s.Resource));
      const allowed = [
        `/${product.table}/*`,
        `/quarantine/${product.table}/*`,
        `/etl/${String(job.inputs.name)}/temporary/*`,
        `/exports/${product.table}/*`,
      ];
      for (const resource of writes) {
        assert.ok(
          allowed.some((suffix) => resource.endsWith(suffix)),
          `${product.ref} may write ${resource}`,
        );
      }
    }
  });

  it("reads the users database through the domain's Glue connection and its secret", () => {
    const job = jobOf("users/users");
    const connection = stack.ofType("aws:glue/connection:Connection").find((c) => c.account === job.account);
    assert.deepEqual(job.inputs.connections, [connection!.inputs.name]);
    const source = JSON.parse(args(job)["--source"]!);
    assert.deepEqual([source.kind, source.engine, source.table], ["jdbc", "postgresql", "public.users"]);
    assert.ok(roleStatements(job).some((s) => list(s.Action).includes("secretsmanager:GetSecretValue")));
    // The VPC has no internet route: what the job calls is reached through interface endpoints.
    const services = stack
      .ofType("aws:ec2/vpcEndpoint:VpcEndpoint")
      .filter((e) => e.account === job.account && e.inputs.vpcEndpointType === "Interface")
      .map((e) => String(e.inputs.serviceName).split(".").pop());
    for (const service of ["glue", "logs", "monitoring", "secretsmanager"]) {
      assert.ok(services.includes(service), `${service} in ${services.join(", ")}`);
    }
  });

  it("exports the catalogue tables rather than scanning them, and reads interactions from the landing prefix", () => {
    for (const ref of ["songs/songs", "podcasts/episodes"]) {
      const job = jobOf(ref);
      assert.equal(JSON.parse(args(job)["--source"]!).kind, "dynamodb-export", ref);
      const actions = roleStatements(job).flatMap((s) => list(s.Action));
      assert.ok(actions.includes("dynamodb:ExportTableToPointInTime"), ref);
      assert.ok(!actions.some((a) => /dynamodb:(Scan|Query|GetItem)/.test(a)), ref);
    }
    const interactions = jobOf("interactions/interaction-events");
    const source = JSON.parse(args(interactions)["--source"]!);
    assert.ok(source.path.endsWith("/landing/interaction_events/"), source.path);
    const landing = stack
      .ofType("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream")
      .find((f) => f.account === interactions.account && String(f.name).includes("landing"));
    const prefix = String((landing!.inputs.extendedS3Configuration as Record<string, unknown>).prefix);
    assert.ok(prefix.startsWith("landing/interaction_events/"), prefix);
  });

  /** The job arguments run_transform.py reads in a mode (its getResolvedOptions lists). */
  function scriptArguments(mode: "producer" | "merge"): string[] {
    const script = readFileSync(GLUE_SCRIPT, "utf8");
    const common = /COMMON = \[([^\]]*)\]/.exec(script)![1]!;
    const [merge, producer] = [...script.matchAll(/\[((?:\s*"[a-z_]+",\s*)+"[a-z_]+",?\s*)\]/g)]
      .map((match) => match[1]!)
      .filter((list) => list !== common);
    const names = (list: string) => [...list.matchAll(/"([a-z_]+)"/g)].map((m) => m[1]!);
    return [
      ...names(common).filter((n) => n !== "JOB_NAME"),
      ...names(mode === "merge" ? merge! : producer!),
    ];
  }

  it("passes every argument the Glue script reads, in each mode", () => {
    const jobs = stack.ofType("aws:glue/job:Job");
    const merge = jobs.find((job) => args(job)["--mode"] === "merge");
    assert.ok(merge, "the recommendations merge job");
    for (const job of jobs) {
      const mode = args(job)["--mode"] as "producer" | "merge";
      const expected = scriptArguments(mode);
      assert.ok(expected.length >= 5, expected.join(", "));
      for (const name of expected)
        assert.ok(`--${name}` in args(job), `${String(job.inputs.name)}: --${name}`);
    }
    const kinds = new Set(
      jobs.filter((j) => args(j)["--source"]).map((j) => JSON.parse(args(j)["--source"]!).kind),
    );
    const script = readFileSync(GLUE_SCRIPT, "utf8");
    for (const kind of kinds) assert.ok(script.includes(`kind == "${String(kind)}"`), String(kind));
  });

  it("names a transform whose product the domain does not keep at rest", () => {
    const users = mesh.domains.find((d) => d.name === "users")!;
    const context = { domain: users, tables: {} } as unknown as DomainInfraContext;
    assert.throws(
      () => producerEtlJob(context, { ...usersTransform, product: "profiles" }, { kind: "landing" }),
      new RegExp(`users.sql: users keeps no product profiles at rest \\(products at rest: users\\)$`),
    );
  });

  it("reads at rest only as declared: each producer's job as its product's pipeline, the merge as the subscriptions", () => {
    const matrix = atRestMatrix(stack, mesh);
    assert.deepEqual(matrix.violations, []);
    for (const product of mesh.atRestProducts) {
      const row = matrix.rows.find(
        (r) => r.product === product.ref && r.principal.endsWith(`:role/${productJobRoleName(product)}`),
      );
      assert.equal(row?.party, RestParty.Pipeline, product.ref);
    }
    const recommendations = mesh.domains.find((d) => d.name === "recommendations")!;
    const merge = matrix.rows.filter((r) =>
      r.principal.endsWith(`:role/${mergeJobRoleName("recommendations")}`),
    );
    assert.deepEqual(
      merge.map((r) => [r.party, r.subscriptions]).sort(),
      recommendations.atRestSubscriptions.map((s) => [RestParty.Subscriber, [s.ref]]).sort(),
    );
  });
});
