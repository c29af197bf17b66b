import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ExposureRecord,
  nullRecordLog,
  type OutcomeRecord,
  RecordLog,
  type RouterRecord,
} from "../../router/records.ts";

let dir: string;
let fileCount = 0;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "llm-ab-records-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function freshPath(): string {
  fileCount++;
  return join(dir, `events-${fileCount}.jsonl`);
}

async function readLines(path: string): Promise<RouterRecord[]> {
  const text = await readFile(path, "utf8");
  return text
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as RouterRecord);
}

function outcome(i: number): OutcomeRecord {
  return {
    type: "outcome",
    t: new Date(1_700_000_000_000 + i).toISOString(),
    experiment: "exp",
    unit: `u${i % 97}`,
    variant: i % 2 === 0 ? "control" : "treatment",
    metric: "resolved",
    value: i % 3 === 0 ? 1 : 0,
  };
}

const exposure: ExposureRecord = {
  type: "exposure",
  t: "2026-01-01T00:00:00.000Z",
  experiment: "exp",
  unit: "u1",
  unitSource: "header:x-llm-ab-unit",
  variant: "control",
  assigned: "treatment",
  state: "paused",
  allocation: 10,
  firstAssignedAt: "2025-12-31T00:00:00.000Z",
  bucket: 512,
  requestId: "r1",
  route: "chat",
  deployment: "small",
  replicaState: "warm",
  status: 200,
  stream: true,
  ttftSeconds: 0.12,
  e2eSeconds: 1.5,
  outputTokens: 40,
  costUsd: 0.00002,
};

// A long interval keeps the timer out of these tests: every flush below is explicit or from close().
const noTimer = { flushIntervalMs: 3_600_000 };

describe("RecordLog", () => {
  it("writes one JSON line per record, in the order written, across several flushes", async () => {
    const path = freshPath();
    const log = new RecordLog({ path, ...noTimer });
    log.write(exposure);
    for (let i = 0; i < 10; i++) log.write(outcome(i));
    await log.flush();
    for (let i = 10; i < 20; i++) log.write(outcome(i));
    await log.close();
    const lines = await readLines(path);
    expect(lines[0]).toEqual(exposure);
    expect(lines.slice(1)).toEqual(Array.from({ length: 20 }, (_, i) => outcome(i)));
    expect(log.written).toBe(21);
    expect(log.dropped).toBe(0);
  });

  it("snapshots a record when it is written, so the caller may reuse the object", async () => {
    const path = freshPath();
    const log = new RecordLog({ path, ...noTimer });
    const record = outcome(1);
    log.write(record);
    record.value = 42;
    await log.close();
    expect(await readLines(path)).toEqual([outcome(1)]);
  });

  it("flushes on close everything written before it, without an explicit flush", async () => {
    const path = freshPath();
    const log = new RecordLog({ path, ...noTimer });
    for (let i = 0; i < 5; i++) log.write(outcome(i));
    await log.close();
    expect(await readLines(path)).toHaveLength(5);
  });

  it("appends to an existing file instead of truncating it", async () => {
    const path = freshPath();
    const first = new RecordLog({ path, ...noTimer });
    first.write(outcome(0));
    await first.close();
    const second = new RecordLog({ path, ...noTimer });
    second.write(outcome(1));
    await second.close();
    expect(await readLines(path)).toEqual([outcome(0), outcome(1)]);
  });

  it("loses nothing over 100,000 writes in one synchronous burst, in order", async () => {
    const path = freshPath();
    const log = new RecordLog({ path, ...noTimer });
    const n = 100_000;
    for (let i = 0; i < n; i++) log.write(outcome(i));
    await log.close();
    const lines = await readLines(path);
    expect(lines).toHaveLength(n);
    expect(lines.every((line, i) => line.t === outcome(i).t)).toBe(true);
    expect(log.written).toBe(n);
    expect(log.dropped).toBe(0);
  });

  it("drops and counts records beyond maxBufferedRecords instead of growing without bound", async () => {
    const path = freshPath();
    const log = new RecordLog({ path, maxBufferedRecords: 10, ...noTimer });
    for (let i = 0; i < 25; i++) log.write(outcome(i));
    await log.close();
    expect(await readLines(path)).toEqual(Array.from({ length: 10 }, (_, i) => outcome(i)));
    expect(log.written).toBe(10);
    expect(log.dropped).toBe(15);
  });

  it("reports a failing path through onError and counts the loss, while write() never throws", async () => {
    const errors: Error[] = [];
    const log = new RecordLog({
      path: join(dir, "no-such-directory", "events.jsonl"),
      onError: (e) => errors.push(e),
      ...noTimer,
    });
    expect(() => log.write(outcome(0))).not.toThrow();
    await expect(log.flush()).resolves.toBeUndefined();
    expect(() => log.write(outcome(1))).not.toThrow();
    await expect(log.close()).resolves.toBeUndefined();
    expect(errors).toHaveLength(2);
    expect(errors[0]?.message).toMatch(/ENOENT/);
    expect(log.errors).toBe(2);
    expect(log.written).toBe(0);
    expect(log.dropped).toBe(2);
  });

  it("keeps going when the onError handler itself throws", async () => {
    const log = new RecordLog({
      path: join(dir, "missing", "events.jsonl"),
      onError: () => {
        throw new Error("handler broke");
      },
      ...noTimer,
    });
    log.write(outcome(0));
    await expect(log.close()).resolves.toBeUndefined();
    expect(log.dropped).toBe(1);
  });

  it("closes idempotently, and counts writes after close as dropped", async () => {
    const path = freshPath();
    const log = new RecordLog({ path, ...noTimer });
    log.write(outcome(0));
    const first = log.close();
    const second = log.close();
    expect(second).toBe(first);
    await Promise.all([first, second, log.close()]);
    log.write(outcome(1));
    await log.flush();
    expect(await readLines(path)).toEqual([outcome(0)]);
    expect(log.written).toBe(1);
    expect(log.dropped).toBe(1);
  });

  it("flushes on its interval without being asked", async () => {
    const path = freshPath();
    const log = new RecordLog({ path, flushIntervalMs: 5 });
    log.write(outcome(0));
    // Waits on the outcome (the line on disk), never on a duration.
    await expect.poll(() => log.written, { timeout: 10_000, interval: 5 }).toBe(1);
    expect(await readLines(path)).toEqual([outcome(0)]);
    await log.close();
  });
});

describe("nullRecordLog", () => {
  it("accepts records and flushes or closes without writing anywhere", async () => {
    expect(() => nullRecordLog.write(exposure)).not.toThrow();
    await expect(nullRecordLog.flush()).resolves.toBeUndefined();
    await expect(nullRecordLog.close()).resolves.toBeUndefined();
  });
});
