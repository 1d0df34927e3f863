import { PutRecordCommand } from "@aws-sdk/client-kinesis";
import { strict as assert } from "node:assert";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ContractViolationError } from "../../platform/contract";
import { startKinesalite, type LocalKinesis } from "../../local/kinesalite";
import { productStream, publishEvents, readEvents, tail } from "../../local/tools";

describe("local mesh tools: publish and tail a product's stream", function () {
  this.timeout(30_000);
  let kinesis: LocalKinesis;
  const dir = mkdtempSync(join(tmpdir(), "mesh-tools-"));
  const song = (songId: string) => ({
    type: "song.published",
    id: `evt-${songId}`,
    data: {
      songId,
      title: "A song",
      artistId: "artist-1",
      genres: ["pop"],
      durationMs: 200_000,
      releaseYear: 2024,
      explicit: false,
      publishedAt: "2026-01-01T00:00:00Z",
    },
  });

  before(async () => {
    kinesis = await startKinesalite();
    await kinesis.createStream(productStream("songs/song-events").streamName, 1);
  });
  after(async () => {
    await kinesis.stop();
  });

  it("publishes a JSON Lines file contract-checked, and tails it decoded and validated", async () => {
    const file = join(dir, "songs.jsonl");
    writeFileSync(file, `${JSON.stringify(song("s-1"))}\n\n${JSON.stringify(song("s-2"))}\n`);
    assert.deepEqual(await publishEvents("songs/song-events", readEvents(file), kinesis.client), {
      published: 2,
      failed: 0,
    });
    await kinesis.client.send(
      new PutRecordCommand({ StreamName: "songs.song-events", PartitionKey: "x", Data: Buffer.from("nope") }),
    );
    const lines: string[] = [];
    const seen = await tail("songs/song-events", {
      client: kinesis.client,
      fromStart: true,
      limit: 3,
      pollMs: 20,
      onRecord: (line) => lines.push(line),
    });
    assert.equal(seen, 3);
    const parsed = lines.map(
      (line) => JSON.parse(line) as { event?: { id: string; type: string }; invalid?: string },
    );
    assert.deepEqual(
      parsed.slice(0, 2).map((line) => [line.event?.id, line.event?.type]),
      [
        ["evt-s-1", "song.published"],
        ["evt-s-2", "song.published"],
      ],
    );
    assert.match(parsed[2]!.invalid!, /not base64-encoded UTF-8 JSON/);
  });

  it("sends nothing when one event breaks the contract", async () => {
    const bad = { ...song("s-3"), data: { ...song("s-3").data, durationMs: -1 } };
    await assert.rejects(
      publishEvents("songs/song-events", [song("s-4"), bad], kinesis.client),
      ContractViolationError,
    );
  });

  it("names every bad line of the file, and an unknown product", () => {
    const file = join(dir, "bad.jsonl");
    writeFileSync(file, `{"type":"song.published"}\nnot json\n`);
    assert.throws(
      () => readEvents(file),
      (error: Error) => {
        assert.match(error.message, /bad\.jsonl:1: needs type and data/);
        assert.match(error.message, /bad\.jsonl:2: /);
        return true;
      },
    );
    assert.throws(
      () => productStream("songs/nothing"),
      /songs\/nothing: no such stream product \(known: .*songs\/song-events/,
    );
  });
});
