import type { ServerResponse } from "node:http";
import { jsonByteLength, stringifyJson } from "../raw-json.js";

/** An error that renders itself as an HTTP response (thrown by handlers, caught by the router). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(
      typeof body === "object" && body !== null && "detail" in body
        ? String((body as { detail: unknown }).detail)
        : `HTTP ${status}`,
    );
  }
}

/** FastAPI-style error body, as Cog clients expect for 4xx: {"detail": "..."}. */
export function detail(status: number, message: string, headers?: Record<string, string>): HttpError {
  return new HttpError(status, { detail: message }, headers);
}

/** The contract's body for "cannot take a prediction now" (503 not ready, 409 capacity). */
export function failure(status: number, message: string): HttpError {
  return new HttpError(status, { error: message, status: "failed" });
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) return;
  // A big output kept as the worker's bytes is written as those bytes, between the JSON around it.
  const json = stringifyJson(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": jsonByteLength(json),
    ...headers,
  });
  if (typeof json === "string") return void res.end(json);
  // Corked: the pieces leave in one writev, as much as the socket takes now and the rest as it drains,
  // instead of one write syscall per piece on the event loop (3,200 for a 100 MB echo).
  res.cork();
  for (const piece of json) res.write(piece);
  res.end();
  res.uncork();
}
