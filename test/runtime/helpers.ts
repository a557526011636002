import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { startServer, type RunningServer, type ServerOptions } from "../../src/runtime/server.js";

export const FIXTURES = fileURLToPath(new URL("./fixtures/", import.meta.url));
export const TEST_WORKER = fileURLToPath(new URL("./fixtures/test-worker.mjs", import.meta.url));

/** Starts the server on port 0 with a fixture predictor (quiet logs) and waits for setup to end. */
export async function startFixture(name: string, extra: Partial<ServerOptions> = {}): Promise<RunningServer> {
  const server = await startServer({
    root: FIXTURES,
    predictor: { language: "node", file: "predictors.mjs", name },
    host: "127.0.0.1",
    port: 0,
    logLevel: "silent",
    nodeWorkerEntry: TEST_WORKER,
    webhookRetryDelaysMs: [10, 20, 40, 80, 100, 100, 100, 100, 100, 100],
    ...extra,
  });
  await server.ready;
  return server;
}

export interface JsonResponse {
  status: number;
  headers: Headers;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  text: string;
}

export async function request(
  base: string,
  path: string,
  init: { method?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {},
): Promise<JsonResponse> {
  const headers: Record<string, string> = { ...init.headers };
  let body: string | undefined = init.raw;
  if (init.body !== undefined) {
    body = JSON.stringify(init.body);
    headers["content-type"] ??= "application/json";
  }
  const res = await fetch(base + path, { method: init.method ?? (body === undefined ? "GET" : "POST"), headers, body });
  const text = await res.text();
  let parsed: unknown = undefined;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

export interface Received {
  path: string;
  headers: IncomingMessage["headers"];
  body: string;
}

/** A local HTTP receiver (webhooks, uploads) that records requests; `respond` picks the status. */
export async function startReceiver(
  respond: (r: Received, n: number) => { status: number; headers?: Record<string, string> } = () => ({ status: 200 }),
): Promise<{ url: string; received: Received[]; server: Server; waitFor: (n: number, ms?: number) => Promise<void>; close: () => Promise<void> }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const r = { path: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString("utf8") };
      received.push(r);
      const { status, headers } = respond(r, received.length);
      res.writeHead(status, headers).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const waitFor = async (n: number, ms = 5000): Promise<void> => {
    const end = Date.now() + ms;
    while (received.length < n) {
      if (Date.now() > end) throw new Error(`expected ${n} requests, got ${received.length}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  const close = () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); });
  return { url, received, server, waitFor, close };
}

export async function eventually<T>(fn: () => T | Promise<T>, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > end) throw err;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/** Parses an SSE body into {event, data} records. */
export function parseSse(text: string): { event: string; data: any }[] { // eslint-disable-line @typescript-eslint/no-explicit-any
  return text
    .split("\n\n")
    .filter((b) => b.includes("event:"))
    .map((b) => {
      const event = /^event: (.*)$/m.exec(b)?.[1] ?? "";
      const data = b.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n");
      return { event, data: JSON.parse(data) };
    });
}
