/**
 * Finding the randomization unit's id in a request.
 *
 * - `user`, `conversation`, `session`: the spec's `router.unitSources`, first match wins (default:
 *   header `x-llm-ab-unit`, header `x-llm-ab-conversation`, body `user`). The spec author decides
 *   which source carries which kind of id; the router does not guess.
 * - `cluster:<attr>`: the cluster's id, not the caller's, so `unitSources` are not consulted.
 *   Header `x-llm-ab-cluster-<attr>` first (an app or gateway can set it without touching the
 *   body), then `metadata.<attr>` of the body (the OpenAI request's string-valued metadata map,
 *   which apps already use for tagging requests).
 * - `request`: every request is its own unit, so the id is always freshly generated; a header
 *   that names a user or conversation would turn request randomization into user randomization.
 *
 * Values are trimmed; an empty value counts as absent and the next source is tried. Ids longer
 * than MAX_UNIT_ID_LENGTH are replaced by a SHA-256 digest, which keeps their identity while
 * bounding store keys.
 */
import { createHash, randomUUID } from "node:crypto";
import { CLUSTER_UNIT, type RandomizationUnit } from "../spec/rollout-schema.ts";
import type { RouterSettings } from "../spec/schema.ts";

/** One place a unit id may be read from (the spec's `router.unitSources` entries). */
export type UnitSource = RouterSettings["unitSources"][number];

/** Longest unit id kept verbatim; longer ids are stored as `sha256:<hex>`. */
export const MAX_UNIT_ID_LENGTH = 256;

/** Header names as Node gives them: lowercase keys, repeated headers as arrays. */
export type RequestHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

/** The parts of a request a unit id can come from. `body` is the parsed JSON body, if any. */
export interface UnitRequest {
  readonly headers: RequestHeaders;
  readonly body?: unknown;
}

/** A unit id and where it was found, e.g. `header:x-llm-ab-unit`, `body:user`, `generated`. */
export interface ResolvedUnit {
  readonly id: string;
  readonly source: string;
}

/** Reads a request's unit id; undefined when no source holds one. */
export type UnitIdResolver = (request: UnitRequest) => ResolvedUnit | undefined;

/** Options for `unitIdResolver`. */
export interface UnitIdResolverOptions {
  /** Id generator for `request` units. Default `crypto.randomUUID`. */
  readonly newId?: () => string;
}

/** Header holding the id of a `cluster:<attribute>` unit. */
export function clusterHeader(attribute: string): string {
  return `x-llm-ab-cluster-${attribute.toLowerCase()}`;
}

/** The attribute of a `cluster:<attribute>` unit, or undefined for the other unit kinds. */
export function clusterAttribute(unit: RandomizationUnit): string | undefined {
  return CLUSTER_UNIT.test(unit) ? unit.slice("cluster:".length) : undefined;
}

/** A usable id from a raw value: strings and finite numbers, trimmed, non-empty, length-bounded. */
function normalize(raw: unknown): string | undefined {
  let text: string;
  if (typeof raw === "string") text = raw.trim();
  else if (typeof raw === "number" && Number.isFinite(raw)) text = String(raw);
  else return undefined;
  if (text.length === 0) return undefined;
  if (text.length <= MAX_UNIT_ID_LENGTH) return text;
  return `sha256:${createHash("sha256").update(text).digest("hex")}`;
}

/** The first non-empty value of a header (a repeated header arrives as an array). */
function headerValue(headers: RequestHeaders, name: string): string | undefined {
  const value = headers[name];
  if (value === undefined || typeof value === "string") return normalize(value);
  for (const item of value) {
    const id = normalize(item);
    if (id !== undefined) return id;
  }
  return undefined;
}

function field(value: unknown, key: string): unknown {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)[key]
    : undefined;
}

function fromSource(request: UnitRequest, source: UnitSource): ResolvedUnit | undefined {
  if ("header" in source) {
    const id = headerValue(request.headers, source.header);
    return id === undefined ? undefined : { id, source: `header:${source.header}` };
  }
  const id = normalize(field(request.body, source.body));
  return id === undefined ? undefined : { id, source: `body:${source.body}` };
}

/**
 * A resolver for the spec's unit kind and sources (see the module comment for the rules per kind).
 * Build it once per spec and call it per request.
 */
export function unitIdResolver(
  spec: { readonly unit: RandomizationUnit; readonly router: Pick<RouterSettings, "unitSources"> },
  options: UnitIdResolverOptions = {},
): UnitIdResolver {
  if (spec.unit === "request") {
    const newId = options.newId ?? randomUUID;
    return () => ({ id: newId(), source: "generated" });
  }
  const attribute = clusterAttribute(spec.unit);
  if (attribute !== undefined) {
    const header = clusterHeader(attribute);
    return (request) => {
      const fromHeader = headerValue(request.headers, header);
      if (fromHeader !== undefined) return { id: fromHeader, source: `header:${header}` };
      const fromBody = normalize(field(field(request.body, "metadata"), attribute));
      return fromBody === undefined ? undefined : { id: fromBody, source: `body:metadata.${attribute}` };
    };
  }
  const sources = [...spec.router.unitSources];
  return (request) => {
    for (const source of sources) {
      const found = fromSource(request, source);
      if (found !== undefined) return found;
    }
    return undefined;
  };
}
