/**
 * The guardrail events of a run, as the router saw them: every change of its state (pause,
 * rollback, with the alerts Alertmanager named), and every review alert it was sent (the router
 * only logs those, so they are read from its log lines). Each alert counts once per run, at the
 * first time it reached the router.
 */
import { Writable } from "node:stream";
import { type Logger, pino } from "pino";
import type { StateRecord } from "../router/store/types.ts";
import type { DemoEvent, EventAction } from "./run-result.ts";

/** `alertmanager: LlmAbGuardrailX (pause), LlmAbGuardrailY (rollback)` → names with their actions. */
export function alertsInReason(reason: string | undefined): { alert: string; action: EventAction }[] {
  if (reason === undefined) return [];
  return [...reason.matchAll(/([A-Za-z0-9_:]+) \((pause|rollback)\)/g)].map((m) => ({
    alert: m[1] as string,
    action: m[2] as EventAction,
  }));
}

export class GuardrailEvents {
  private readonly list: DemoEvent[] = [];
  private readonly seen = new Set<string>();
  private lastVersion = 0;

  /** @param startMs epoch ms the traffic started; events are timed from it. */
  constructor(
    private startMs: number,
    private readonly treatment: string,
  ) {}

  /** Times events from this epoch ms on (the traffic start, known only after setup). */
  setStart(startMs: number): void {
    this.startMs = startMs;
  }

  /** The events so far, in time order. */
  events(): readonly DemoEvent[] {
    return [...this.list].sort((a, b) => a.t - b.t);
  }

  private add(event: DemoEvent): void {
    const key = `${event.action}:${event.alert}:${event.variant ?? ""}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.list.push(event);
  }

  private secondsAt(epochMs: number): number {
    return Math.round((epochMs - this.startMs) / 100) / 10;
  }

  /** Reads the router's state record; a new version set by Alertmanager becomes events. */
  observeState(record: StateRecord): void {
    if (record.version === this.lastVersion) return;
    this.lastVersion = record.version;
    if (record.state === "active") return;
    const action: EventAction = record.state === "rolled_back" ? "rollback" : "pause";
    const alerts = alertsInReason(record.reason);
    const named = alerts.filter((a) => a.action === action);
    for (const { alert } of named.length > 0 ? named : [{ alert: record.reason ?? "manual" }]) {
      this.add({ t: this.secondsAt(record.changedAt), action, alert, variant: this.treatment });
    }
  }

  /** Reads one router log entry; a `guardrail review` line becomes an event. */
  observeLog(entry: Record<string, unknown>, nowMs = Date.now()): void {
    if (typeof entry.msg !== "string" || !entry.msg.startsWith("guardrail review:")) return;
    const alert =
      typeof entry.alert === "string" ? entry.alert : entry.msg.slice("guardrail review: ".length);
    const labels = (entry.labels ?? {}) as Record<string, unknown>;
    const time = typeof entry.time === "number" ? entry.time : nowMs;
    this.add({
      t: this.secondsAt(time),
      action: "review",
      alert,
      ...(typeof labels.variant === "string" ? { variant: labels.variant } : {}),
    });
  }
}

/**
 * The router's logger for a run: JSON lines appended to `write` (the run's router.log), each
 * entry also handed to `observe` (for review alerts).
 */
export function runLogger(
  write: (line: string) => void,
  observe: (entry: Record<string, unknown>) => void,
): Logger {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      const text = chunk.toString();
      write(text);
      for (const line of text.split("\n")) {
        if (line.trim() === "") continue;
        try {
          observe(JSON.parse(line) as Record<string, unknown>);
        } catch {
          // pino writes one JSON object per line; anything else is not an event.
        }
      }
      done();
    },
  });
  return pino({ level: "info", base: { service: "llm-ab-router" } }, sink);
}
