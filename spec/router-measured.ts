/**
 * Metric names the router measures per unit from its own exposures (turns, errors, tokens, cost,
 * latency). A spec may declare metrics under these names and analyze reads them from the event log
 * (analysis/event-log.ts); they are never posted to `POST /v1/outcomes`, so nothing that learns from
 * outcomes (the bandit) can use them.
 */
export const routerMeasuredNames = [
  "turns",
  "errors",
  "output_tokens",
  "cost_usd",
  "ttft_seconds",
  "e2e_seconds",
] as const;

export type RouterMeasuredName = (typeof routerMeasuredNames)[number];

export const isRouterMeasuredName = (name: string): name is RouterMeasuredName =>
  (routerMeasuredNames as readonly string[]).includes(name);
