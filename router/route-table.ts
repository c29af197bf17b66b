/**
 * A fixed table of routes for a node:http server: exact paths (query strings ignored), one handler
 * per method. Anything else is answered with a JSON error a person can act on: an unknown path
 * lists the routes there are, a known path with the wrong method says which methods it takes (and
 * sets `Allow`, RFC 9110 §15.5.6). Both router ports use it.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import { asHttpError, HttpError, sendError } from "./http-errors.ts";

/** Handles one request; a thrown HttpError becomes its answer, anything else a 500. */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void> | void;

/** Methods the router serves. */
export type Method = "GET" | "POST";

/** Handlers by path, then by method. */
export type Routes = Readonly<Record<string, Partial<Record<Method, RouteHandler>>>>;

/** Options of {@link routeTable}. */
export interface RouteTableOptions {
  /** Called with every error answered with a 5xx (and its request), for the log. Default: ignored. */
  readonly onServerError?: (error: HttpError, req: IncomingMessage) => void;
  /** Named in the 404 message, e.g. "the proxy port". */
  readonly portName?: string;
}

function pathOf(url: string | undefined): string {
  if (url === undefined) return "/";
  const query = url.indexOf("?");
  return query < 0 ? url : url.slice(0, query);
}

/** The `METHOD /path` list of a table, for 404 messages. */
export function listRoutes(routes: Routes): string[] {
  return Object.entries(routes).flatMap(([path, methods]) =>
    Object.keys(methods).map((method) => `${method} ${path}`),
  );
}

/** A request listener that dispatches on `routes` and answers everything else with JSON errors. */
export function routeTable(routes: Routes, options: RouteTableOptions = {}): RequestListener {
  const known = listRoutes(routes).join(", ");
  const where = options.portName === undefined ? "" : ` on ${options.portName}`;
  const fail = (req: IncomingMessage, res: ServerResponse, error: unknown) => {
    const httpError = asHttpError(error);
    if (httpError.status >= 500) options.onServerError?.(httpError, req);
    sendError(res, httpError);
  };
  return (req, res) => {
    const path = pathOf(req.url);
    const methods = routes[path];
    if (methods === undefined) {
      fail(
        req,
        res,
        new HttpError(404, "route_not_found", `no route ${req.method} ${path}${where}; routes: ${known}`),
      );
      return;
    }
    const handler = methods[req.method as Method];
    if (handler === undefined) {
      const allowed = Object.keys(methods).join(", ");
      fail(
        req,
        res,
        new HttpError(405, "method_not_allowed", `${path} does not accept ${req.method}: use ${allowed}`, {
          headers: { allow: allowed },
        }),
      );
      return;
    }
    try {
      const done = handler(req, res);
      if (done !== undefined) done.catch((error: unknown) => fail(req, res, error));
    } catch (error) {
      fail(req, res, error);
    }
  };
}
