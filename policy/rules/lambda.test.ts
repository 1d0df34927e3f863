import { strict as assert } from "node:assert";
import { UNKNOWN_STRING } from "../lib/values";
import { edit, mesh, STREAM_ARN } from "../tests/fixtures";
import { messages } from "../tests/harness";
import {
  lambdaEsmBisectOnError,
  lambdaEsmBoundedRecordAge,
  lambdaEsmBoundedRetries,
  lambdaEsmFilters,
  lambdaEsmFiltersContract,
  lambdaEsmOnFailureDestination,
  lambdaEsmReportBatchItemFailures,
  lambdaEsmStartingPosition,
  lambdaNoPublicInvoke,
  lambdaSupportedRuntime,
} from "./lambda";

const esm = (change: Record<string, unknown>) => edit(mesh(), "analytics-esm", change);
const sqsSource = { eventSourceArn: "arn:aws:sqs:eu-west-1:333333333333:work", startingPosition: undefined };

describe("lambda-esm-bounded-retries", () => {
  const policy = lambdaEsmBoundedRetries;
  it("passes 5 retries", async () => assert.deepEqual(await messages(policy, mesh()), []));
  it("rejects -1", async () => {
    assert.deepEqual(await messages(policy, esm({ maximumRetryAttempts: -1 })), [
      "Event source mapping maximumRetryAttempts must be between 0 and 10000 (it is -1, which is unbounded).",
    ]);
  });
  it("rejects unset (AWS's default is unbounded)", async () => {
    assert.deepEqual(await messages(policy, esm({ maximumRetryAttempts: undefined })), [
      "Event source mapping maximumRetryAttempts must be between 0 and 10000 (it is unset, which is unbounded).",
    ]);
  });
  it("does not apply to SQS sources", async () => {
    assert.deepEqual(await messages(policy, esm({ ...sqsSource, maximumRetryAttempts: undefined })), []);
  });
  it("could not check a mapping whose source is unknown during preview when it would fail on a stream", async () => {
    assert.deepEqual(
      await messages(policy, esm({ eventSourceArn: UNKNOWN_STRING, maximumRetryAttempts: undefined })),
      ["Event source mapping eventSourceArn could not be checked during preview."],
    );
  });
  it("passes a mapping whose source is unknown during preview when it would pass on a stream", async () => {
    assert.deepEqual(await messages(policy, esm({ eventSourceArn: UNKNOWN_STRING })), []);
  });
  it("could not check retries unknown during preview", async () => {
    assert.deepEqual(await messages(policy, esm({ maximumRetryAttempts: UNKNOWN_STRING })), [
      "Event source mapping maximumRetryAttempts could not be checked during preview.",
    ]);
  });
});

describe("lambda-esm-bounded-record-age", () => {
  const policy = lambdaEsmBoundedRecordAge;
  it("passes 6 hours", async () => assert.deepEqual(await messages(policy, mesh()), []));
  it("rejects -1", async () => {
    assert.deepEqual(await messages(policy, esm({ maximumRecordAgeInSeconds: -1 })), [
      "Event source mapping maximumRecordAgeInSeconds must be between 60 and 604800 (it is -1, which is unbounded).",
    ]);
  });
  it("rejects unset", async () => {
    assert.deepEqual(await messages(policy, esm({ maximumRecordAgeInSeconds: undefined })), [
      "Event source mapping maximumRecordAgeInSeconds must be between 60 and 604800 (it is unset, which is unbounded).",
    ]);
  });
  it("rejects values below 60 seconds", async () => {
    assert.deepEqual(await messages(policy, esm({ maximumRecordAgeInSeconds: 30 })), [
      "Event source mapping maximumRecordAgeInSeconds must be between 60 and 604800 (it is 30).",
    ]);
  });
});

describe("lambda-esm-bisect-on-error", () => {
  const policy = lambdaEsmBisectOnError;
  it("passes bisect", async () => assert.deepEqual(await messages(policy, mesh()), []));
  it("rejects false", async () => {
    assert.deepEqual(await messages(policy, esm({ bisectBatchOnFunctionError: false })), [
      "Event source mapping bisectBatchOnFunctionError must be true.",
    ]);
  });
  it("rejects unset", async () => {
    assert.deepEqual(await messages(policy, esm({ bisectBatchOnFunctionError: undefined })), [
      "Event source mapping bisectBatchOnFunctionError must be true.",
    ]);
  });
});

