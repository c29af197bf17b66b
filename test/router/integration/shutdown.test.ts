/**
 * Graceful shutdown: `stop()` (in-process) and SIGTERM (the `llm-ab router` process) while streams
 * are in flight. The streams complete, nothing new is accepted, and every turn's record is in the
 * event log when the router is gone.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import {
  type Answer,
  chatTurn,
  eventually,
  RouterHarness,
  readRecords,
  specInput,
} from "../../helpers/router-harness.ts";

const harness = new RouterHarness();
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
  await harness.cleanup();
});

const CLI = fileURLToPath(new URL("../../../bin/llm-ab.mjs", import.meta.url));
const slowStream = { tokens: ["one", " two", " three", " four", " five"], delaysMs: [30, 60, 60, 60, 60] };

/** Starts `count` streamed turns and waits until the upstream is in the middle of all of them. */
async function streamsInFlight(
  proxyUrl: string,
  count: number,
  upstream: { requests: { tokenSentAtMs: number[] }[] },
) {
  const answers = Array.from({ length: count }, (_, i) => chatTurn(proxyUrl, `stream-${i}`, true));
  await eventually(
    `${count} streams have started`,
    () => upstream.requests.length === count && upstream.requests.every((r) => r.tokenSentAtMs.length > 0),
  );
  return answers;
}

function expectComplete(answer: Answer): void {
  expect(answer.status).toBe(200);
  const body = answer.body.toString();
  expect(body).toContain('"content":" five"');
  expect(body.endsWith("data: [DONE]\n\n")).toBe(true);
}

describe("stop()", () => {
  it("lets streams in flight finish, refuses new connections, and loses no record", async () => {
    const up = await harness.upstream(slowStream);
    const events = join(harness.tempDir(), "events.jsonl");
    const router = await harness.router({
      specPath: harness.writeSpec(specInput([up.url])),
      eventsPath: events,
    });
    const answers = await streamsInFlight(router.proxyUrl, 6, up);
    await router.stop();
    for (const answer of await Promise.all(answers)) expectComplete(answer);
    expect(readRecords(events).filter((record) => record.type === "exposure")).toHaveLength(6);
    await expect(chatTurn(router.proxyUrl, "late")).rejects.toThrow(/ECONNREFUSED/);
  });

  it("cuts a stream that outlives the deadline, and still records its turn", async () => {
    const up = await harness.upstream({ tokens: ["a", "b"], stallAfterTokens: 1 });
    const events = join(harness.tempDir(), "events.jsonl");
    const router = await harness.router({
      specPath: harness.writeSpec(specInput([up.url])),
      eventsPath: events,
      shutdownDeadlineMs: 200,
    });
    const [answer] = await streamsInFlight(router.proxyUrl, 1, up);
    const settled = answer?.then(
      () => "completed",
      () => "cut",
    );
    await router.stop();
    expect(await settled).toBe("cut");
    expect(up.requests[0]?.closedEarly).toBe(true);
    expect(readRecords(events)).toEqual([
      expect.objectContaining({ type: "exposure", unit: "stream-0", status: 200 }),
    ]);
  });
});

describe("SIGTERM to llm-ab router", () => {
  it("finishes the streams in flight, flushes every record and exits 0", async () => {
    const up = await harness.upstream(slowStream);
    const dir = harness.tempDir();
    const events = join(dir, "events.jsonl");
    const specPath = harness.writeSpec(specInput([up.url]));
    const child = spawn(
      process.execPath,
      [CLI, "router", "--spec", specPath, "--port", "0", "--admin-port", "0", "--events", events],
      {
        env: { ...process.env, LOG_LEVEL: "info", LLM_AB_ADMIN_TOKEN: "" },
        stdio: ["ignore", "ignore", "pipe"],
      },
    );
    children.push(child);
    const lines: Record<string, unknown>[] = [];
    let partial = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      const text = partial + chunk.toString();
      const complete = text.split("\n");
      partial = complete.pop() ?? "";
      for (const line of complete)
        if (line.startsWith("{")) lines.push(JSON.parse(line) as Record<string, unknown>);
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    await eventually(
      "the router is listening",
      () => lines.some((line) => line.msg === "router listening"),
      20_000,
    );
    const proxyUrl = String(lines.find((line) => line.msg === "router listening")?.proxyUrl);

    const answers = await streamsInFlight(proxyUrl, 4, up);
    child.kill("SIGTERM");
    for (const answer of await Promise.all(answers)) expectComplete(answer);
    expect(await exited).toBe(0);
    expect(lines.map((line) => line.msg)).toContain("router stopped: records flushed, store closed");
    expect(readRecords(events).filter((record) => record.type === "exposure")).toHaveLength(4);
  });
});
