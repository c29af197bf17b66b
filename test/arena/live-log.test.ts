/** Online judging: reading and sampling the router's log (arena/live-log.ts). */
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { LiveLogError, readLiveSlice, sampleShare } from "../../arena/live.ts";
import { tempDir } from "../helpers/unit-data.ts";
import { exposureRecord, outcomeRecord, shadowRecord, writeLog as writeLogIn } from "./live-records.ts";

const dir = tempDir("llm-ab-live-log-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const shadow = shadowRecord;
const exposure = exposureRecord;
const outcome = outcomeRecord;
const writeLog = (name: string, records: readonly unknown[]) => writeLogIn(dir, name, records);
const options = { sample: 1, controlVariant: "control" };

describe("sampling by request id", () => {
  const ids = Array.from({ length: 4000 }, (_, i) => `req-${i}`);

  it("gives each request the same share in [0, 1) on every call", () => {
    const shares = ids.map(sampleShare);
    expect(shares.every((share) => share >= 0 && share < 1)).toBe(true);
    expect(ids.map(sampleShare)).toEqual(shares);
  });

  it("selects close to the requested share, and a larger share keeps every request of a smaller one", () => {
    const picked = (share: number) => new Set(ids.filter((id) => sampleShare(id) < share));
    const tenth = picked(0.1);
    const third = picked(0.3);
    expect(tenth.size / ids.length).toBeGreaterThan(0.08);
    expect(tenth.size / ids.length).toBeLessThan(0.12);
    expect(third.size / ids.length).toBeGreaterThan(0.27);
    expect(third.size / ids.length).toBeLessThan(0.33);
    expect([...tenth].every((id) => third.has(id))).toBe(true);
  });
});

describe("reading a router log", () => {
  it("takes both answers of a shadow record, and an exposure's answer only when it carries text", async () => {
    const log = writeLog("mixed.jsonl", [
      exposure("u1", 1),
      shadow("s1", 2),
      outcome("u1", 3, "resolution_rate", 1),
      exposure("u2", 4, { assigned: "treatment", text: "Per the Refund Policy, yes." }),
      shadow("s2", 5, { status: 503, text: "" }),
      shadow("s3", 6, { text: "   ", controlText: "Sure." }),
      shadow("s4", 7, { controlText: undefined }),
    ]);
    const slice = await readLiveSlice(log, options);
    expect(slice).toMatchObject({
      file: log,
      experiment: { name: "duel", line: 1 },
      read: 7,
      withText: { exposure: 1, shadow: 4 },
      sampled: 5,
      skipped: { failedShadow: 1, blank: 1 },
    });
    const answers = slice.records.map((record) => [
      record.line,
      record.source,
      record.answers.map((a) => `${a.field}:${a.variant}:${a.arm}`),
    ]);
    expect(answers).toEqual([
      [2, "shadow", ["controlText:control:control", "text:treatment:treatment"]],
      [4, "exposure", ["text:treatment:treatment"]],
      [5, "shadow", ["controlText:control:control"]],
      [6, "shadow", ["controlText:control:control"]],
      [7, "shadow", ["text:treatment:treatment"]],
    ]);
    expect(slice.records[1]).toMatchObject({ unit: "u2", assigned: "treatment", requestId: "u2-4" });
  });

  it("samples by the hash of the request id, and --max keeps the smallest shares in log order", async () => {
    const records = Array.from({ length: 60 }, (_, i) => shadow(`r${i}`, i));
    const log = writeLog("many.jsonl", records);
    const expected = records.filter((r) => sampleShare(r.requestId) < 0.5).map((r) => r.requestId);
    const half = await readLiveSlice(log, { ...options, sample: 0.5 });
    expect(half.records.map((r) => r.requestId)).toEqual(expected);
    expect((await readLiveSlice(log, { ...options, sample: 0.5 })).records).toEqual(half.records);

    const capped = await readLiveSlice(log, { ...options, sample: 0.5, max: 5 });
    const smallest = [...expected].sort((a, b) => sampleShare(a) - sampleShare(b)).slice(0, 5);
    expect(capped.sampled).toBe(expected.length);
    expect(capped.records.map((r) => r.requestId)).toEqual(expected.filter((id) => smallest.includes(id)));
  });

  const bad: [string, string, RegExp][] = [
    ["a line that is not JSON", "{not json", /:2: not a JSON record/],
    ["an array", "[1, 2]", /:2: not a JSON object/],
    [
      "an unknown type",
      JSON.stringify({ ...shadow("x", 1), type: "answer" }),
      /:2 \(type\): expected exposure/,
    ],
    [
      "another experiment",
      JSON.stringify({ ...shadow("x", 1), experiment: "other" }),
      /:2 \(experiment\): "other" here but "duel" on line 1/,
    ],
    [
      "a text that is not a string",
      JSON.stringify({ ...shadow("x", 1), text: 42 }),
      /:2 \(text\): expected the answer text, got 42/,
    ],
    ["a shadow without status", JSON.stringify({ ...shadow("x", 1), status: undefined }), /:2 \(status\)/],
    ["a shadow without request id", JSON.stringify({ ...shadow("x", 1), requestId: "" }), /:2 \(requestId\)/],
    [
      "a bad time",
      JSON.stringify({ ...shadow("x", 1), t: "yesterday" }),
      /:2 \(t\): expected an ISO 8601 time/,
    ],
    [
      "an exposure with text but no assignment",
      JSON.stringify({ ...exposure("u", 1, { text: "hi" }), assigned: undefined }),
      /:2 \(assigned\): expected a non-empty string/,
    ],
  ];
  it.each(bad)("names the file, line and field of %s", async (_, line, message) => {
    const log = join(dir, "bad.jsonl");
    writeFileSync(log, `${JSON.stringify(shadow("ok", 0))}\n${line}\n`);
    const error = await readLiveSlice(log, options).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LiveLogError);
    expect((error as LiveLogError).message).toMatch(message);
    expect((error as LiveLogError).message.startsWith(`${log}:2`)).toBe(true);
    expect((error as LiveLogError).line).toBe(2);
  });

  it("says when the log does not exist", async () => {
    const missing = join(dir, "missing.jsonl");
    await expect(readLiveSlice(missing, options)).rejects.toThrow(`${missing}: file not found`);
  });
});
