/**
 * Which replica a call goes to and how it is labelled, and what the client gets when replicas
 * fail: warm-up labels, conversations staying on their replica, refused connections failing
 * over, and timeouts and connection errors answered with JSON errors naming the upstream.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { type DnsResolver, ReplicaSet } from "../../router/replicas.ts";
import { chatBody, deadPort, noWarmup, ProxyHarness, post, urlSet } from "../helpers/upstream-harness.ts";

const harness = new ProxyHarness();
afterEach(() => harness.cleanup());

describe("replicas", () => {
  it("labels a fresh replica's requests cold, then warm after its warm-up, then cold after idling", async () => {
    const up = await harness.upstream({});
    let now = 0;
    const replicas = urlSet([up.url], {
      warmup: { requests: 2, seconds: 30, idleSeconds: 60 },
      now: () => now,
    });
    const proxy = await harness.front(replicas);
    const states: (string | undefined)[] = [];
    for (const at of [0, 1, 31, 32, 93, 94]) {
      now = at;
      await post(`${proxy.url}/v1/chat/completions`, chatBody({ stream: true }));
      states.push((await proxy.next()).replicaState);
    }
    expect(states).toEqual(["cold", "cold", "warm", "warm", "cold", "warm"]);
  });

  it("keeps a conversation on its replica over turns and moves it only when its replica leaves DNS", async () => {
    const first = await harness.upstream({}, { host: "127.0.0.1" });
    const ups = [
      first,
      ...(await Promise.all(
        ["127.0.0.2", "127.0.0.3"].map((host) => harness.upstream({}, { host, port: first.port })),
      )),
    ];
    const answers = { v4: ["127.0.0.1", "127.0.0.2", "127.0.0.3"] };
    const resolver: DnsResolver = {
      resolve4: async () => answers.v4,
      resolve6: async () => [],
    };
    const replicas = new ReplicaSet({
      deployment: "chat-8b",
      source: { kind: "dns", hostname: "chat-8b.default.svc", port: first.port },
      warmup: noWarmup,
      resolver,
    });
    await replicas.refresh();
    const proxy = await harness.front(replicas);
    const turn = async (conversation: string) => {
      await post(`${proxy.url}/v1/chat/completions`, chatBody({ stream: true }), {
        "x-llm-ab-conversation": conversation,
      });
      return (await proxy.next()).replica;
    };
    const conversations = ["conv-1", "conv-2", "conv-3", "conv-4", "conv-5", "conv-6"];
    const homes = new Map<string, string | undefined>();
    for (const conversation of conversations) homes.set(conversation, await turn(conversation));
    for (let round = 0; round < 3; round++) {
      for (const conversation of conversations)
        expect(await turn(conversation)).toBe(homes.get(conversation));
    }
    const gone = homes.get("conv-1") as string;
    answers.v4 = answers.v4.filter((ip) => !gone.includes(`//${ip}:`));
    await replicas.refresh();
    for (const conversation of conversations) {
      const home = await turn(conversation);
      if (homes.get(conversation) === gone) expect(home).not.toBe(gone);
      else expect(home).toBe(homes.get(conversation));
    }
    expect(ups.reduce((total, each) => total + each.requests.length, 0)).toBe(conversations.length * 5);
  });

  it("ejects a replica that refuses the connection and serves the request from the next one", async () => {
    const up = await harness.upstream({});
    const dead = `http://127.0.0.1:${await deadPort()}`;
    const replicas = urlSet([dead, up.url]);
    const key = Array.from({ length: 100 }, (_, i) => `c-${i}`).find(
      (each) => replicas.pick(each)?.id === dead,
    );
    const proxy = await harness.front(replicas);
    const answer = await post(`${proxy.url}/v1/chat/completions`, chatBody({ stream: true }), {
      "x-llm-ab-conversation": key as string,
    });
    expect(answer.status).toBe(200);
    expect(await proxy.next()).toMatchObject({ outcome: "ok", attempts: 2, replica: up.url });
    await post(`${proxy.url}/v1/chat/completions`, chatBody(), { "x-llm-ab-conversation": key as string });
    expect(await proxy.next()).toMatchObject({ outcome: "ok", attempts: 1, replica: up.url });
  });
});

describe("failures", () => {
  it("answers 502 naming the deployment and replica when every replica refuses", async () => {
    const dead = `http://127.0.0.1:${await deadPort()}`;
    const proxy = await harness.front(urlSet([dead]));
    const answer = await post(`${proxy.url}/v1/chat/completions`, chatBody());
    expect(answer.status).toBe(502);
    expect(answer.headers["content-type"]).toBe("application/json");
    const { error } = JSON.parse(answer.body.toString());
    expect(error.type).toBe("upstream_error");
    expect(error.message).toContain(`upstream chat-8b replica ${dead} refused the connection`);
    expect(await proxy.next()).toMatchObject({ outcome: "upstream_error", status: 502 });
  });

  it("answers 503 when the deployment has no replica at all", async () => {
    const resolver: DnsResolver = {
      resolve4: async () => Promise.reject(Object.assign(new Error("nx"), { code: "ENOTFOUND" })),
      resolve6: async () => [],
    };
    const replicas = new ReplicaSet({
      deployment: "chat-8b",
      source: { kind: "dns", hostname: "x", port: 1 },
      warmup: noWarmup,
      resolver,
    });
    await replicas.refresh();
    const proxy = await harness.front(replicas);
    const answer = await post(`${proxy.url}/v1/chat/completions`, chatBody());
    expect(answer.status).toBe(503);
    expect(JSON.parse(answer.body.toString()).error.message).toMatch(
      /deployment chat-8b has no known replica/,
    );
  });

  it("answers 504 when the upstream sends no headers in time, and drops the upstream request", async () => {
    const up = await harness.upstream({ headersDelayMs: 5_000 });
    const proxy = await harness.front(urlSet([up.url]), { headersTimeoutMs: 100 });
    const answer = await post(`${proxy.url}/v1/chat/completions`, chatBody({ stream: true }));
    expect(answer.status).toBe(504);
    const { error } = JSON.parse(answer.body.toString());
    expect(error).toMatchObject({ type: "upstream_timeout", code: 504 });
    expect(error.message).toContain(
      `upstream chat-8b replica ${up.url} sent no response headers within 100 ms`,
    );
    expect(await proxy.next()).toMatchObject({ outcome: "timeout", status: 504 });
    await vi.waitFor(() => expect(up.requests[0]?.closedEarly).toBe(true));
  });

  it("cuts the client's stream when the upstream stalls mid-answer", async () => {
    const up = await harness.upstream({ tokens: ["a", "b", "c"], stallAfterTokens: 2 });
    const proxy = await harness.front(urlSet([up.url]), { idleTimeoutMs: 150 });
    const outcome = await post(`${proxy.url}/v1/chat/completions`, chatBody({ stream: true })).then(
      () => "complete",
      (error: NodeJS.ErrnoException) => error.code,
    );
    expect(outcome).toBe("ECONNRESET");
    expect(await proxy.next()).toMatchObject({ outcome: "timeout", status: 200 });
  });
});
