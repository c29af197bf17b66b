import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { readUsage, SseScanner, sseContentText } from "../../router/sse.ts";

const event = (payload: unknown) => `data: ${JSON.stringify(payload)}\n\n`;
const chatChunk = (delta: object, extra: object = {}) =>
  event({
    id: "chatcmpl-1",
    object: "chat.completion.chunk",
    created: 1,
    model: "m",
    choices: [{ index: 0, delta, logprobs: null, finish_reason: null }],
    ...extra,
  });

/** A vLLM-shaped chat stream: role event, three tokens, finish, usage, [DONE]. */
const chatStream = [
  chatChunk({ role: "assistant", content: "" }),
  chatChunk({ content: "Hel" }),
  chatChunk({ content: "lo" }),
  chatChunk({ content: ' "quoted" \\ text' }),
  event({ id: "chatcmpl-1", choices: [{ index: 0, delta: {}, finish_reason: "stop" }], usage: null }),
  event({
    id: "chatcmpl-1",
    choices: [],
    usage: {
      prompt_tokens: 12,
      completion_tokens: 3,
      total_tokens: 15,
      prompt_tokens_details: { cached_tokens: 8 },
    },
  }),
  "data: [DONE]\n\n",
].join("");

function scanAll(chunks: readonly Buffer[]) {
  const scanner = new SseScanner();
  const perChunk = chunks.map((chunk) => scanner.push(chunk));
  return { scanner, content: perChunk.reduce((a, b) => a + b, 0), perChunk };
}

/** Splits bytes at the given cut points. */
function split(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
  const parts: Buffer[] = [];
  let from = 0;
  for (const point of points) {
    parts.push(bytes.subarray(from, point));
    from = point;
  }
  parts.push(bytes.subarray(from));
  return parts;
}

