import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { copyFileSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { afterAll, afterEach } from "vitest";
import { compileTsPredictor } from "../../src/build/ts-predictor.js";
import { startServer, type RunningServer, type ServerOptions } from "../../src/runtime/server.js";
import { bundleServer } from "../../scripts/bundle-server.mjs";

const REPO = fileURLToPath(new URL("../../", import.meta.url));

export interface FixtureProject {
  /** Project root holding the compiled fixture module. */
  root: string;
  /** The compiled predictors module, relative to root (what KILN_PREDICTOR names). */
  module: string;
  /** The real node worker, bundled like dist/runtime-bundle/node-worker.mjs. */
  worker: string;
}

let project: Promise<FixtureProject> | null = null;
const createdRoots: string[] = [];
// Registered at import (collection) time, so it runs once at the end of each test file.
afterAll(() => {
  for (const root of createdRoots.splice(0)) rmSync(root, { recursive: true, force: true });
});

/** This suite's temp dirs older than an hour are leftovers of an interrupted run: remove them. */
function removeStaleFixtures(): void {
  for (const name of readdirSync(tmpdir())) {
    if (!/^kiln-(server-fixture|files-test|hostile-test)-/.test(name)) continue;
    const path = join(tmpdir(), name);
    try {
      if (Date.now() - statSync(path).mtimeMs > 3_600_000) rmSync(path, { recursive: true, force: true });
    } catch {
      // another test file may be removing it at the same time
    }
  }
}

/** Compiles fixtures/predictors.ts (real SDK) and bundles the real node worker, once per test file. */
export function fixtureProject(): Promise<FixtureProject> {
  project ??= (async () => {
    removeStaleFixtures();
    const root = mkdtempSync(join(tmpdir(), "kiln-server-fixture-"));
    createdRoots.push(root);
    copyFileSync(join(REPO, "test/runtime/fixtures/predictors.ts"), join(root, "predictors.ts"));
    const { outFile } = await compileTsPredictor(root, {
      raw: "predictors.ts:echo",
      file: "predictors.ts",
      name: "echo",
      language: "typescript",
    });
    const worker = join(root, "node-worker.mjs");
    await build({
      entryPoints: [join(REPO, "src/runtime/workers/node/main.ts")],
      outfile: worker,
      bundle: true,
      format: "esm",
      platform: "node",
      target: "node20",
      logLevel: "silent",
    });
    return { root, module: relative(root, outFile), worker };
  })();
  return project;
}

/**
 * Bundles the image's server entry (src/runtime/main.ts) as scripts/bundle-runtime.mjs does (server.mjs
 * and its lazily loaded chunks, beside each other), version 9.9.9-test. `outfile` must be a server.mjs.
 */
export async function bundleServerEntry(outfile: string): Promise<void> {
  if (basename(outfile) !== "server.mjs")
    throw new Error(`bundleServerEntry writes server.mjs, not ${outfile}`);
  await bundleServer(join(REPO, "src/runtime/main.ts"), dirname(outfile), "9.9.9-test");
}

/** The two ways a node predictor runs (KILN_NODE_WORKER_MODE), for suites that cover both. */
export const NODE_WORKER_MODES = ["thread", "process"] as const;

/** Starts the server on port 0 with a fixture predictor (quiet logs) and waits for setup to end. */
export async function startFixture(name: string, extra: Partial<ServerOptions> = {}): Promise<RunningServer> {
  const fx = await fixtureProject();
  const server = await startServer({
    root: fx.root,
    predictor: { language: "node", file: fx.module, name },
    host: "127.0.0.1",
    port: 0,
    logLevel: "silent",
    nodeWorkerEntry: fx.worker,
    webhookRetryDelaysMs: [10, 20, 40, 80, 100, 100, 100, 100, 100, 100],
    ...extra,
    train: extra.train ? { ...extra.train, file: fx.module } : undefined,
  });
  await server.ready;
  return server;
}

/**
 * For one test file: `start(name, extra)` starts a fixture server (startFixture) and `track(server)`
 * adopts one started otherwise; every one is closed after each test.
 */
export function fixtureServers(): {
  start: (name: string, extra?: Partial<ServerOptions>) => Promise<RunningServer>;
  track: (server: RunningServer) => RunningServer;
} {
  const servers: RunningServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  const track = (server: RunningServer): RunningServer => {
    servers.push(server);
    return server;
  };
  return { start: async (name, extra = {}) => track(await startFixture(name, extra)), track };
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
  const res = await fetch(base + path, {
    method: init.method ?? (body === undefined ? "GET" : "POST"),
    headers,
    body,
  });
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
  respond: (r: Received, n: number) => { status: number; headers?: Record<string, string> } = () => ({
    status: 200,
  }),
): Promise<{
  url: string;
  received: Received[];
  server: Server;
  /** Resolves when `n` requests have arrived; rejects after `ms` (a bound for failures, not a wait). */
  waitFor: (n: number, ms?: number) => Promise<void>;
  /** Resolves as soon as one request arrives (or has arrived) whose JSON body passes `test`. */
  waitForBody: (test: (body: any) => boolean, ms?: number) => Promise<void>; // eslint-disable-line @typescript-eslint/no-explicit-any
  close: () => Promise<void>;
}> {
  const received: Received[] = [];
  const listeners = new Set<() => void>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const r = { path: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString("utf8") };
      received.push(r);
      const { status, headers } = respond(r, received.length);
      res.writeHead(status, headers).end();
      for (const listener of listeners) listener();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const until = (done: () => boolean, ms: number, what: string): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (!done()) return;
        stop();
        resolve();
      };
      const timer = setTimeout(() => {
        stop();
        reject(new Error(`${what}; got ${received.length} requests`));
      }, ms);
      const stop = (): void => {
        clearTimeout(timer);
        listeners.delete(check);
      };
      listeners.add(check);
      check();
    });
  const waitFor = (n: number, ms = 5000): Promise<void> =>
    until(() => received.length >= n, ms, `expected ${n} requests`);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const waitForBody = (test: (body: any) => boolean, ms = 5000): Promise<void> =>
    until(
      () =>
        received.some((r) => {
          try {
            return test(JSON.parse(r.body));
          } catch {
            return false;
          }
        }),
      ms,
      "no request with the expected body",
    );
  const close = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return { url, received, server, waitFor, waitForBody, close };
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
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function parseSse(text: string): { event: string; data: any }[] {
  return text
    .split("\n\n")
    .filter((b) => b.includes("event:"))
    .map((b) => {
      const event = /^event: (.*)$/m.exec(b)?.[1] ?? "";
      const data = b
        .split("\n")
        .filter((l) => l.startsWith("data: "))
        .map((l) => l.slice(6))
        .join("\n");
      return { event, data: JSON.parse(data) };
    });
}
