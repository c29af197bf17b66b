/** Parsed specs for the router tests: the prompt-duel example with patches applied. */
import { parseSpec } from "../../spec/load.ts";
import type { ExperimentSpec } from "../../spec/schema.ts";
import { exampleInput, type Patch, patched } from "../spec/spec-fixtures.ts";

export type { Patch } from "../spec/spec-fixtures.ts";

/** The prompt-duel example (ab, 10 %, unit conversation, memory store) with `patches` applied. */
export function routerSpec(...patches: Patch[]): ExperimentSpec {
  return parseSpec(patched(exampleInput(), patches), "router test spec");
}

/** A variant entry for patches: another treatment on the example's deployment. */
export const extraVariant = { deployment: "chat-8b", systemPrompt: "Be brief." } as const;
