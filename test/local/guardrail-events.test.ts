import { describe, expect, it } from "vitest";
import { alertsInReason, GuardrailEvents, runLogger } from "../../local/guardrail-events.ts";
import type { StateRecord } from "../../router/store/types.ts";

const START = 1_780_000_000_000;
const TTFT = "LlmAbGuardrailTtftP95SecondsWarm";
const ERRORS = "LlmAbGuardrailErrorRate";
const COLD = "LlmAbGuardrailTtftP95SecondsCold";

function state(
  version: number,
  stateName: StateRecord["state"],
  afterMs: number,
  reason?: string,
): StateRecord {
  return {
    state: stateName,
    version,
    changedAt: START + afterMs,
    actor: "alertmanager",
    ...(reason === undefined ? {} : { reason }),
  };
}

/** A log entry as pino writes it for the router's `logger.warn({alert, labels, annotations}, msg)`. */
function reviewLine(alert: string, afterMs: number, labels: Record<string, string> = {}) {
  return {
    level: 40,
    time: START + afterMs,
    service: "llm-ab-router",
    alert,
    labels: { alertname: alert, experiment: "support-bot-fine-tune", ...labels },
    annotations: { summary: "look at it" },
    msg: `guardrail review: ${alert}`,
  };
}

describe("alertsInReason", () => {
  it.each([
    [undefined, []],
    ["", []],
    ["manual pause", []],
    [`alertmanager: ${TTFT} (pause)`, [{ alert: TTFT, action: "pause" }]],
    [
      `alertmanager: ${TTFT} (pause), ${ERRORS} (rollback)`,
      [
        { alert: TTFT, action: "pause" },
        { alert: ERRORS, action: "rollback" },
      ],
    ],
    // Review alerts never reach the state record; an action the router does not take is not an alert.
    [`alertmanager: ${COLD} (review)`, []],
    ["alertmanager: ns:rule_name (rollback)", [{ alert: "ns:rule_name", action: "rollback" }]],
  ] as const)("reads %j as %j", (reason, expected) => {
    expect(alertsInReason(reason)).toEqual(expected);
  });
});

describe("GuardrailEvents.observeState", () => {
  it("ignores the initial active state", () => {
    const events = new GuardrailEvents(START, "treatment");
    events.observeState({ state: "active", version: 0, changedAt: 0 });
    expect(events.events()).toEqual([]);
  });

  it("turns a pause into one event per paused alert, timed from the start", () => {
    const events = new GuardrailEvents(START, "treatment");
    events.observeState(state(1, "paused", 62_340, `alertmanager: ${TTFT} (pause), ${COLD} (pause)`));
    expect(events.events()).toEqual([
      { t: 62.3, action: "pause", alert: TTFT, variant: "treatment" },
      { t: 62.3, action: "pause", alert: COLD, variant: "treatment" },
    ]);
  });

  it("turns a rollback into events for the rollback alerts only", () => {
    const events = new GuardrailEvents(START, "treatment");
    events.observeState(
      state(1, "rolled_back", 50_000, `alertmanager: ${TTFT} (pause), ${ERRORS} (rollback)`),
    );
    expect(events.events()).toEqual([{ t: 50, action: "rollback", alert: ERRORS, variant: "treatment" }]);
  });

  it("names a state change without alerts by its reason", () => {
    const events = new GuardrailEvents(START, "treatment");
    events.observeState(state(1, "paused", 10_000, "paused by alice"));
    events.observeState(state(2, "rolled_back", 20_000));
    expect(events.events()).toEqual([
      { t: 10, action: "pause", alert: "paused by alice", variant: "treatment" },
      { t: 20, action: "rollback", alert: "manual", variant: "treatment" },
    ]);
  });

  it("adds nothing for a version it has already seen", () => {
    const events = new GuardrailEvents(START, "treatment");
    const paused = state(1, "paused", 30_000, `alertmanager: ${TTFT} (pause)`);
    events.observeState(paused);
    events.observeState(paused);
    events.observeState({ ...paused, reason: `alertmanager: ${COLD} (pause)` });
    expect(events.events()).toHaveLength(1);
  });

  it("counts an alert once even when a later state change names it again", () => {
    const events = new GuardrailEvents(START, "treatment");
    events.observeState(state(1, "paused", 30_000, `alertmanager: ${TTFT} (pause)`));
    events.observeState(state(2, "active", 40_000, "manual resume"));
    events.observeState(state(3, "paused", 55_000, `alertmanager: ${TTFT} (pause)`));
    expect(events.events()).toEqual([{ t: 30, action: "pause", alert: TTFT, variant: "treatment" }]);
  });

  it("times events from the start set after construction", () => {
    const events = new GuardrailEvents(0, "treatment");
    events.setStart(START);
    events.observeState(state(1, "paused", 4_000, `alertmanager: ${TTFT} (pause)`));
    expect(events.events()[0]?.t).toBe(4);
  });
});

