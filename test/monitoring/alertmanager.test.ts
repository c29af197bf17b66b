import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  alertmanagerYaml,
  alertRouting,
  renderAlertmanager,
  reviewReceiverName,
  routerReceiverName,
} from "../../monitoring/alertmanager.ts";
import { parseSpec } from "../../spec/load.ts";
import { amtool, startAlertmanager, type TestAlertmanager } from "../helpers/alertmanager.ts";
import { exampleInput } from "../spec/spec-fixtures.ts";

const spec = parseSpec(exampleInput("promptDuel"));
const TOKEN = "test-admin-token-5f2c";

describe("renderAlertmanager", () => {
  it("sends pause and rollback to the router's webhook with the bearer token file, and review to the review receiver", () => {
    const config = renderAlertmanager(spec, {
      webhookUrl: "http://router:8081/alertmanager",
      tokenFile: "/secrets/token",
    });
    expect(config).toEqual({
      route: {
        receiver: "llm-ab-support-bot-policy-prompt-review",
        group_by: ["experiment"],
        group_wait: "10s",
        group_interval: "1m",
        repeat_interval: "1h",
        routes: [
          {
            receiver: "llm-ab-support-bot-policy-prompt-router",
            matchers: ['experiment="support-bot-policy-prompt"', 'action=~"pause|rollback"'],
          },
          {
            receiver: "llm-ab-support-bot-policy-prompt-review",
            matchers: ['experiment="support-bot-policy-prompt"', 'action="review"'],
          },
        ],
      },
      receivers: [routerReceiverName(spec), reviewReceiverName(spec)].map((name) => ({
        name,
        webhook_configs: [
          {
            send_resolved: false,
            url: "http://router:8081/alertmanager",
            http_config: { authorization: { type: "Bearer", credentials_file: "/secrets/token" } },
          },
        ],
      })),
    });
  });

  it("takes the profile's timings and default webhook when none is given", () => {
    const routing = alertRouting(spec, { profile: "local" });
    expect(routing.timing).toEqual({ groupWait: "1s", groupInterval: "2s", repeatInterval: "1m" });
    expect(routing.receivers[0]).toMatchObject({
      webhook_configs: [
        {
          url: "http://127.0.0.1:8081/alertmanager",
          http_config: { authorization: { credentials_file: "router-admin-token" } },
        },
      ],
    });
  });

  it("routes review alerts to a receiver of the caller's choosing", () => {
    const slack = {
      name: "support-team",
      slack_configs: [{ channel: "#llm-ab", api_url: "https://hooks.example" }],
    };
    const config = renderAlertmanager(spec, { reviewReceiver: slack }) as {
      route: { receiver: string; routes: { receiver: string }[] };
      receivers: { name: string }[];
    };
    expect(config.route.receiver).toBe("support-team");
    expect(config.route.routes.map((route) => route.receiver)).toEqual([
      routerReceiverName(spec),
      "support-team",
    ]);
    expect(config.receivers).toContainEqual(slack);
  });

  it("refuses a review receiver that takes the router receiver's name", () => {
    expect(() => renderAlertmanager(spec, { reviewReceiver: { name: routerReceiverName(spec) } })).toThrow(
      /must not be named "llm-ab-support-bot-policy-prompt-router"/,
    );
  });

  it("renders the same YAML every time, every mapping's keys sorted", () => {
    const text = alertmanagerYaml(spec);
    expect(alertmanagerYaml(spec)).toBe(text);
    const visit = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(visit);
      else if (node !== null && typeof node === "object") {
        expect(Object.keys(node)).toEqual(Object.keys(node).sort());
        Object.values(node).forEach(visit);
      }
    };
    visit(parse(text));
  });
});