describe("lambda-esm-report-batch-item-failures", () => {
  const policy = lambdaEsmReportBatchItemFailures;
  it("passes ReportBatchItemFailures", async () => assert.deepEqual(await messages(policy, mesh()), []));
  it("rejects a mapping without it", async () => {
    assert.deepEqual(await messages(policy, esm({ functionResponseTypes: undefined })), [
      "Event source mapping functionResponseTypes must include ReportBatchItemFailures.",
    ]);
  });
});

describe("lambda-esm-on-failure-destination", () => {
  const policy = lambdaEsmOnFailureDestination;
  it("passes a destination", async () => assert.deepEqual(await messages(policy, mesh()), []));
  it("rejects a mapping without destinationConfig", async () => {
    assert.deepEqual(await messages(policy, esm({ destinationConfig: undefined })), [
      "Event source mapping destinationConfig.onFailure must name a destination.",
    ]);
  });
  it("passes a destination ARN unknown during preview (it is the output of the queue)", async () => {
    assert.deepEqual(
      await messages(policy, esm({ destinationConfig: { onFailure: { destinationArn: UNKNOWN_STRING } } })),
      [],
    );
  });
});

describe("lambda-esm-filters", () => {
  const policy = lambdaEsmFilters;
  const filters = (...patterns: string[]) =>
    esm({ filterCriteria: { filters: patterns.map((pattern) => ({ pattern })) } });
  const valid = JSON.stringify({ data: { type: ["song.played"] } });
  it("passes valid patterns", async () => assert.deepEqual(await messages(policy, mesh()), []));
  it("rejects a sixth filter", async () => {
    assert.deepEqual(await messages(policy, filters(valid, valid, valid, valid, valid, valid)), [
      "Event source mapping must have at most 5 filters (it has 6).",
    ]);
  });
  it("rejects a pattern that is not JSON", async () => {
    assert.deepEqual(await messages(policy, filters(valid, "{data: x}")), [
      "Event source mapping filter 2 must be a valid JSON event pattern (it is not valid JSON).",
    ]);
  });
  it("rejects a leaf that is not an array", async () => {
    assert.deepEqual(await messages(policy, filters(JSON.stringify({ data: { type: "song.played" } }))), [
      "Event source mapping filter 1 must be a valid JSON event pattern (data.type must be an array or an object).",
    ]);
  });
  it("could not check a pattern unknown during preview", async () => {
    assert.deepEqual(await messages(policy, filters(UNKNOWN_STRING)), [
      "Event source mapping filter 1 could not be checked during preview.",
    ]);
  });
});

describe("lambda-esm-starting-position", () => {
  const policy = lambdaEsmStartingPosition;
  it("passes TRIM_HORIZON", async () => assert.deepEqual(await messages(policy, mesh()), []));
  it("rejects an unset position", async () => {
    assert.deepEqual(await messages(policy, esm({ startingPosition: undefined })), [
      "Event source mapping startingPosition must be TRIM_HORIZON, LATEST or AT_TIMESTAMP (it is unset).",
    ]);
  });
  it("passes AT_TIMESTAMP with a past timestamp", async () => {
    assert.deepEqual(
      await messages(
        policy,
        esm({ startingPosition: "AT_TIMESTAMP", startingPositionTimestamp: "2024-01-01T00:00:00Z" }),
      ),
      [],
    );
  });
  it("rejects AT_TIMESTAMP without a timestamp", async () => {
    assert.deepEqual(await messages(policy, esm({ startingPosition: "AT_TIMESTAMP" })), [
      "Event source mapping startingPositionTimestamp must be an RFC 3339 timestamp with AT_TIMESTAMP.",
    ]);
  });
  it("rejects a timestamp in the future", async () => {
    assert.deepEqual(
      await messages(
        policy,
        esm({ startingPosition: "AT_TIMESTAMP", startingPositionTimestamp: "2999-01-01T00:00:00Z" }),
      ),
      [
        "Event source mapping startingPositionTimestamp must not be in the future (it is 2999-01-01T00:00:00Z).",
      ],
    );
  });
});

describe("lambda-supported-runtime", () => {
  const policy = lambdaSupportedRuntime;
  const runtime = (value: unknown) => edit(mesh(), "analytics-handler", { runtime: value });
  it("passes nodejs22.x", async () => assert.deepEqual(await messages(policy, mesh()), []));
  it("rejects nodejs18.x", async () => {
    assert.deepEqual(await messages(policy, runtime("nodejs18.x")), [
      "Lambda function runtime must be one of nodejs20.x, nodejs22.x, nodejs24.x, python3.12, python3.13 and python3.14 (it is nodejs18.x).",
    ]);
  });
  it("applies a configured list", async () => {
    assert.deepEqual(
      await messages(policy, mesh(), { "lambda-supported-runtime": { allowedRuntimes: ["python3.13"] } }),
      ["Lambda function runtime must be one of python3.13 (it is nodejs22.x)."],
    );
  });
  it("does not apply to container images", async () => {
    assert.deepEqual(
      await messages(policy, edit(mesh(), "analytics-handler", { runtime: undefined, packageType: "Image" })),
      [],
    );
  });
});

