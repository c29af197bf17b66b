/**
 * Real ArenaRuns for report tests: a project directory like test/arena/run.test.ts's (the
 * prompt-duel spec with a gate, 30 golden cases, a three-axis rubric, optionally an audit file and
 * embeddings), run by `runArena` against the deterministic arena server with a chosen judge.
 *
 * The treatment cites the policy on cases 1–24 and answers like control on 25–30. Case 3's
 * treatment answer and every judge reason carry hostile markup, so a report that forgets to escape
 * model text shows it.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { type ArenaRun, runArena } from "../../arena/run.ts";
import { lastUserText, type RequestBody, startArenaServer, tagged } from "../helpers/arena-server.ts";

export const CASES = 30;
/** The treatment cites the policy on cases 1..CITES. */
export const CITES = 24;
export const AXES = ["clarity", "accuracy", "policy_citation"] as const;
export const HOSTILE_ANSWER = `</pre><script>alert("answer")</script><img src=x onerror=alert(1)>`;
export const HOSTILE_REASON = `<img src="https://evil.example/x.png" onerror="alert('judge')">`;

const id = (i: number) => `c${String(i).padStart(2, "0")}`;
const POLICY_PROMPT = "cite the relevant return or shipping policy";

function candidate(body: RequestBody): string {
  const messages = body.messages as { role: string; content: string }[];
  const treatment = messages.some((m) => m.role === "system" && m.content.includes(POLICY_PROMPT));
  const n = Number(/Question (\d+)/.exec(lastUserText(body))?.[1]);
  if (!treatment || n > CITES) return "We will look into your order.";
  const hostile = n === 3 ? ` ${HOSTILE_ANSWER}` : "";
  return `Per our return policy (section ${n}), your order qualifies: here is what happens next.${hostile}`;
}

/**
 * How the judge behaves:
 * - `content`: prefers the answer citing a policy; citation scores 5 or 2, clarity and accuracy 4.
 * - `clarity-drop`: as `content`, but clarity falls to 3 on every fourth citing answer, so the
 *   clarity bound crosses −0.25 while the win rate passes.
 * - `position`: always prefers the answer shown first (every pair position-inconsistent).
 */
export type JudgeKind = "content" | "clarity-drop" | "position";

function judge(kind: JudgeKind) {
  return (body: RequestBody): string => {
    const text = lastUserText(body);
    const a = tagged(text, "answer_a");
    const b = tagged(text, "answer_b");
    if (a !== undefined && b !== undefined) {
      if (kind === "position") return JSON.stringify({ preferred: "A", reason: HOSTILE_REASON });
      const [pa, pb] = [a.includes("policy"), b.includes("policy")];
      return JSON.stringify({ preferred: pa === pb ? "tie" : pa ? "A" : "B", reason: HOSTILE_REASON });
    }
    const answer = tagged(text, "answer") ?? "";
    const section = Number(/section (\d+)/.exec(answer)?.[1] ?? 1);
    const clarity = kind === "clarity-drop" && section % 4 === 0 ? 3 : 4;
    const citation = answer.includes("policy") ? 5 : 2;
    return JSON.stringify({
      scores: { clarity, accuracy: 4, policy_citation: citation },
      reason: "scripted",
    });
  };
}

export interface FixtureOptions {
  readonly judge: JudgeKind;
  /** Human labels on c09–c28 (people agree with the content judge on 17 of 20). Default true. */
  readonly audit?: boolean;
  /** Level-2 similarity through the server's bag-of-words embeddings. Default false. */
  readonly embeddings?: boolean;
}

/** Runs the arena on a fresh project in a temporary directory, then removes it. */
export async function arenaRunFixture(options: FixtureOptions): Promise<ArenaRun> {
  const dir = await mkdtemp(join(tmpdir(), "llm-ab-arena-report-"));
  const server = await startArenaServer({ answer: candidate, judge: judge(options.judge) });
  try {
    const spec = parse(await readFile("examples/support-bot-policy-prompt.yaml", "utf8")) as Record<
      string,
      unknown
    >;
    spec.gate = {
      required: true,
      minWinRateLowerBound: 0.5,
      maxAxisRegression: 0.25,
      minJudgeAgreement: 0.5,
    };
    await writeFile(join(dir, "spec.yaml"), stringify(spec));
    const cases = Array.from({ length: CASES }, (_, k) => {
      const n = k + 1;
      return JSON.stringify({
        id: id(n),
        messages: [{ role: "user", content: `Question ${n}: where is my order? <b>urgent</b>` }],
        context: "Return policy: unworn items within 30 days.",
        reference: "Per our return policy, your order qualifies.",
        tags: n === 1 ? ["critical"] : ["shipping"],
        // Control never cites the policy, so case 2's check fails for control only.
        checks:
          n === 1
            ? [{ kind: "contains", text: "order" }]
            : n === 2
              ? [{ kind: "contains", text: "policy" }]
              : [],
      });
    });
    await writeFile(join(dir, "golden.jsonl"), `${cases.join("\n")}\n`);
    await writeFile(
      join(dir, "rubric.yaml"),
      stringify({
        name: "support",
        axes: AXES.map((axis) => ({
          name: axis,
          description: `${axis} of the answer`,
          anchors: { "1": "poor", "3": "fair", "5": "excellent" },
        })),
      }),
    );
    const audit = Array.from({ length: 20 }, (_, k) => {
      const n = k + 9;
      const preferred =
        n === 9 || n === 10 ? "tie" : n === 25 ? "treatment" : n <= CITES ? "treatment" : "tie";
      return JSON.stringify({ caseId: id(n), preferred });
    });
    await writeFile(join(dir, "audit.jsonl"), `${audit.join("\n")}\n`);
    await writeFile(
      join(dir, "arena.yaml"),
      stringify({
        spec: "spec.yaml",
        dataset: "golden.jsonl",
        rubric: "rubric.yaml",
        ...(options.audit === false ? {} : { audit: "audit.jsonl" }),
        endpoints: { "chat-8b": server.url },
        judge: { url: server.url, model: "judge" },
        ...(options.embeddings ? { embeddings: { url: server.url, model: "embed" } } : {}),
        cache: "cache",
        concurrency: 8,
      }),
    );
    await mkdir(join(dir, "out"), { recursive: true });
    return await runArena({ configPath: join(dir, "arena.yaml"), outDir: join(dir, "out") });
  } finally {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