describe("SSE scanner", () => {
  it("counts content events, skips the role event, and reads usage and [DONE] of a chat stream", () => {
    const { scanner, content } = scanAll([Buffer.from(chatStream)]);
    expect(content).toBe(3);
    expect(scanner.usage).toEqual({ promptTokens: 12, completionTokens: 3, cachedPromptTokens: 8 });
    expect(scanner.done).toBe(true);
    expect(scanner.events).toBe(7);
    expect(scanner.errors).toBe(0);
  });

  it("reports each content event in the chunk it completes in", () => {
    const events = chatStream.split(/(?<=\n\n)/).map((text) => Buffer.from(text));
    expect(scanAll(events).perChunk).toEqual([0, 1, 1, 1, 0, 0, 0]);
  });

  it("gives the same answer however the stream is cut into chunks and whatever its line endings", () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat(), { maxLength: 30 }),
        fc.constantFrom("\n", "\r\n", "\r"),
        (cuts, newline) => {
          const bytes = Buffer.from(chatStream.replace(/\n/g, newline));
          const { scanner, content } = scanAll(split(bytes, cuts));
          expect(content).toBe(3);
          expect(scanner.usage?.completionTokens).toBe(3);
          expect(scanner.done).toBe(true);
        },
      ),
    );
  });

  it("agrees with JSON.parse on which events carry content, for any strings and formatting", () => {
    const text = fc.oneof(fc.string(), fc.constantFrom('"content":"x"', '\\"text\\": \\"', "\\", '"', ""));
    const delta = fc.record(
      {
        role: fc.constant("assistant"),
        content: fc.oneof(text, fc.constant(null)),
        reasoning_content: text,
        tool_calls: fc.array(fc.record({ index: fc.nat(), id: text }), { maxLength: 2 }),
      },
      { requiredKeys: [] },
    );
    const payload = fc.record({
      id: text,
      model: text,
      choices: fc.array(fc.record({ index: fc.nat(), delta, logprobs: fc.constant(null), note: text }), {
        maxLength: 2,
      }),
      extra: fc.dictionary(text, text, { maxKeys: 3 }),
    });
    const carriesContent = (value: unknown, key?: string): boolean => {
      if (typeof value === "string")
        return ["content", "text", "reasoning_content", "reasoning"].includes(key ?? "") && value !== "";
      if (Array.isArray(value))
        return (key === "tool_calls" && value.length > 0) || value.some((item) => carriesContent(item));
      if (value !== null && typeof value === "object")
        return Object.entries(value).some(([k, v]) => carriesContent(v, k));
      return false;
    };
    fc.assert(
      fc.property(
        fc.array(payload, { maxLength: 6 }),
        fc.constantFrom(0, 1, 2),
        fc.array(fc.nat(), { maxLength: 10 }),
        (payloads, indent, cuts) => {
          // Pretty-printed JSON spans lines: each becomes one data line per JSON line, as SSE allows.
          const stream = payloads
            .map(
              (each) =>
                `${JSON.stringify(each, null, indent)
                  .split("\n")
                  .map((line) => `data: ${line}`)
                  .join("\n")}\n\n`,
            )
            .join("");
          const expected = payloads.filter((each) => carriesContent(each)).length;
          expect(scanAll(split(Buffer.from(stream), cuts)).content).toBe(expected);
        },
      ),
    );
  });

  it.each<[string, string, number]>([
    ["completion text", event({ choices: [{ index: 0, text: "Hi", finish_reason: null }] }), 1],
    ["empty completion text", event({ choices: [{ index: 0, text: "", finish_reason: "length" }] }), 0],
    ["null content", chatChunk({ content: null }), 0],
    ["reasoning content (generated before the answer)", chatChunk({ reasoning_content: "think" }), 1],
    ["a tool call", chatChunk({ tool_calls: [{ index: 0, function: { arguments: "{" } }] }), 1],
    ["an empty tool-call list", chatChunk({ content: "", tool_calls: [] }), 0],
    [
      "logprobs content (a list, not text)",
      chatChunk({ content: "" }, { logprobs: { content: [{ token: "x" }] } }),
      0,
    ],
    [
      "text that only looks like a key inside a string",
      chatChunk({ content: "" }, { note: '"text":"x"' }),
      0,
    ],
    ["pretty-printed JSON", `data: {"choices": [ {"delta" : {"content" : "a"}} ]}\n\n`, 1],
    [
      "a comment, event name and id around the data",
      `: keep-alive\nevent: message\nid: 7\n${chatChunk({ content: "a" })}`,
      1,
    ],
    ["data split over two lines", `data: {"choices":[{"delta":\ndata: {"content":"a"}}]}\n\n`, 1],
    ["a field whose name starts with data", `database: {"content":"a"}\n\n`, 0],
    ["a data line never ended by a blank line", `data: {"content":"a"}\n`, 0],
  ])("reads %s", (_, text, expected) => {
    expect(scanAll([Buffer.from(text)]).content).toBe(expected);
  });

  it("counts events with an error object, which a server may send inside a 200 stream", () => {
    const { scanner, content } = scanAll([
      Buffer.from(event({ error: { message: "engine died", code: 500 } })),
      Buffer.from(chatChunk({ content: "" }, { error: null })),
    ]);
    expect(scanner.errors).toBe(1);
    expect(content).toBe(0);
  });

  it("keeps the last usage when the engine reports it on every event", () => {
    const { scanner } = scanAll([
      Buffer.from(chatChunk({ content: "a" }, { usage: { prompt_tokens: 5, completion_tokens: 1 } })),
      Buffer.from(chatChunk({ content: "b" }, { usage: { prompt_tokens: 5, completion_tokens: 2 } })),
    ]);
    expect(scanner.usage).toEqual({ promptTokens: 5, completionTokens: 2 });
  });

  it("stops reading (but does not throw) when a line grows past 1 MiB", () => {
    const scanner = new SseScanner();
    scanner.push(Buffer.alloc(600_000, 0x61));
    scanner.push(Buffer.alloc(600_000, 0x61));
    expect(scanner.gaveUp).toBe(true);
    expect(scanner.push(Buffer.from(chatChunk({ content: "a" })))).toBe(0);
  });
});

describe("usage and text of OpenAI answers", () => {
  it.each<[string, unknown, ReturnType<typeof readUsage>]>([
    ["both counts", { prompt_tokens: 3, completion_tokens: 4 }, { promptTokens: 3, completionTokens: 4 }],
    [
      "cached prompt tokens",
      { prompt_tokens: 3, completion_tokens: 4, prompt_tokens_details: { cached_tokens: 2 } },
      { promptTokens: 3, completionTokens: 4, cachedPromptTokens: 2 },
    ],
    ["null (usage not requested)", null, undefined],
    ["a missing completion count", { prompt_tokens: 3 }, undefined],
    ["counts given as text", { prompt_tokens: "3", completion_tokens: "4" }, undefined],
  ])("reads usage with %s", (_, usage, expected) => {
    expect(readUsage(usage)).toEqual(expected);
  });

  it("joins the generated text of a stream for the shadow log", () => {
    expect(sseContentText(chatStream)).toBe('Hello "quoted" \\ text');
    expect(
      sseContentText(
        `${event({ choices: [{ text: "a" }] })}data: not json\n\n${event({ choices: [{ text: "b" }] })}`,
      ),
    ).toBe("ab");
  });
});
