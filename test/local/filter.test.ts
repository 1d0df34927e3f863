import { strict as assert } from "node:assert";
import { filterView, parsePatterns, passes } from "../../local/filter";

/** Lambda's filter rules, with examples from invocation-eventfiltering.html and with-kinesis-filtering.html. */
describe("local mesh: Lambda event filtering on Kinesis records", () => {
  const view = (data: unknown, partitionKey = "pk-1") =>
    filterView({
      partitionKey,
      sequenceNumber: "1",
      approximateArrivalTimestamp: 1_700_000_000,
      data: Buffer.from(typeof data === "string" ? data : JSON.stringify(data)),
    });
  const keeps = (patterns: readonly object[], data: unknown, partitionKey?: string) =>
    passes(
      parsePatterns(
        patterns.map((p) => JSON.stringify(p)),
        "test",
      ),
      view(data, partitionKey),
    );

  it("matches equal values, and any element of an array field", () => {
    assert.ok(keeps([{ data: { city: ["Seattle"] } }], { city: "Seattle" }));
    assert.ok(!keeps([{ data: { city: ["Seattle"] } }], { city: "Boston" }));
    assert.ok(keeps([{ data: { tags: ["b"] } }], { tags: ["a", "b"] }));
  });

  it("ANDs the keys of a pattern and ORs the patterns", () => {
    const patterns = [{ data: { type: ["play"], ok: [true] } }, { data: { type: ["like"] } }];
    assert.ok(keeps(patterns, { type: "play", ok: true }));
    assert.ok(!keeps(patterns, { type: "play", ok: false }));
    assert.ok(keeps(patterns, { type: "like" }));
  });

  it("compares numbers with numeric ranges", () => {
    const pattern = [{ data: { price: [{ numeric: [">", 0, "<=", 5] }] } }];
    assert.ok(keeps(pattern, { price: 5 }));
    assert.ok(!keeps(pattern, { price: 0 }));
    assert.ok(!keeps(pattern, { price: "5" }), "a string is not a number");
  });

  it("knows prefix, suffix, equals-ignore-case and anything-but", () => {
    assert.ok(keeps([{ data: { region: [{ prefix: "us-" }] } }], { region: "us-east-1" }));
    assert.ok(keeps([{ data: { file: [{ suffix: ".png" }] } }], { file: "a.png" }));
    assert.ok(keeps([{ data: { name: [{ "equals-ignore-case": "ALICE" }] } }], { name: "alice" }));
    assert.ok(
      keeps([{ data: { state: [{ "anything-but": ["stopped", "overloaded"] }] } }], { state: "running" }),
    );
    assert.ok(!keeps([{ data: { state: [{ "anything-but": "stopped" }] } }], { state: "stopped" }));
    assert.ok(!keeps([{ data: { id: [{ "anything-but": { prefix: "test-" } }] } }], { id: "test-1" }));
  });

  it("matches presence and absence with exists", () => {
    assert.ok(keeps([{ data: { error: [{ exists: false }] } }], { ok: 1 }));
    assert.ok(!keeps([{ data: { error: [{ exists: false }] } }], { error: "x" }));
    assert.ok(keeps([{ data: { error: [{ exists: true }] } }], { error: null }));
  });

  it("matches metadata such as the partition key", () => {
    assert.ok(keeps([{ partitionKey: [{ prefix: "pk-" }] }], { a: 1 }));
    assert.ok(!keeps([{ partitionKey: ["other"] }], { a: 1 }));
  });

  it("drops a record whose data is not JSON when a pattern names data", () => {
    assert.ok(!keeps([{ data: { a: [{ exists: false }] } }], "not json {"));
    assert.ok(keeps([{ partitionKey: ["pk-1"] }], "not json {"), "metadata patterns still apply");
  });

  it("refuses a matcher it does not implement, naming the filter", () => {
    assert.throws(
      () => parsePatterns([JSON.stringify({ data: { a: [{ wildcard: "*" }] } })], "mapping m"),
      /mapping m\.filters\[0\]: invalid filter pattern: .*unsupported matcher wildcard/,
    );
  });
});
