/**
 * For the generated-client integration tests: the fixture models served by `kiln serve --no-docker`
 * (one server per model), a webhook receiver, and a fault-injecting proxy (answers planned error
 * statuses, forwards everything else) to exercise the clients' retries.
 */
import type { ChildProcess } from "node:child_process";
import { cp, mkdtemp, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { collect, spawnKiln } from "./predict-cli.js";

const MODELS = fileURLToPath(new URL("../fixtures/client-gen/models/", import.meta.url));

export interface Served {
  url: string;
  stop(): Promise<void>;
}

/** A copy of the fixture models in a temp dir (the compile step writes .kiln/ there). */
export async function modelsCopy(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "kiln-client-models-"));
  await cp(MODELS, dir, { recursive: true, filter: (src) => !src.includes(".kiln") });
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** `kiln serve --no-docker -f MANIFEST -p 0`, resolved once it says "Model ready". */
export function serve(dir: string, manifest: string, extra: string[] = []): Promise<Served> {
  return served(["serve", "--no-docker", "-f", manifest, "-p", "0", ...extra], dir);
}

/** `kiln serve IMAGE -p 0` (a labelled container, removed on stop). */
export function serveImage(image: string): Promise<Served> {
  return served(["serve", image, "-p", "0"], tmpdir());
}

/** Runs the kiln CLI until its stderr announces a URL (`ready` captures it); stop() sends Ctrl-C. */
export async function served(
  args: string[],
  cwd: string,
  ready = /Model ready: (http:\/\/127\.0\.0\.1:\d+)/,
): Promise<Served> {
  const child: ChildProcess = await spawnKiln(args, { cwd });
  const done = collect(child);
  let stderr = "";
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr?.on("data", (d: Buffer) => {
      stderr += d.toString();
      const m = ready.exec(stderr);
      if (m?.[1]) resolve(m[1]);
    });
    child.once("close", () => reject(new Error(`kiln serve exited early:\n${stderr}`)));
  });
  return {
    url,
    stop: async () => {
      child.kill("SIGINT");
      await done;
    },
  };
}

export interface Received {
  headers: IncomingMessage["headers"];
  body: string;
}

/** An HTTP server that records every POST; `next(test)` resolves with the first one matching. */
export async function webhookReceiver(): Promise<{
  url: string;
  next: (test: (r: Received) => boolean) => Promise<Received>;
  close: () => Promise<void>;
}> {
  const seen: Received[] = [];
  const waiters: { test: (r: Received) => boolean; resolve: (r: Received) => void }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const r = { headers: req.headers, body: Buffer.concat(chunks).toString("utf8") };
      seen.push(r);
      for (const w of [...waiters]) {
        if (w.test(r)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(r);
        }
      }
      res.writeHead(204).end();
    });
  });
  const url = await listen(server);
  return {
    url,
    next: (test) => {
      const hit = seen.find(test);
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve) => waiters.push({ test, resolve }));
    },
    close: () => close(server),
  };
}

/**
 * Forwards to `upstream`, except that the next requests matching a planned `METHOD /path-prefix` get
 * the planned statuses first (with Retry-After: 0). `hits` counts requests per "METHOD path".
 */
export async function faultyProxy(upstream: string): Promise<{
  url: string;
  plan: (method: string, pathPrefix: string, statuses: number[]) => void;
  hits: Map<string, number>;
  close: () => Promise<void>;
}> {
  const plans: { method: string; prefix: string; statuses: number[] }[] = [];
  const hits = new Map<string, number>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const path = (req.url ?? "/").split("?")[0] ?? "/";
      const key = `${req.method} ${path}`;
      hits.set(key, (hits.get(key) ?? 0) + 1);
      const plan = plans.find(
        (p) => p.method === req.method && path.startsWith(p.prefix) && p.statuses.length > 0,
      );
      const status = plan?.statuses.shift();
      if (status !== undefined) {
        res.writeHead(status, { "content-type": "application/json", "retry-after": "0" });
        res.end(JSON.stringify({ title: "planned failure", detail: `status ${status}`, status }));
        return;
      }
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) {
        if (k !== "host" && k !== "content-length" && typeof v === "string") headers[k] = v;
      }
      fetch(`${upstream}${req.url ?? "/"}`, {
        method: req.method ?? "GET",
        headers,
        ...(chunks.length > 0 ? { body: Buffer.concat(chunks) } : {}),
      })
        .then(async (up) => {
          const body = Buffer.from(await up.arrayBuffer());
          const out: Record<string, string> = {};
          up.headers.forEach((v, k) => {
            if (k !== "content-length" && k !== "transfer-encoding" && k !== "content-encoding") out[k] = v;
          });
          res.writeHead(up.status, out).end(body);
        })
        .catch((err: unknown) => res.writeHead(502).end(String(err)));
    });
  });
  const url = await listen(server);
  return {
    url,
    plan: (method, prefix, statuses) => plans.push({ method, prefix, statuses: [...statuses] }),
    hits,
    close: () => close(server),
  };
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    ),
  );
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
