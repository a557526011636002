/** Body-scanning helpers shared by the request body scanner's tests. */
import type { IncomingMessage } from "node:http";
import { Readable } from "node:stream";
import { expect } from "vitest";
import { JsonBodyScanner } from "../../src/runtime/http/json-scan.js";
import { parseScanned, readJsonBody } from "../../src/runtime/http/body.js";
import { HttpError } from "../../src/runtime/http/respond.js";

/** Scans `body` in pieces of `size` bytes and parses it as readJsonBody does. */
export function scan(body: Buffer | string, size = 65_536, bigBytes?: number) {
  const bytes = typeof body === "string" ? Buffer.from(body) : body;
  const scanner = new JsonBodyScanner(bigBytes);
  for (let i = 0; i < bytes.length; i += size) scanner.push(Buffer.from(bytes.subarray(i, i + size)));
  return { scanner, value: parseScanned(scanner) };
}

/** The 400 detail readJsonBody gives a body (in pieces of `size` bytes, or the pieces given). */
export async function refusal(body: Buffer | string | Buffer[], size = 65_536): Promise<string> {
  const pieces: Buffer[] = [];
  if (Array.isArray(body)) pieces.push(...body);
  else {
    const bytes = typeof body === "string" ? Buffer.from(body) : body;
    for (let i = 0; i < bytes.length; i += size) pieces.push(Buffer.from(bytes.subarray(i, i + size)));
  }
  const length = pieces.reduce((n, p) => n + p.length, 0);
  const req = Object.assign(Readable.from(pieces), {
    headers: { "content-type": "application/json", "content-length": String(length) },
  }) as unknown as IncomingMessage;
  try {
    await readJsonBody(req);
  } catch (err) {
    expect(err).toBeInstanceOf(HttpError);
    expect((err as HttpError).status).toBe(400);
    return ((err as HttpError).body as { detail: string }).detail;
  }
  throw new Error("the body was accepted");
}
