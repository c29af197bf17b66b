/**
 * Cost of a request from its token usage and the deployment's `price` (spec, USD per million
 * tokens). It feeds `llmab_cost_usd_total`, and so every cost guardrail, which is why the router
 * computes it per request rather than leaving it to dashboards.
 */
import type { Deployment } from "../spec/schema.ts";
import type { TokenUsage } from "./sse.ts";

/** The spec's `deployments.<name>.price`, the two fields the router needs. */
export type TokenPrice = Pick<
  NonNullable<Deployment["price"]>,
  "inputPerMillionTokens" | "outputPerMillionTokens"
>;

/**
 * USD for one request: prompt tokens at the input price plus completion tokens at the output
 * price, per million. Undefined when the deployment has no price or the usage is unknown, so
 * "no cost data" is never mistaken for "free".
 */
export function requestCostUsd(
  price: TokenPrice | undefined,
  usage: TokenUsage | undefined,
): number | undefined {
  if (price === undefined || usage === undefined) return undefined;
  return (
    (usage.promptTokens * price.inputPerMillionTokens +
      usage.completionTokens * price.outputPerMillionTokens) /
    1_000_000
  );
}
