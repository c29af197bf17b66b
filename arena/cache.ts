/**
 * The arena's results cache: one JSON file per call in a directory, keyed by the sha256 of the
 * canonical JSON of the request (server URL and body). A rerun with the same cases, variants, judge
 * and seed finds every answer on disk and calls nothing; change one prompt and only the calls whose
 * body changed are made again.
 *
 * The key includes the server: the same body sent to two deployments of one model (a new vLLM
 * image, another quantisation) is two questions, and the arena compares exactly such pairs. Each entry is written to a temporary file and renamed into place, so a run
 * interrupted mid-write leaves either the whole entry or none.
 */
import { createHash, randomUUID } from "node:crypto";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { canonicalJson } from "../spec/canonical-json.ts";
import { type Limiter, type PostOptions, type PostResult, postJson } from "./client.ts";

/** One stored call: the request, the parsed answer and how it was obtained. */
export interface CacheEntry {
  readonly key: string;
  /** The full URL that answered. */
  readonly url: string;
  readonly request: unknown;
  readonly status: number;
  readonly response: unknown;
  readonly attempts: number;
  readonly latencyMs: number;
  /** ISO time of the successful call. */
  readonly at: string;
}

/** Lookups since the cache was opened. */
export interface CacheStats {
  readonly hits: number;
  readonly misses: number;
  readonly writes: number;
}

/**
 * The cache key of a POST: sha256 (hex) of the canonical JSON of `{url, body}` (origin and path).
 * The server is part of the key: two deployments of the same model (a new vLLM image, another
 * quantisation) receive identical bodies, and sharing their answers would judge one server twice.
 */
export function requestKey(url: string, body: unknown): string {
  const { origin, pathname } = new URL(url);
  return createHash("sha256")
    .update(canonicalJson({ url: `${origin}${pathname}`, body }))
    .digest("hex");
}

const KEY = /^[0-9a-f]{64}$/;

function isEntry(value: unknown): value is CacheEntry {
  if (typeof value !== "object" || value === null) return false;
  const entry = value as Record<string, unknown>;
  return (
    typeof entry.key === "string" &&
    typeof entry.url === "string" &&
    typeof entry.status === "number" &&
    "response" in entry &&
    typeof entry.attempts === "number" &&
    typeof entry.latencyMs === "number" &&
    typeof entry.at === "string"
  );
}

/** A directory of cached call results. */
export class ResultsCache {
  readonly dir: string;
  private hits = 0;
  private misses = 0;
  private writes = 0;
  private readonly inFlight = new Map<string, Promise<{ entry: CacheEntry; cached: boolean }>>();

  constructor(dir: string) {
    this.dir = dir;
  }

  /** Path of the file holding `key`. */
  pathOf(key: string): string {
    if (!KEY.test(key)) throw new Error(`not a cache key (64 lowercase hex digits): "${key}"`);
    return join(this.dir, `${key}.json`);
  }

  /** The stored entry, or undefined; counts a hit or a miss. Throws naming the file when it is not an entry. */
  async get(key: string): Promise<CacheEntry | undefined> {
    const file = this.pathOf(key);
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") {
        this.misses++;
        return undefined;
      }
      throw error;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new Error(
        `cache entry ${file} is not valid JSON (${(error as Error).message}); delete it to make the call again`,
      );
    }
    if (!isEntry(value) || value.key !== key) {
      throw new Error(
        `cache entry ${file} is not a result of key ${key.slice(0, 12)}…; delete it to make the call again`,
      );
    }
    this.hits++;
    return value;
  }

  /** Stores `entry` under its key, atomically (temporary file, then rename). */
  async put(entry: CacheEntry): Promise<void> {
    const file = this.pathOf(entry.key);
    await mkdir(this.dir, { recursive: true });
    const temporary = `${file}.${process.pid}.${randomUUID()}.tmp`;
    try {
      await writeFile(temporary, `${JSON.stringify(entry, null, 2)}\n`, "utf8");
      await rename(temporary, file);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
    this.writes++;
  }

  stats(): CacheStats {
    return { hits: this.hits, misses: this.misses, writes: this.writes };
  }

  /**
   * The entry of `key`: from disk, else from `load` (then stored). Concurrent lookups of one key
   * share one load, so two arms that send the same request make one call.
   */
  lookup(key: string, load: () => Promise<CacheEntry>): Promise<{ entry: CacheEntry; cached: boolean }> {
    const pending = this.inFlight.get(key);
    if (pending) {
      return pending.then(({ entry }) => {
        this.hits++;
        return { entry, cached: true };
      });
    }
    const promise = (async () => {
      const stored = await this.get(key);
      if (stored) return { entry: stored, cached: true };
      const entry = await load();
      await this.put(entry);
      return { entry, cached: false };
    })();
    this.inFlight.set(key, promise);
    promise.then(
      () => this.inFlight.delete(key),
      () => this.inFlight.delete(key),
    );
    return promise;
  }
}

/** How arena calls are made: through a cache (optional), a limiter (optional) and the client's options. */
export interface CallContext {
  readonly cache?: ResultsCache;
  readonly limiter?: Limiter;
  readonly post?: PostOptions;
}

/** A call's answer, whether fresh or from the cache (then `attempts`, `latencyMs`, `at` are the original call's). */
export interface CallResult extends PostResult {
  readonly key: string;
  /** The URL that answered (for a cached result, the one that answered first). */
  readonly url: string;
  readonly cached: boolean;
}

/** POSTs `body` to `url` unless the cache holds its answer; fresh answers are stored. */
export async function cachedPostJson(url: string, body: unknown, context: CallContext): Promise<CallResult> {
  const key = requestKey(url, body);
  const call = async (): Promise<CacheEntry> => {
    const run = () => postJson(url, body, context.post);
    const result = await (context.limiter ? context.limiter(run) : run());
    return {
      key,
      url,
      request: body,
      status: result.status,
      response: result.json,
      attempts: result.attempts,
      latencyMs: result.latencyMs,
      at: result.at,
    };
  };
  const { entry, cached } = context.cache
    ? await context.cache.lookup(key, call)
    : { entry: await call(), cached: false };
  return {
    key,
    url: entry.url,
    cached,
    status: entry.status,
    json: entry.response,
    attempts: entry.attempts,
    latencyMs: entry.latencyMs,
    at: entry.at,
  };
}
