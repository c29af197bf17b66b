/**
 * Reading a request body: bounded in size (a body over the limit is a 413, not a router out of
 * memory), and parsed as JSON with errors that say where the text broke (line, column), since the
 * person reading the 400 usually has the request text in front of them.
 */
import type { IncomingMessage } from "node:http";
import { HttpError } from "./http-errors.ts";

/** Largest request body accepted by default: 8 MiB, room for long multi-turn chats with images by URL. */
export const DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024;

function describeBytes(bytes: number): string {
  if (bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  if (bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}

function tooLarge(limit: number, size: string): HttpError {
  return new HttpError(
    413,
    "body_too_large",
    `the request body (${size}) is larger than the router's limit of ${describeBytes(limit)}; send a smaller request`,
    // The rest of the body is not read: ask the client to open a new connection for its next request.
    { headers: { connection: "close" } },
  );
}

/**
 * The whole body of `req`, at most `limit` bytes. Rejects with a 413 HttpError when the declared
 * `content-length` or the bytes received exceed the limit; the rest of the upload is then read and
 * discarded, so the client gets the answer rather than a reset connection.
 */
export function readBody(req: IncomingMessage, limit = DEFAULT_MAX_BODY_BYTES): Promise<Buffer> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return Promise.reject(tooLarge(limit, `${declared} bytes`));
  }
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        // Keep draining (without keeping) so the client can finish sending and read the 413.
        req.resume();
        reject(tooLarge(limit, `more than ${limit} bytes`));
        return;
      }
      parts.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, size));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(new HttpError(400, "body_unreadable", `the request body could not be read: ${error.message}`));
    };
    // A client that disconnects mid-upload may close the request without an error: settle anyway,
    // or the request would count as in flight until shutdown.
    const onClose = () => onError(new Error("the client disconnected before sending all of it"));
    const cleanup = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      req.off("close", onClose);
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
    req.on("close", onClose);
  });
}

/** Line and column (1-based) of a character offset in `text`. */
function lineAndColumn(text: string, offset: number): [line: number, column: number] {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return [line, offset - lineStart + 1];
}

/**
 * The offset where `text` stops being JSON, found by a small validating scan. Used when V8's message
 * has no position (`Unexpected token 'x', "..." is not valid JSON`); off the hot path. Undefined
 * when the text nests too deep to scan (the message then goes without a position).
 */
export function jsonErrorOffset(text: string): number | undefined {
  let i = 0;
  const n = text.length;
  const fail = (): never => {
    throw i;
  };
  const space = () => {
    for (let c = text.charCodeAt(i); c === 32 || c === 9 || c === 10 || c === 13; c = text.charCodeAt(++i));
  };
  const string = () => {
    i++;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 34) {
        i++;
        return;
      }
      if (c < 0x20) fail();
      if (c === 92) {
        i++;
        if (text[i] === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) fail();
          i += 4;
        } else if (!'"\\/bfnrt'.includes(text[i] ?? "")) fail();
      }
      i++;
    }
    fail();
  };
  const numberPattern = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
  const value = (depth: number): void => {
    if (depth > 2_000) throw -1;
    space();
    const c = text[i];
    if (c === "{" || c === "[") {
      const close = c === "{" ? "}" : "]";
      i++;
      space();
      if (text[i] === close) {
        i++;
        return;
      }
      for (;;) {
        if (c === "{") {
          space();
          if (text[i] !== '"') fail();
          string();
          space();
          if (text[i] !== ":") fail();
          i++;
        }
        value(depth + 1);
        space();
        if (text[i] === ",") i++;
        else if (text[i] === close) {
          i++;
          return;
        } else fail();
      }
    }
    if (c === '"') {
      string();
      return;
    }
    for (const word of ["true", "false", "null"]) {
      if (c === word[0]) {
        if (!text.startsWith(word, i)) fail();
        i += word.length;
        return;
      }
    }
    numberPattern.lastIndex = i;
    if (!numberPattern.test(text)) fail();
    i = numberPattern.lastIndex;
  };
  try {
    value(0);
    space();
    return i < n ? i : undefined;
  } catch (offset) {
    return typeof offset === "number" && offset >= 0 ? offset : undefined;
  }
}

/** The 400 message for a JSON.parse error: V8's reason with the line and column where it broke. */
function syntaxErrorMessage(text: string, error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const position = /at position (\d+)/.exec(message);
  const offset = position
    ? Number(position[1])
    : message.includes("Unexpected end of JSON input")
      ? text.length
      : jsonErrorOffset(text);
  // V8 may quote the whole text ("Unexpected token 'x', "<text>" is not valid JSON"): keep the reason.
  const reason = message
    .replace(/^(Unexpected token .+?), ".*" is not valid JSON$/s, "$1")
    .replace(/ (?:in|after) JSON at position \d+.*$/s, (found) =>
      found.startsWith(" after") ? " after the JSON value" : "",
    )
    .replace(/ \(line \d+ column \d+\)$/, "")
    .replace(/\s+/g, " ");
  if (offset === undefined) return `the request body is not valid JSON: ${reason}`;
  const [line, column] = lineAndColumn(text, offset);
  return `the request body is not valid JSON at line ${line}, column ${column} (character ${offset}): ${reason}`;
}

/**
 * The body parsed as a JSON object. A 400 HttpError names the problem: empty body, a syntax error
 * with its line and column, or JSON that is not an object (an array, a string, ...).
 */
export function parseJsonObject(body: Buffer): Record<string, unknown> {
  const text = body.toString("utf8");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    // Checked only on failure: trimming a large body on every request would copy it.
    if (text.trim() === "") {
      throw new HttpError(400, "empty_body", "the request body is empty: send a JSON object");
    }
    throw new HttpError(400, "invalid_json", syntaxErrorMessage(text, error), { cause: error });
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    const kind = value === null ? "null" : Array.isArray(value) ? "an array" : `a ${typeof value}`;
    throw new HttpError(400, "invalid_body", `the request body must be a JSON object, got ${kind}`);
  }
  return value as Record<string, unknown>;
}
