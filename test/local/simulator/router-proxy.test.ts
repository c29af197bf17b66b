/**
 * The router in front of the simulator: `startRouter` on a spec whose deployment's endpoint is a
 * simulated replica proxies a streamed chat to it, model name and all.
 */
import { afterEach, describe, expect, it } from "vitest";
import { deploymentBehaviourSchema } from "../../../local/scenario-schema.ts";
import { type RunningSimulator, startSimulator } from "../../../local/simulator/server.ts";
import { parseSpec } from "../../../spec/load.ts";
import { chatTurn, RouterHarness, sample, send, specInput } from "../../helpers/router-harness.ts";

const harness = new RouterHarness();
const simulators: RunningSimulator[] = [];
afterEach(async () => {
  await harness.cleanup();
  for (const sim of simulators.splice(0)) await sim.stop();
});

describe("the router in front of a simulated replica", () => {
  it("streams a chat through to the simulator and back", async () => {
    const served = parseSpec(specInput(["http://127.0.0.1:1"]), "probe").deployments["chat-8b"];
    const model = served?.servedModelName ?? served?.model ?? "";
    const sim = await startSimulator({
      deployment: "chat-8b",
      model,
      replica: 0,
      behaviour: deploymentBehaviourSchema.parse({ latency: { ttftMs: 1, itlMs: 1, jitter: 0 } }),
      startCold: false,
      seed: 3,
    });
    simulators.push(sim);
    const router = await harness.router({ specPath: harness.writeSpec(specInput([sim.url])) });

    const answer = await chatTurn(router.proxyUrl, "conversation-1", true);
    expect(answer.status).toBe(200);
    const data = answer.body
      .toString()
      .split("\n\n")
      .filter((event) => event.startsWith("data: "));
    expect(data.at(-1)).toBe("data: [DONE]");
    const tokens = data
      .slice(0, -1)
      .map(
        (event) =>
          JSON.parse(event.slice(6)) as { model: string; choices: { delta: { content?: string } }[] },
      )
      .filter((chunk) => (chunk.choices[0]?.delta.content ?? "") !== "");
    expect(tokens.length).toBeGreaterThan(0);
    expect(tokens.every((chunk) => chunk.model === model)).toBe(true);

    expect(sim.stats()).toMatchObject({ requests: 1, failed: 0 });
    const engine = (await send(`${sim.url}/metrics`)).body.toString();
    expect(sample(engine, "vllm:generation_tokens_total", { model_name: model })).toBe(tokens.length);
  });
});