describe("GuardrailEvents.observeLog", () => {
  it("turns a guardrail review log line into a review event with its variant", () => {
    const events = new GuardrailEvents(START, "treatment");
    events.observeLog(reviewLine(COLD, 71_250, { variant: "treatment" }));
    expect(events.events()).toEqual([{ t: 71.3, action: "review", alert: COLD, variant: "treatment" }]);
  });

  it("reads the alert name from the message when the entry has no alert field", () => {
    const events = new GuardrailEvents(START, "treatment");
    const { alert: _dropped, labels: _labels, ...line } = reviewLine(COLD, 5_000);
    events.observeLog(line);
    expect(events.events()).toEqual([{ t: 5, action: "review", alert: COLD }]);
  });

  it("times an entry without a time at the moment it is observed", () => {
    const events = new GuardrailEvents(START, "treatment");
    const { time: _dropped, ...line } = reviewLine(COLD, 0);
    events.observeLog(line, START + 9_000);
    expect(events.events()[0]?.t).toBe(9);
  });

  it("counts a review alert once however often Alertmanager repeats it", () => {
    const events = new GuardrailEvents(START, "treatment");
    events.observeLog(reviewLine(COLD, 20_000, { variant: "treatment" }));
    events.observeLog(reviewLine(COLD, 40_000, { variant: "treatment" }));
    expect(events.events()).toEqual([{ t: 20, action: "review", alert: COLD, variant: "treatment" }]);
  });

  it.each([
    { msg: "request served", alert: COLD },
    { msg: "guardrail webhook: 1 alert" },
    { msg: 42 },
    { level: 30, time: START },
    { msg: "Guardrail review: X" },
  ])("ignores a log line that is not a guardrail review: %j", (line) => {
    const events = new GuardrailEvents(START, "treatment");
    events.observeLog(line);
    expect(events.events()).toEqual([]);
  });

  it("lists state and review events together in time order", () => {
    const events = new GuardrailEvents(START, "treatment");
    events.observeState(state(1, "paused", 60_000, `alertmanager: ${TTFT} (pause)`));
    events.observeLog(reviewLine(COLD, 45_000, { variant: "treatment" }));
    events.observeState(state(2, "rolled_back", 80_000, `alertmanager: ${ERRORS} (rollback)`));
    expect(events.events().map((event) => [event.t, event.action])).toEqual([
      [45, "review"],
      [60, "pause"],
      [80, "rollback"],
    ]);
  });
});

describe("runLogger", () => {
  it("hands each entry, parsed, to observe and its text to write", () => {
    const written: string[] = [];
    const observed: Record<string, unknown>[] = [];
    const logger = runLogger(
      (line) => written.push(line),
      (entry) => observed.push(entry),
    );
    logger.info({ path: "/v1/chat/completions" }, "request served");
    logger.warn({ alert: COLD, labels: { variant: "treatment" } }, `guardrail review: ${COLD}`);
    logger.debug("below the level");

    expect(observed).toHaveLength(2);
    expect(observed[0]).toMatchObject({
      level: 30,
      service: "llm-ab-router",
      path: "/v1/chat/completions",
      msg: "request served",
    });
    expect(observed[1]).toMatchObject({ level: 40, alert: COLD, msg: `guardrail review: ${COLD}` });
    expect(
      written
        .join("")
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line)),
    ).toEqual(observed);
  });

  it("feeds review lines from the router's logger into the events", () => {
    const events = new GuardrailEvents(Date.now(), "treatment");
    const logger = runLogger(
      () => {},
      (entry) => events.observeLog(entry),
    );
    logger.info("request served");
    logger.warn({ alert: COLD, labels: { variant: "treatment" } }, `guardrail review: ${COLD}`);
    expect(events.events().map(({ action, alert, variant }) => ({ action, alert, variant }))).toEqual([
      { action: "review", alert: COLD, variant: "treatment" },
    ]);
  });
});
