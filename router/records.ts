/**
 * The router's event log: one JSON object per line, appended to the file given by `--events`.
 * Three record types share the file, told apart by `type`:
 *
 * - `exposure`: one per proxied turn of an assigned unit (DESIGN.md "Assignment"), with the
 *   variant served, the unit's sticky assignment, the runtime state and the allocation in force
 *   when the unit was first assigned, plus the router's own measurements of the call.
 * - `outcome`: one per value posted to `POST /v1/outcomes`.
 * - `shadow`: one per mirrored treatment call in shadow mode, with its text for offline review.
 *
 * `llm-ab analyze --data <events.jsonl>` reads this file directly (analysis/event-log.ts).
 *
 * Writing must never slow or fail a request, so `RecordLog.write` only serializes into memory;
 * the file is appended in batches off the request path, and a broken disk is counted and logged,
 * never thrown at the caller.
 */
import { type FileHandle, open } from "node:fs/promises";

/** One proxied turn of an experiment unit, as the router saw it. */
export interface ExposureRecord {
  type: "exposure";
  /** ISO time the request arrived. */
  t: string;
  experiment: string;
  unit: string;
  /** Which of the spec's unitSources gave the unit id (e.g. `header:x-user-id`). */
  unitSource: string;
  /** The variant that served this turn (control while paused or rolled back). */
  variant: string;
  /** The unit's sticky assignment; the analysis groups by it (intent to treat). */
  assigned: string;
  state: "active" | "paused" | "rolled_back";
  /** Treatment percent in force at the unit's first assignment: its allocation phase. */
  allocation: number;
  firstAssignedAt: string;
  bucket: number;
  requestId: string;
  route: "chat" | "completions";
  model?: string;
  deployment: string;
  replica?: string;
  replicaState?: "warm" | "cold";
  /** HTTP status returned to the client; 0 when the client went away before a status was sent. */
  status: number;
  stream: boolean;
  ttftSeconds?: number;
  e2eSeconds?: number;
  tpotSeconds?: number;
  inputTokens?: number;
  outputTokens?: number;
  costUsd?: number;
  /** Sampled exposures only (`router.answerSamplePercent`): the application's messages (or prompt). */
  messages?: unknown;
  /** Sampled exposures only: the generated text the client was sent. */
  text?: string;
}

/** One outcome value posted by the application for a unit. */
export interface OutcomeRecord {
  type: "outcome";
  t: string;
  experiment: string;
  unit: string;
  variant: string;
  metric: string;
  value: number;
  requestId?: string;
}

/** One mirrored (shadow) treatment call, kept for offline comparison with the control answer. */
export interface ShadowRecord {
  type: "shadow";
  t: string;
  experiment: string;
  unit: string;
  requestId: string;
  variant: string;
  deployment: string;
  status: number;
  ttftSeconds?: number;
  e2eSeconds?: number;
  outputTokens?: number;
  text: string;
  controlText?: string;
}

export type RouterRecord = ExposureRecord | OutcomeRecord | ShadowRecord;

/** Options of {@link RecordLog}. */
export interface RecordLogOptions {
  /** File to append to; created if missing, never truncated. */
  path: string;
  /** How often buffered records are appended. Default 200 ms. */
  flushIntervalMs?: number;
  /**
   * Most records held in memory (buffered or being written) before new ones are dropped and
   * counted in `dropped`. Default 100,000: a few tens of MB, minutes of traffic for a stalled disk.
   */
  maxBufferedRecords?: number;
  /** Called for every failed append or open. Default: one line on stderr per failure streak. */
  onError?: (e: Error) => void;
}

const DEFAULT_FLUSH_INTERVAL_MS = 200;
const DEFAULT_MAX_BUFFERED_RECORDS = 100_000;
/** Start writing before the interval when this many records wait, so batches stay moderate. */
const EAGER_FLUSH_RECORDS = 4096;

