import { describe, expect, it } from "vitest";
import {
  ROUTER_CONTAINER,
  routerContainer,
  SPEC_HASH_ANNOTATION,
  specConfigHash,
  specConfigMapData,
  specConfigMapObject,
  specDocument,
} from "../../components/builders/router-container.ts";
import {
  injectRouterSidecar,
  proxyService,
  redisObjects,
  routerSidecar,
  standaloneDeployment,
} from "../../components/builders/router-workload.ts";
import { loadSpecFile, parseSpec, specHash } from "../../spec/load.ts";
import { validateK8sObject } from "../helpers/k8s-validate.ts";

const spec = await loadSpecFile("examples/support-bot-policy-prompt.yaml");
const redisSpec = await loadSpecFile("examples/model-swap-70b.yaml");

describe("the spec ConfigMap", () => {
  it("holds a spec the router parses back to the same experiment", () => {
    for (const s of [spec, redisSpec]) {
      const text = specConfigMapData(s)["spec.json"] ?? "";
      expect(parseSpec(JSON.parse(text))).toEqual(parseSpec(specDocument(s)));
      expect(specHash(parseSpec(JSON.parse(text)))).toBe(specHash(parseSpec(specDocument(s))));
    }
  });

  it("drops the deployments' out-of-cluster endpoints, so the router resolves the headless Services", () => {
    expect(spec.deployments["chat-8b"]?.endpoints).toEqual(["http://127.0.0.1:8001"]);
    const text = specConfigMapData(spec)["spec.json"] ?? "";
    expect(JSON.parse(text).deployments["chat-8b"]).not.toHaveProperty("endpoints");
  });

  it("hashes equal specs alike and a changed spec differently", () => {
    const hash = specConfigHash(specConfigMapData(spec));
    expect(specConfigHash(specConfigMapData(structuredClone(spec)))).toBe(hash);
    const changed = { ...spec, rollout: { ...spec.rollout, treatmentPercent: 20 } };
    expect(specConfigHash(specConfigMapData(changed))).not.toBe(hash);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("validates as a ConfigMap", () => {
    expect(() => validateK8sObject(specConfigMapObject(spec, "llm-ab"))).not.toThrow();
  });
});

describe("the router container", () => {
  const container = routerContainer(spec, { namespace: "exp" }) as {
    args: string[];
    env: { name: string; value?: string }[];
  };

  it("reads the spec and the admin token from mounted files", () => {
    expect(container.args).toEqual(
      expect.arrayContaining(["--spec", "/etc/llm-ab/spec.json", "--admin-token-file"]),
    );
    expect(container.env.map((e) => e.name)).not.toContain("LLM_AB_ADMIN_TOKEN");
  });

  it("points replica discovery at the deployments' headless Services", () => {
    expect(container.env).toContainEqual({
      name: "LLM_AB_REPLICA_DNS",
      value: "support-bot-policy-prompt-{deployment}.exp.svc.cluster.local:8000",
    });
  });
});

describe("the standalone router and Redis", () => {
  it("puts the spec hash on the pod template and validates", () => {
    const deployment = standaloneDeployment(redisSpec, { namespace: "exp", specHash: "abc" }) as {
      spec: { template: { metadata: { annotations: Record<string, string> } } };
    };
    expect(deployment.spec.template.metadata.annotations[SPEC_HASH_ANNOTATION]).toBe("abc");
    for (const object of [deployment, proxyService(redisSpec, "exp"), ...redisObjects(redisSpec, "exp")]) {
      expect(() => validateK8sObject(object)).not.toThrow();
    }
  });
});

describe("injectRouterSidecar", () => {
  const sidecar = routerSidecar(spec, { namespace: "exp", specHash: "h1" });
  const app = {
    metadata: { name: "chat-app" },
    spec: {
      selector: { matchLabels: { app: "chat" } },
      template: {
        metadata: { labels: { app: "chat" }, annotations: { keep: "me" } },
        spec: { containers: [{ name: "app", image: "chat:1" }], volumes: [{ name: "tmp", emptyDir: {} }] },
      },
    },
  };

  it("adds the container, its volumes and the hash annotation, keeping the app's", () => {
    const injected = injectRouterSidecar(app, sidecar);
    const template = injected.spec.template as {
      metadata: { annotations: Record<string, string> };
      spec: { containers: { name: string }[]; volumes: { name: string }[] };
    };
    expect(template.spec.containers.map((c) => c.name)).toEqual(["app", ROUTER_CONTAINER]);
    expect(template.spec.volumes.map((v) => v.name)).toEqual(["tmp", "llm-ab-spec", "llm-ab-admin-token"]);
    expect(template.metadata.annotations).toEqual({ keep: "me", [SPEC_HASH_ANNOTATION]: "h1" });
    expect(() => validateK8sObject({ apiVersion: "apps/v1", kind: "Deployment", ...injected })).not.toThrow();
  });

  it("is idempotent and leaves its input alone", () => {
    const before = structuredClone(app);
    const once = injectRouterSidecar(app, sidecar);
    expect(injectRouterSidecar(once, sidecar)).toEqual(once);
    expect(app).toEqual(before);
  });
});