describe("amtool on the rendered configuration", () => {
  const config = alertmanagerYaml(spec, { profile: "local" });
  const files = { "router-admin-token": TOKEN };

  it("passes check-config", () => {
    const run = amtool(config, ["check-config", "{config}"], files);
    expect(run.ok, run.output).toBe(true);
  });

  it.each([
    [["experiment=support-bot-policy-prompt", "action=pause"], routerReceiverName(spec)],
    [["experiment=support-bot-policy-prompt", "action=rollback"], routerReceiverName(spec)],
    [["experiment=support-bot-policy-prompt", "action=review"], reviewReceiverName(spec)],
    [["experiment=another-experiment", "action=pause"], reviewReceiverName(spec)],
  ])("routes an alert labelled %j to %s", (labels, receiver) => {
    const run = amtool(config, ["config", "routes", "test", "--config.file={config}", ...labels], files);
    expect(run.ok, run.output).toBe(true);
    expect(run.output.split("\n")[0]?.trim()).toBe(receiver);
  });
});

/** A received webhook call. */
interface Delivery {
  readonly path: string;
  readonly authorization: string | undefined;
  readonly body: {
    status: string;
    receiver: string;
    groupLabels: Record<string, string>;
    alerts: { status: string; labels: Record<string, string> }[];
  };
}

/** A local HTTP server recording every POST, standing in for the router's admin port. */
async function webhookServer(): Promise<{ server: Server; url: string; deliveries: Delivery[] }> {
  const deliveries: Delivery[] = [];
  const readBody = async (request: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString("utf8");
  };
  const server = createServer((request, response) => {
    void readBody(request).then((text) => {
      deliveries.push({
        path: request.url ?? "",
        authorization: request.headers.authorization,
        body: JSON.parse(text) as Delivery["body"],
      });
      response.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}`, deliveries };
}

/** Polls until `found` returns something or `limitMs` has passed (then undefined). */
async function waitFor<T>(found: () => T | undefined, limitMs: number): Promise<T | undefined> {
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline) {
    const value = found();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return found();
}

describe("a real Alertmanager with the rendered configuration", () => {
  let alertmanager: TestAlertmanager;
  let router: Awaited<ReturnType<typeof webhookServer>>;
  let review: Awaited<ReturnType<typeof webhookServer>>;

  beforeAll(async () => {
    router = await webhookServer();
    review = await webhookServer();
    const config = alertmanagerYaml(spec, {
      profile: "local",
      webhookUrl: `${router.url}/alertmanager`,
      reviewReceiver: { name: "review-notifications", webhook_configs: [{ url: `${review.url}/review` }] },
    });
    alertmanager = await startAlertmanager(config, { "router-admin-token": `${TOKEN}\n` });
  });

  afterAll(async () => {
    await alertmanager?.stop();
    for (const each of [router, review]) {
      await new Promise<void>((resolve) => (each ? each.server.close(() => resolve()) : resolve()));
    }
  });

  it("delivers a firing pause alert to the router's webhook with the bearer token, and a review alert elsewhere", async () => {
    const labels = { experiment: spec.name, variant: "treatment", severity: "critical" };
    await alertmanager.postAlerts([
      {
        labels: { ...labels, alertname: "LlmAbGuardrailTtftP95SecondsWarm", action: "pause" },
        annotations: { summary: "warm TTFT breaches its guardrail" },
        startsAt: new Date().toISOString(),
      },
      {
        labels: {
          ...labels,
          alertname: "LlmAbGuardrailCostPerSessionUsd",
          action: "review",
          severity: "warning",
        },
        startsAt: new Date().toISOString(),
      },
    ]);
    // group_wait is 1s in the local profile; 20 s only guards against a loaded machine.
    const pause = await waitFor(() => router.deliveries[0], 20_000);
    expect(pause).toBeDefined();
    expect(pause?.path).toBe("/alertmanager");
    expect(pause?.authorization).toBe(`Bearer ${TOKEN}`);
    expect(pause?.body).toMatchObject({
      status: "firing",
      receiver: routerReceiverName(spec),
      groupLabels: { experiment: spec.name },
      alerts: [
        { status: "firing", labels: { action: "pause", experiment: spec.name, variant: "treatment" } },
      ],
    });
    const notified = await waitFor(() => review.deliveries[0], 20_000);
    expect(notified?.path).toBe("/review");
    expect(notified?.body.alerts.map((each) => each.labels.action)).toEqual(["review"]);
    expect(
      router.deliveries.flatMap((each) => each.body.alerts.map((alert) => alert.labels.action)),
    ).not.toContain("review");
  });
});
