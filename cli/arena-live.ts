/**
 * `llm-ab arena judge-live <config> --log <events.jsonl>`: the arena's rubric judge on a sampled
 * slice of live answers from the router's log (arena/live.ts). The arena config gives the judge,
 * the rubric, the cache and the spec (its control variant, its alpha, its experiment name).
 *
 * Exit codes: 0 judged (or nothing to judge), 1 bad input or a failed judge call (the message
 * names the log file and line).
 */
import { resolve } from "node:path";
import { type Command, InvalidArgumentError } from "commander";
import { controlVariant } from "../analysis/variants.ts";
import { ResultsCache } from "../arena/cache.ts";
import { loadArenaConfig } from "../arena/config.ts";
import { Judge } from "../arena/judges.ts";
import {
  type JudgedOutcome,
  judgedOutcomes,
  judgeSlice,
  LiveLogError,
  type LiveSlice,
  type LiveSummary,
  mergeOutcomes,
  readLiveSlice,
  summarizeLive,
  writeOutcomes,
} from "../arena/live.ts";
import { loadRubric, RubricError, rubricHash } from "../arena/rubric.ts";
import type { Rubric } from "../arena/types.ts";
import { SpecError } from "../spec/errors.ts";
import { loadSpecFile } from "../spec/load.ts";
import { CliError } from "./errors.ts";
import type { CliIo } from "./main.ts";

interface LiveFlags {
  log: string;
  sample: number;
  max: number;
  out?: string;
  merge?: string;
  json?: boolean;
  progress: boolean;
}

function parseShare(value: string): number {
  const share = Number(value);
  if (!(share > 0 && share <= 1))
    throw new InvalidArgumentError(`expected a share in (0, 1] such as 0.1, got "${value}"`);
  return share;
}

function parseMax(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError(`expected a positive whole number, got "${value}"`);
  return n;
}

const fixed = (x: number) => x.toFixed(2);
const signed = (x: number) => `${x >= 0 ? "+" : ""}${x.toFixed(2)}`;
const interval = (ci: readonly [number, number] | null, format = fixed) =>
  ci === null ? "(n < 2)" : `[${format(ci[0])}, ${format(ci[1])}]`;

function pad(rows: string[][]): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? "").length))) ?? [];
  return rows.map((row) => `  ${row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join("  ")}`.trimEnd());
}

/** The summary as the terminal shows it. */
function renderLive(
  slice: LiveSlice,
  summary: LiveSummary,
  judged: number,
  judge: Judge,
  rubric: Rubric,
  files: { out: string; scores: number; merge?: string; merged?: number },
): string {
  const level = `${Math.round((1 - summary.alpha) * 1000) / 10} %`;
  const { failedShadow, blank } = slice.skipped;
  const lines = [
    `${slice.file}: ${slice.read} records read, ${slice.withText.exposure + slice.withText.shadow} with answer text (${slice.withText.exposure} exposures, ${slice.withText.shadow} shadow), ${slice.sampled} sampled, ${slice.records.length} judged (${judged} answers)`,
  ];
  if (failedShadow + blank > 0)
    lines.push(`skipped: ${failedShadow} failed mirrored calls, ${blank} blank answers`);
  const { model, endpoint, temperature, seed, promptVersion } = judge.config;
  lines.push(
    `judge: ${model} at ${endpoint} (temperature ${temperature}, seed ${seed}, prompt ${promptVersion}); rubric "${rubric.name}" (${rubricHash(rubric).slice(0, 12)})`,
    "the log keeps no prompts: each answer is judged on its own",
  );
  for (const source of ["exposure", "shadow"] as const) {
    const groups = summary.variants.filter((group) => group.source === source);
    if (groups.length === 0) continue;
    const title =
      source === "exposure"
        ? "A/B answers, by the variant that served them"
        : "Shadow answers (no user saw the treatment's)";
    lines.push("", `${title}: mean score with ${level} CI`);
    const header = ["variant", "answers", ...rubric.axes.map((axis) => axis.name)];
    const rows = groups.map((group) => [
      group.variant,
      String(group.answers),
      ...group.axes.map((axis) => `${fixed(axis.mean)} ${interval(axis.ci)}`),
    ]);
    lines.push(...pad([header, ...rows]));
  }
  for (const pair of summary.pairs) {
    lines.push(
      "",
      `Shadow pairs, ${pair.treatment} − ${pair.control} on the same requests (paired t, ${level} CI):`,
    );
    const rows = pair.axes.map(({ axis, diff }) =>
      diff === null
        ? [axis, `${pair.pairs} pair`, "needs at least 2 pairs"]
        : [
            axis,
            `${diff.n} pairs`,
            `${signed(diff.meanDiff)} ${interval(diff.ci, signed)}`,
            `p = ${diff.pValue.toPrecision(2)}`,
          ],
    );
    lines.push(...pad([["axis", "pairs", "difference"], ...rows]));
  }
  if (judged === 0) {
    lines.push(
      "",
      "nothing to judge: no sampled record carries answer text (A/B exposures carry none yet; shadow records do)",
    );
  } else if (files.merge === undefined && summary.variants.some((group) => group.source === "exposure")) {
    lines.push(
      "",
      "to test the A/B difference per unit: rerun with --merge <file>, then llm-ab analyze <spec> --data <file>",
    );
  }
  lines.push("", `wrote ${files.out}: ${files.scores} judge scores as outcome records, each with its judge`);
  if (files.merge !== undefined) {
    lines.push(
      `wrote ${files.merge}: the log with ${files.merged} judge outcomes appended (llm-ab analyze <spec> --data ${files.merge}, with judge_<axis> metrics declared in the spec)`,
    );
  }
  return `${lines.join("\n")}\n`;
}