describe("lambda-no-public-invoke", () => {
  const policy = lambdaNoPublicInvoke;
  const permission = (change: Record<string, unknown>) => edit(mesh(), "analytics-api-invoke", change);
  it("passes a service principal bounded by sourceArn", async () =>
    assert.deepEqual(await messages(policy, mesh()), []));
  it('rejects principal "*" without a bound', async () => {
    assert.deepEqual(await messages(policy, permission({ principal: "*", sourceArn: undefined })), [
      'Lambda permission for principal "*" must be bounded by sourceArn, sourceAccount or principalOrgId.',
    ]);
  });
  it('passes principal "*" bounded by the organization', async () => {
    assert.deepEqual(
      await messages(
        policy,
        permission({ principal: "*", sourceArn: undefined, principalOrgId: "o-a1b2c3d4e5" }),
      ),
      [],
    );
  });
});

describe("lambda-esm-filters-contract", () => {
  const policy = lambdaEsmFiltersContract;
  const config = {
    "lambda-esm-filters-contract": {
      streamContracts: [
        {
          streamArn: STREAM_ARN,
          product: "songs/plays",
          events: {
            "song.played": ["songId", "playedMs", "device", "device.kind"],
            "song.liked": ["songId"],
          },
        },
      ],
    },
  };
  const filters = (...patterns: object[]) =>
    esm({ filterCriteria: { filters: patterns.map((p) => ({ pattern: JSON.stringify(p) })) } });
  const rejected = (what: string) =>
    `Event source mapping filter 1 must only name what the contract of songs/plays declares (not ${what}).`;

  it("passes filters on declared types and fields", async () => {
    assert.deepEqual(await messages(policy, mesh(), config), []);
    const ok = {
      data: {
        type: ["song.played"],
        data: { playedMs: [{ numeric: [">=", 30000] }], device: { kind: ["car"] } },
      },
    };
    assert.deepEqual(await messages(policy, filters(ok, { partitionKey: [{ prefix: "u-" }] }), config), []);
  });
  it("rejects an event type the contract does not declare", async () => {
    assert.deepEqual(await messages(policy, filters({ data: { type: ["song.skipped"] } }), config), [
      rejected("event type song.skipped"),
    ]);
  });
  it("rejects a payload field no selected event type has", async () => {
    const wrong = { data: { type: ["song.liked"], data: { playedMs: [{ numeric: [">", 0] }] } } };
    assert.deepEqual(await messages(policy, filters(wrong), config), [
      rejected("payload field playedMs of song.liked"),
    ]);
    assert.deepEqual(await messages(policy, filters({ data: { data: { durationMs: [1] } } }), config), [
      rejected("payload field durationMs"),
    ]);
  });
  it("rejects envelope and record fields that do not exist", async () => {
    assert.deepEqual(await messages(policy, filters({ data: { eventType: ["song.played"] } }), config), [
      rejected("envelope field eventType"),
    ]);
    assert.deepEqual(await messages(policy, filters({ body: { type: ["song.played"] } }), config), [
      rejected("record field body"),
    ]);
  });
  it("checks an enhanced fan-out mapping against its stream's contract", async () => {
    const efo = edit(mesh(), "analytics-esm", {
      eventSourceArn: `${STREAM_ARN}/consumer/analytics:1700000000`,
      filterCriteria: { filters: [{ pattern: JSON.stringify({ data: { type: ["song.skipped"] } }) }] },
    });
    assert.deepEqual(await messages(policy, efo, config), [rejected("event type song.skipped")]);
  });
  it("leaves mappings of streams outside the mesh, and plans without contracts, to lambda-esm-filters", async () => {
    const unknownType = filters({ data: { type: ["song.skipped"] } });
    assert.deepEqual(await messages(policy, unknownType), []);
    const other = edit(unknownType, "analytics-esm", {
      eventSourceArn: "arn:aws:kinesis:eu-west-1:111111111111:stream/other",
    });
    assert.deepEqual(await messages(policy, other, config), []);
  });
});
