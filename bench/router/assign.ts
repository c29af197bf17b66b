/**
 * In-process assignment decisions per second for bench/router: `Assigner.decide` over the memory
 * store (the router's default) for units it already holds and for units it has never seen, and
 * the bare `bucketOf` hash underneath both. Each is awaited one at a time, as the request path
 * does. Unit ids are made before the clock starts, in batches, so string building is not counted.
 */
import { Assigner } from "../../router/assigner.ts";
import { bucketOf } from "../../router/hash.ts";
import { MemoryStore } from "../../router/store/memory-store.ts";
import type { ExperimentSpec } from "../../spec/schema.ts";

/** One measured loop. */
export interface AssignResult {
  readonly label: string;
  readonly operations: number;
  readonly seconds: number;
  readonly perSecond: number;
  /** Whether the ≥ 1 M/s target of issue 3 applies (the decide paths; the hash alone is context). */
  readonly targeted: boolean;
}

const BATCH = 100_000;
/** Known units cycled through: a working set far larger than a CPU cache, small next to the store. */
const KNOWN_UNITS = 200_000;

function ids(prefix: string, from: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}${from + i}`);
}

/**
 * Runs `batch` over fresh batches of ids until `seconds` of measured time have passed; only the
 * time inside `batch` is counted.
 */
async function measure(
  seconds: number,
  nextIds: (batchIndex: number) => readonly string[],
  batch: (ids: readonly string[]) => Promise<void> | void,
): Promise<{ operations: number; seconds: number }> {
  let spent = 0;
  let operations = 0;
  for (let index = 0; spent < seconds * 1000; index++) {
    const units = nextIds(index);
    const started = performance.now();
    await batch(units);
    spent += performance.now() - started;
    operations += units.length;
  }
  return { operations, seconds: spent / 1000 };
}

function row(label: string, targeted: boolean, m: { operations: number; seconds: number }): AssignResult {
  return {
    label,
    targeted,
    operations: m.operations,
    seconds: m.seconds,
    perSecond: m.operations / m.seconds,
  };
}

/** Measures the three loops for `seconds` each with the experiment of `spec`. */
export async function benchAssignment(spec: ExperimentSpec, seconds: number): Promise<AssignResult[]> {
  const store = new MemoryStore({ capacity: spec.router.maxStoredUnits });
  const assigner = new Assigner({ spec, store });
  const now = Date.now();
  let sink = 0;

  const known = ids("known-", 0, KNOWN_UNITS);
  for (const unit of known) await assigner.decide(unit, now);
  const knownBatches = Array.from({ length: KNOWN_UNITS / BATCH }, (_, i) =>
    known.slice(i * BATCH, (i + 1) * BATCH),
  );
  const pickKnown = (index: number) => knownBatches[index % knownBatches.length]!;
  const decideAll = async (units: readonly string[]) => {
    for (const unit of units) sink += (await assigner.decide(unit, now)).bucket ?? 0;
  };

  const results: AssignResult[] = [];
  results.push(
    row("Assigner.decide, known unit (memory store)", true, await measure(seconds, pickKnown, decideAll)),
  );
  results.push(
    row(
      "Assigner.decide, new unit (memory store)",
      true,
      await measure(seconds, (index) => ids("new-", index * BATCH, BATCH), decideAll),
    ),
  );
  results.push(
    row(
      "bucketOf (hash only)",
      false,
      await measure(seconds, pickKnown, (units) => {
        for (const unit of units) sink += bucketOf(spec.salt, unit, spec.hashVersion);
      }),
    ),
  );
  // Keeps the loops' results observable so no engine can drop them as dead code.
  if (sink < 0) console.log(sink);
  await store.close();
  return results;
}
