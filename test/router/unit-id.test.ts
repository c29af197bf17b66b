import { describe, expect, it } from "vitest";
import { clusterAttribute, clusterHeader, MAX_UNIT_ID_LENGTH, unitIdResolver } from "../../router/unit-id.ts";
import { routerSpec } from "./router-spec.ts";

const defaults = unitIdResolver(routerSpec());

describe("unitIdResolver with the default sources", () => {
  it.each([
    {
      name: "reads x-llm-ab-unit first",
      headers: { "x-llm-ab-unit": "u-1", "x-llm-ab-conversation": "c-1" },
      body: { user: "b-1" },
      expected: { id: "u-1", source: "header:x-llm-ab-unit" },
    },
    {
      name: "falls back to x-llm-ab-conversation",
      headers: { "x-llm-ab-conversation": "c-1" },
      body: { user: "b-1" },
      expected: { id: "c-1", source: "header:x-llm-ab-conversation" },
    },
    {
      name: "falls back to the body's user field",
      headers: {},
      body: { user: "b-1", messages: [] },
      expected: { id: "b-1", source: "body:user" },
    },
    {
      name: "skips a blank header and uses the next source",
      headers: { "x-llm-ab-unit": "   ", "x-llm-ab-conversation": "c-1" },
      body: undefined,
      expected: { id: "c-1", source: "header:x-llm-ab-conversation" },
    },
    {
      name: "trims surrounding whitespace",
      headers: { "x-llm-ab-unit": "  u-2 " },
      body: undefined,
      expected: { id: "u-2", source: "header:x-llm-ab-unit" },
    },
    {
      name: "takes the first non-empty value of a repeated header",
      headers: { "x-llm-ab-unit": ["", "u-3", "u-4"] },
      body: undefined,
      expected: { id: "u-3", source: "header:x-llm-ab-unit" },
    },
    {
      name: "accepts a numeric user field as text",
      headers: {},
      body: { user: 1234 },
      expected: { id: "1234", source: "body:user" },
    },
    { name: "finds nothing in an empty request", headers: {}, body: undefined, expected: undefined },
    {
      name: "ignores a user field that is an object",
      headers: {},
      body: { user: { id: 1 } },
      expected: undefined,
    },
    { name: "ignores a body that is not an object", headers: {}, body: ["user"], expected: undefined },
    { name: "ignores a non-finite number", headers: {}, body: { user: Number.NaN }, expected: undefined },
  ])("$name", ({ headers, body, expected }) => {
    expect(defaults({ headers, body })).toEqual(expected);
  });

  it("keeps ids up to the length limit and digests longer ones, so equal long ids stay equal", () => {
    const atLimit = "a".repeat(MAX_UNIT_ID_LENGTH);
    expect(defaults({ headers: { "x-llm-ab-unit": atLimit } })?.id).toBe(atLimit);
    const long = "b".repeat(MAX_UNIT_ID_LENGTH + 1);
    const first = defaults({ headers: { "x-llm-ab-unit": long } })?.id;
    expect(first).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(defaults({ headers: { "x-llm-ab-unit": long } })?.id).toBe(first);
  });
});

describe("unitIdResolver with configured sources", () => {
  it("uses only the spec's sources, in the spec's order", () => {
    const resolve = unitIdResolver(
      routerSpec([
        ["router", "unitSources"],
        [{ body: "user" }, { header: "X-Session-Id" }],
      ]),
    );
    expect(
      resolve({ headers: { "x-session-id": "s-1", "x-llm-ab-unit": "u-1" }, body: { user: "b-1" } }),
    ).toEqual({ id: "b-1", source: "body:user" });
    expect(resolve({ headers: { "x-session-id": "s-1", "x-llm-ab-unit": "u-1" } })).toEqual({
      id: "s-1",
      source: "header:x-session-id",
    });
    expect(resolve({ headers: { "x-llm-ab-unit": "u-1" } })).toBeUndefined();
  });
});

describe("unitIdResolver for cluster units", () => {
  const resolve = unitIdResolver(routerSpec([["unit"], "cluster:org_id"]));

  it.each([
    {
      name: "reads the cluster header before the body",
      headers: { "x-llm-ab-cluster-org_id": "acme", "x-llm-ab-unit": "u-1" },
      body: { metadata: { org_id: "globex" } },
      expected: { id: "acme", source: "header:x-llm-ab-cluster-org_id" },
    },
    {
      name: "reads metadata.<attribute> of the body",
      headers: { "x-llm-ab-unit": "u-1" },
      body: { user: "b-1", metadata: { org_id: "globex" } },
      expected: { id: "globex", source: "body:metadata.org_id" },
    },
    {
      name: "does not fall back to the user's own id",
      headers: { "x-llm-ab-unit": "u-1" },
      body: { user: "b-1" },
      expected: undefined,
    },
  ])("$name", ({ headers, body, expected }) => {
    expect(resolve({ headers, body })).toEqual(expected);
  });

  it("derives the header and attribute from the unit", () => {
    expect(clusterAttribute("cluster:team.id")).toBe("team.id");
    expect(clusterAttribute("conversation")).toBeUndefined();
    expect(clusterHeader("team.id")).toBe("x-llm-ab-cluster-team.id");
  });
});

describe("unitIdResolver for request units", () => {
  it("generates a fresh id per request and ignores unit headers", () => {
    let next = 0;
    const resolve = unitIdResolver(routerSpec([["unit"], "request"]), { newId: () => `r-${++next}` });
    expect(resolve({ headers: { "x-llm-ab-unit": "u-1" } })).toEqual({ id: "r-1", source: "generated" });
    expect(resolve({ headers: {} })).toEqual({ id: "r-2", source: "generated" });
  });

  it("uses random UUIDs by default", () => {
    const resolve = unitIdResolver(routerSpec([["unit"], "request"]));
    const a = resolve({ headers: {} });
    const b = resolve({ headers: {} });
    expect(a?.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(a?.id).not.toBe(b?.id);
  });
});
