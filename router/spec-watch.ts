/**
 * Watching the spec file so a change applies without a restart (a ramp from 10 % to 50 %, a new
 * prompt, new parameters). A valid new spec is handed to `apply`; an invalid one is rejected with
 * one log line naming every problem (field path and reason, as `llm-ab validate` prints them) and
 * the running spec stays.
 *
 * The directory is watched rather than the file: editors save by writing a new file and renaming
 * it over the old one, and a Kubernetes ConfigMap volume swaps a `..data` symlink, and neither shows
 * up as a change of the original file. Events are debounced, because one save is several events.
 */
import { type FSWatcher, watch } from "node:fs";
import { basename, dirname } from "node:path";
import type { Logger } from "pino";
import { formatProblem, SpecError } from "../spec/errors.ts";
import { loadSpecFile } from "../spec/load.ts";
import type { ExperimentSpec } from "../spec/schema.ts";
import type { ApplyResult } from "./context.ts";

/** Options of {@link SpecWatcher}. */
export interface SpecWatcherOptions {
  /** The spec file (.yaml, .yml or .json). */
  readonly path: string;
  /** Puts a valid spec in force, or refuses it with problems (e.g. a renamed experiment). */
  readonly apply: (spec: ExperimentSpec) => Promise<ApplyResult>;
  readonly logger: Logger;
  /** Quiet time after the last file event before the file is read, ms. Default 250. */
  readonly debounceMs?: number;
}

/** Reloads a spec file when it changes, or when asked. */
export class SpecWatcher {
  private readonly path: string;
  private readonly apply: SpecWatcherOptions["apply"];
  private readonly logger: Logger;
  private readonly debounceMs: number;
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Reloads run one after another, so an older file never wins over a newer one. */
  private chain: Promise<boolean> = Promise.resolve(true);

  constructor(options: SpecWatcherOptions) {
    this.path = options.path;
    this.apply = options.apply;
    this.logger = options.logger;
    this.debounceMs = options.debounceMs ?? 250;
  }

  /** Starts watching. A directory that cannot be watched is logged; `reload()` still works. */
  start(): void {
    if (this.watcher !== undefined) return;
    const name = basename(this.path);
    try {
      this.watcher = watch(dirname(this.path), (_event, filename) => {
        // No filename (some platforms), the file itself, or a ConfigMap's `..data` swap.
        if (filename === null || filename === name || filename.startsWith("..")) this.schedule();
      });
      this.watcher.on("error", (error) => {
        this.logger.warn(
          { path: this.path, error: error.message },
          "spec watch failed: reload with SIGHUP instead",
        );
      });
      this.watcher.unref();
    } catch (error) {
      this.logger.warn(
        { path: this.path, error: error instanceof Error ? error.message : String(error) },
        "cannot watch the spec file: reload with SIGHUP instead",
      );
    }
  }

  /** Stops watching; a reload already running finishes. */
  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.watcher?.close();
    this.watcher = undefined;
  }

  private schedule(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.reload();
    }, this.debounceMs);
    this.timer.unref();
  }

  /**
   * Reads the file now and applies it. Resolves true when the file's spec is in force (applied, or
   * equal to the running one), false when it was rejected and the running spec stays.
   */
  reload(): Promise<boolean> {
    this.chain = this.chain.then(() => this.reloadOnce());
    return this.chain;
  }

  private async reloadOnce(): Promise<boolean> {
    let spec: ExperimentSpec;
    try {
      spec = await loadSpecFile(this.path);
    } catch (error) {
      const problems =
        error instanceof SpecError
          ? error.problems.map(formatProblem)
          : [error instanceof Error ? error.message : String(error)];
      this.reject(problems);
      return false;
    }
    const result = await this.apply(spec);
    if (!result.ok) {
      this.reject(result.problems);
      return false;
    }
    if (result.changed) {
      this.logger.info({ path: this.path, rollout: spec.rollout }, `spec reloaded: ${this.path} is in force`);
    }
    return true;
  }

  private reject(problems: readonly string[]): void {
    this.logger.error(
      { path: this.path, problems },
      `spec reload rejected, keeping the running spec: ${this.path}: ${problems.join("; ")}`,
    );
  }
}
