/** The results cache: canonical keys, atomic entries, hit counts, and reruns that call nothing. */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type CacheEntry, cachedPostJson, ResultsCache, requestKey } from "../../arena/cache.ts";
import { type ArenaServer, startArenaServer } from "../helpers/arena-server.ts";

let dir: string;
let server: ArenaServer;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "arena-cache-"));
  server = await startArenaServer({ answer: (body) => `echo ${JSON.stringify(body.messages)}` });
});
afterEach(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

const body = { model: "m", messages: [{ role: "user", content: "where is my package?" }], temperature: 0 };

function entry(key: string): CacheEntry {
  return {
    key,
    url: "http://a/v1/x",
    request: {},
    status: 200,
    response: { ok: 1 },
    attempts: 1,
    latencyMs: 3,
    at: "t",
  };
}

describe("requestKey", () => {
  it("is the same for equal bodies whatever their key order", () => {
    const reordered = { temperature: 0, messages: body.messages, model: "m" };
    expect(requestKey("http://a:1/v1/chat/completions", body)).toBe(
      requestKey("http://a:1/v1/chat/completions", reordered),
    );
  });

  it.each([
    [
      "another server: two deployments of one model must not share answers",
      "http://b:2/v1/chat/completions",
      body,
    ],
    ["another path", "http://a/v1/completions", body],
    ["another body", "http://a/v1/chat/completions", { ...body, temperature: 0.7 }],
  ])("differs for %s", (_name, url, other) => {
    expect(requestKey(url, other)).not.toBe(requestKey("http://a/v1/chat/completions", body));
  });
});

describe("ResultsCache", () => {
  it("returns what was put, counts hits and misses, and leaves no temporary file", async () => {
    const cache = new ResultsCache(join(dir, "nested"));
    const key = requestKey("http://a/v1/x", body);
    expect(await cache.get(key)).toBeUndefined();
    await cache.put(entry(key));
    expect(await cache.get(key)).toEqual(entry(key));
    expect(cache.stats()).toEqual({ hits: 1, misses: 1, writes: 1 });
    expect(readdirSync(join(dir, "nested"))).toEqual([`${key}.json`]);
  });

  it("refuses a broken entry, naming its file", async () => {
    const cache = new ResultsCache(dir);
    const key = requestKey("http://a/v1/x", body);
    writeFileSync(join(dir, `${key}.json`), '{"key": "half');
    await expect(cache.get(key)).rejects.toThrow(`cache entry ${join(dir, `${key}.json`)} is not valid JSON`);
  });

  it("refuses an entry stored under another key", async () => {
    const cache = new ResultsCache(dir);
    const key = requestKey("http://a/v1/x", body);
    writeFileSync(join(dir, `${key}.json`), JSON.stringify(entry("0".repeat(64))));
    await expect(cache.get(key)).rejects.toThrow("delete it to make the call again");
  });
});

describe("cachedPostJson", () => {
  it("calls the server once, and a rerun with a fresh cache on the same directory calls nothing", async () => {
    const url = `${server.url}/v1/chat/completions`;
    const first = await cachedPostJson(url, body, { cache: new ResultsCache(dir) });
    expect(first.cached).toBe(false);
    const rerun = new ResultsCache(dir);
    const second = await cachedPostJson(url, body, { cache: rerun });
    expect(second.cached).toBe(true);
    expect(second.json).toEqual(first.json);
    expect(second.key).toBe(first.key);
    expect(server.calls()).toHaveLength(1);
    expect(rerun.stats()).toEqual({ hits: 1, misses: 0, writes: 0 });
  });

  it("makes one call for concurrent equal requests", async () => {
    const cache = new ResultsCache(dir);
    const url = `${server.url}/v1/chat/completions`;
    const results = await Promise.all([1, 2, 3].map(() => cachedPostJson(url, body, { cache })));
    expect(server.calls()).toHaveLength(1);
    expect(results.filter((result) => result.cached)).toHaveLength(2);
  });

  it("stores nothing for a failed call, so the next run tries again", async () => {
    await server.stop();
    server = await startArenaServer({ reject: () => 400 });
    const cache = new ResultsCache(dir);
    await expect(cachedPostJson(`${server.url}/v1/chat/completions`, body, { cache })).rejects.toThrow(
      "HTTP 400",
    );
    expect(readdirSync(dir)).toEqual([]);
  });
});