function inputError(error: unknown): CliError | undefined {
  if (error instanceof SpecError || error instanceof RubricError || error instanceof LiveLogError) {
    return new CliError(error.message);
  }
  return undefined;
}

/** Adds `judge-live` to the `arena` command. */
export function registerArenaLive(arena: Command, io: CliIo): void {
  arena
    .command("judge-live")
    .description("Judge a sampled slice of live answers from the router's log with the arena's rubric judge")
    .argument("<config>", "arena config (YAML): the judge, the rubric, the cache and the spec")
    .requiredOption("--log <file>", "the router's event log or shadow log (JSONL)")
    .option(
      "--sample <share>",
      "share of requests judged, chosen by a hash of the request id",
      parseShare,
      0.1,
    )
    .option("--max <n>", "most records judged (those of smallest hash)", parseMax, 500)
    .option("--out <file>", "the judge scores as outcome records (default: <log>.judged.jsonl)")
    .option(
      "--merge <file>",
      "also write a copy of the log with the A/B judge outcomes appended, for analyze",
    )
    .option("--json", "print the result as JSON")
    .option("--no-progress", "no progress on stderr")
    .addHelpText(
      "after",
      `
Shadow logs: both answers of each sampled request are judged and compared pairwise here; a shadow
experiment exposed nobody to the treatment, so its scores are never merged for analyze.
Judge calls are cached in the config's cache directory: a rerun judges the same requests for free.`,
    )
    .action(async (configPath: string, flags: LiveFlags) => {
      const log = flags.log;
      const out = flags.out ?? `${log}.judged.jsonl`;
      for (const [option, path] of [
        ["--out", out],
        ["--merge", flags.merge],
      ] as const) {
        if (path !== undefined && resolve(path) === resolve(log))
          throw new CliError(`${option} ${path} is the log itself: write the judged records to another file`);
      }
      try {
        const config = await loadArenaConfig(configPath);
        const spec = await loadSpecFile(config.spec);
        const rubric = await loadRubric(config.rubric);
        let control: string;
        try {
          control = controlVariant(spec);
        } catch (error) {
          throw new CliError(`${config.spec}: ${(error as Error).message}`);
        }
        const slice = await readLiveSlice(log, {
          sample: flags.sample,
          max: flags.max,
          controlVariant: control,
        });
        if (slice.experiment !== undefined && slice.experiment.name !== spec.name) {
          throw new CliError(
            `${log}:${slice.experiment.line}: the log is experiment "${slice.experiment.name}" but ${config.spec} (from ${configPath}) is "${spec.name}": judge a log with its experiment's arena config`,
          );
        }
        if (flags.merge !== undefined && slice.withText.exposure === 0) {
          throw new CliError(
            `--merge: ${log} has no A/B exposures with answer text${slice.withText.shadow > 0 ? ` (only ${slice.withText.shadow} shadow records)` : ""}. A shadow experiment served every user control, so analyze has no treatment arm (it refuses shadow specs); its judged pairs are compared in this command's output`,
          );
        }
        const judge = new Judge({
          endpoint: config.judge.url,
          model: config.judge.model,
          seed: config.seed,
          temperature: config.judge.temperature,
          concurrency: config.concurrency,
          cache: new ResultsCache(config.cache),
          post: { timeoutMs: config.timeoutSeconds * 1000, retries: config.retries },
        });
        const tty = process.stderr.isTTY === true;
        const scores = await judgeSlice(slice, judge, rubric, (done, total) => {
          if (!flags.progress) return;
          if (tty) io.err(`\r\x1b[Kjudge-live: ${done}/${total}${done === total ? "\r\x1b[K" : ""}`);
          else if (done === total) io.err(`judge-live: ${done}/${total} answers judged\n`);
        });
        const outcomes: JudgedOutcome[] = judgedOutcomes(scores, rubric);
        const writing = async <T>(path: string, write: () => Promise<T>): Promise<T> => {
          try {
            return await write();
          } catch (error) {
            throw new CliError(`cannot write ${path}: ${(error as Error).message}`);
          }
        };
        await writing(out, () => writeOutcomes(out, outcomes));
        const merge = flags.merge;
        const merged =
          merge === undefined ? undefined : await writing(merge, () => mergeOutcomes(log, merge, outcomes));
        const summary = summarizeLive(scores, rubric, spec.analysis.alpha);
        const files = {
          out,
          scores: outcomes.length,
          ...(flags.merge === undefined ? {} : { merge: flags.merge, merged }),
        };
        if (flags.json) {
          const { records: _records, ...counts } = slice;
          const result = {
            ...counts,
            judgedRecords: slice.records.length,
            judgedAnswers: scores.length,
            judge: judge.config,
            rubric: { name: rubric.name, hash: rubricHash(rubric) },
            summary,
            files,
          };
          io.out(`${JSON.stringify(result, null, 2)}\n`);
        } else {
          io.out(renderLive(slice, summary, scores.length, judge, rubric, files));
        }
      } catch (error) {
        throw inputError(error) ?? error;
      }
    });
}
