/**
 * The one-line progress of a running demo: time left, requests per variant, failures, the
 * router's state and the alerts firing now. A terminal rewrites it in place, so it never holds a
 * newline and, given a width, never wraps: the least important parts are dropped first.
 */
import { ansi, type Paint, paint, visibleLength } from "./ansi.ts";
import { count } from "./format.ts";

export interface ProgressSnapshot {
  readonly elapsedSeconds: number;
  /** Planned traffic time; time left is the difference. */
  readonly durationSeconds: number;
  readonly phase: "starting" | "traffic" | "draining" | "analyzing";
  readonly requests: number;
  readonly requestsByVariant: Readonly<Record<string, number>>;
  readonly failedRequests: number;
  /** active | paused | rolled_back */
  readonly routerState: string;
  /** Alert names firing now. */
  readonly firingAlerts: readonly string[];
}

const BAR_CELLS = 12;

function bar(done: number): string {
  const filled = Math.round(BAR_CELLS * done);
  return `[${"#".repeat(filled)}${"-".repeat(BAR_CELLS - filled)}]`;
}

function stateColour(state: string): Paint {
  if (state === "active") return ansi.green;
  if (state === "rolled_back") return ansi.red;
  return ansi.yellow;
}

/**
 * The progress of a run in one line, without a trailing newline. `width` (a terminal's columns)
 * drops trailing parts that do not fit; `color` adds ANSI colours, which do not count as width.
 */
export function progressLine(
  snapshot: ProgressSnapshot,
  options: { color?: boolean; width?: number } = {},
): string {
  const c = paint(options.color === true);
  const { elapsedSeconds: elapsed, durationSeconds: duration } = snapshot;
  const done = duration > 0 ? Math.min(1, Math.max(0, elapsed / duration)) : 1;
  const left = Math.max(0, Math.ceil(duration - elapsed));
  const clock =
    snapshot.phase === "traffic"
      ? `${Math.floor(Math.min(elapsed, duration))}/${Math.round(duration)} s, ${left} s left`
      : snapshot.phase;
  const perVariant = Object.entries(snapshot.requestsByVariant)
    .map(([variant, n]) => `${variant} ${count(n)}`)
    .join(" · ");
  const failed =
    snapshot.failedRequests > 0 ? c(ansi.red, `${count(snapshot.failedRequests)} failed`) : "0 failed";
  const alerts =
    snapshot.firingAlerts.length === 0
      ? "no alerts"
      : c(ansi.red, `firing: ${snapshot.firingAlerts.join(", ")}`);
  // Most important first; a part may have a shorter form for a narrow terminal. The clock and the
  // router's state are kept longest, since they say whether anything needs a look.
  const parts: string[][] = [
    [`${bar(done)} ${c(ansi.bold, clock)}`],
    [`router ${c(stateColour(snapshot.routerState), snapshot.routerState)}`],
    [
      `${count(snapshot.requests)} requests${perVariant ? ` (${perVariant})` : ""}`,
      `${count(snapshot.requests)} req`,
    ],
    [failed],
    [
      alerts,
      snapshot.firingAlerts.length === 0 ? alerts : c(ansi.red, `${snapshot.firingAlerts.length} firing`),
    ],
  ];
  const separator = "  ";
  const fits = (text: string) => options.width === undefined || visibleLength(text) <= options.width - 1;
  let line = "";
  for (const forms of parts) {
    const next = forms.map((form) => (line === "" ? form : `${line}${separator}${form}`)).find(fits);
    if (next === undefined) {
      if (line === "") line = truncatePlain(forms[0]!, (options.width ?? 1) - 1);
      break;
    }
    line = next;
  }
  return line;
}

/** The first part alone is too wide: cut its visible text (colour codes and all) to fit. */
function truncatePlain(part: string, width: number): string {
  const plain = part.replace(ansi.pattern, "");
  return width <= 1 ? plain.slice(0, Math.max(0, width)) : `${plain.slice(0, width - 1)}…`;
}