/**
 * Append-only JSON-lines writer: buffered, flushed on an interval and on close; never blocks a
 * request; write errors are counted and logged, never thrown into the request path.
 *
 * Records reach the file in the order `write` was called: batches are appended one after another
 * on a single promise chain. A record is serialized when written, so a caller may reuse the object.
 */
export class RecordLog {
  private readonly path: string;
  private readonly maxBuffered: number;
  private readonly reportError: (e: Error) => void;
  private readonly timer: NodeJS.Timeout;
  private buffer: string[] = [];
  /** Records accepted but not yet appended (buffered plus in flight). */
  private pending = 0;
  private tail: Promise<void> = Promise.resolve();
  private handle: FileHandle | undefined;
  private closing: Promise<void> | undefined;
  private failing = false;
  private writtenCount = 0;
  private droppedCount = 0;
  private errorCount = 0;

  constructor(opts: RecordLogOptions) {
    this.path = opts.path;
    this.maxBuffered = opts.maxBufferedRecords ?? DEFAULT_MAX_BUFFERED_RECORDS;
    this.reportError = opts.onError ?? ((e) => this.logStreakStart(e));
    this.timer = setInterval(() => void this.flush(), opts.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS);
    // The log must not keep a finished process alive; close() is what guarantees the last batch.
    this.timer.unref();
  }

  /** Records appended to the file so far. */
  get written(): number {
    return this.writtenCount;
  }

  /** Records lost: over `maxBufferedRecords`, written after close, or in a failed append. */
  get dropped(): number {
    return this.droppedCount;
  }

  /** Failed opens or appends so far (each may have lost a whole batch). */
  get errors(): number {
    return this.errorCount;
  }

  /** Queue one record. Returns at once; never throws. */
  write(record: RouterRecord): void {
    if (this.closing !== undefined || this.pending >= this.maxBuffered) {
      this.droppedCount++;
      return;
    }
    let line: string;
    try {
      line = JSON.stringify(record);
    } catch (e) {
      // A record the router built itself should always serialize; if not, lose it, not the request.
      this.droppedCount++;
      this.fail(asError(e));
      return;
    }
    this.buffer.push(line);
    this.pending++;
    if (this.buffer.length >= EAGER_FLUSH_RECORDS) void this.flush();
  }

  /** Append everything written so far. Resolves when it is on disk or counted as lost; never rejects. */
  flush(): Promise<void> {
    if (this.buffer.length > 0) {
      const batch = this.buffer;
      this.buffer = [];
      this.tail = this.tail.then(() => this.append(batch));
    }
    return this.tail;
  }

  /** Flush everything written before this call, then release the file. Idempotent. */
  close(): Promise<void> {
    if (this.closing === undefined) {
      clearInterval(this.timer);
      this.closing = this.flush().then(() => this.release());
    }
    return this.closing;
  }

  private async append(batch: string[]): Promise<void> {
    try {
      this.handle ??= await open(this.path, "a");
      await this.handle.appendFile(`${batch.join("\n")}\n`);
      this.writtenCount += batch.length;
      this.failing = false;
    } catch (e) {
      this.droppedCount += batch.length;
      this.fail(asError(e));
      // Reopen on the next batch: the file may have been moved or the disk remounted.
      await this.release();
    } finally {
      this.pending -= batch.length;
    }
  }

  private async release(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    try {
      await handle?.close();
    } catch (e) {
      this.fail(asError(e));
    }
  }

  private fail(e: Error): void {
    this.errorCount++;
    try {
      this.reportError(e);
    } catch {
      // A throwing error handler must not turn a lost record into a failed request.
    }
  }

  /** Default reporting: one stderr line when appends start failing, not one per batch. */
  private logStreakStart(e: Error): void {
    if (this.failing) return;
    this.failing = true;
    console.error(`llm-ab router: cannot append records to ${this.path}: ${e.message} (counting drops)`);
  }
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

/** A RecordLog that writes nowhere (router started without --events). */
export const nullRecordLog: Pick<RecordLog, "write" | "flush" | "close"> = {
  write: () => {},
  flush: () => Promise.resolve(),
  close: () => Promise.resolve(),
};
