/**
 * Which headers a proxy passes on. Hop-by-hop headers (RFC 9110 §7.6.1) describe one connection,
 * not the message, so they stop at the router in both directions, as do the headers a
 * `Connection` header names.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http";

const HOP_BY_HOP = [
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
];

// Also set by the router itself on the upstream request: host and length belong to the new request
// (the body was reshaped), `expect` would stall it, and accept-encoding is dropped so the answer
// comes identity-encoded and its tokens stay readable (compression buys nothing on a cluster
// network for a token stream).
const REQUEST_DROPPED = new Set([...HOP_BY_HOP, "host", "content-length", "accept-encoding", "expect"]);
const RESPONSE_DROPPED = new Set(HOP_BY_HOP);

function connectionTokens(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value.join(",") : value)
    .split(",")
    .map((token) => token.trim().toLowerCase());
}

function without(
  headers: IncomingHttpHeaders,
  dropped: ReadonlySet<string>,
): Record<string, string | string[]> {
  const named = connectionTokens(headers.connection);
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || dropped.has(name) || named.includes(name)) continue;
    out[name] = value;
  }
  return out;
}

/**
 * The headers to send upstream: the client's (lowercase names, as Node parses them) minus
 * hop-by-hop ones, host, content-length, accept-encoding and expect; `content-type` is JSON, which
 * the shaped body is.
 */
export function forwardedRequestHeaders(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out = without(headers, REQUEST_DROPPED);
  out["content-type"] = "application/json";
  return out;
}

/** The headers to send the client: the upstream's minus hop-by-hop ones (Node frames the body itself). */
export function forwardedResponseHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  return without(headers, RESPONSE_DROPPED);
}
