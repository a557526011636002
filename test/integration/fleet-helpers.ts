/**
 * What the fleet tests share: their own redis-server instances (Debian's, installed by
 * scripts/test-env.sh) on ports 45000-45999 with their own dirs, in-process replicas (the fixture
 * predictors of test/runtime) and gateways.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startGateway, type GatewayOptions, type RunningGateway } from "../../src/fleet/gateway.js";
import { startQueueReplica, type QueueReplica, type ReplicaOptions } from "../../src/fleet/replica.js";
import type { RunningServer, ServerOptions } from "../../src/runtime/server.js";
import { startFixture } from "../runtime/helpers.js";

const PORT_BASE = 45000;
let nextOffset = (process.pid * 7) % 900;

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once("error", () => resolve(false));
    s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
  });
}

/** A free port in this suite's range (45000-45999). */
export async function fleetPort(): Promise<number> {
  for (let i = 0; i < 1000; i++) {
    const port = PORT_BASE + (nextOffset++ % 1000);
    if (await portFree(port)) return port;
  }
  throw new Error("no free port in 45000-45999");
}

export interface RedisInstance {
  url: string;
  port: number;
  dir: string;
  process: ChildProcess;
  /** Stops it (SIGTERM: with appendonly the AOF is flushed) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port and dir (the AOF is loaded). */
  restart(): Promise<RedisInstance>;
  cleanup(): Promise<void>;
}

/** Fails (never skips) when redis-server is missing: provision with scripts/test-env.sh. */
export async function startRedis(
  opts: { appendonly?: boolean; port?: number; dir?: string } = {},
): Promise<RedisInstance> {
  const port = opts.port ?? (await fleetPort());
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), "kiln-fleet-redis-"));
  const args = [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--dir",
    dir,
    "--save",
    "",
    "--appendonly",
    opts.appendonly ? "yes" : "no",
    "--appendfsync",
    "always",
    "--daemonize",
    "no",
    "--protected-mode",
    "no",
    "--loglevel",
    "warning",
  ];
  const child = spawn("redis-server", args, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout?.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (output += d.toString()));
  const spawnError = new Promise<never>((_, reject) =>
    child.once("error", (err) =>
      reject(
        new Error(`redis-server could not start (${err.message}); provision with bash scripts/test-env.sh`),
      ),
    ),
  );
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  await Promise.race([waitPing(port, () => output), spawnError]);
  const instance: RedisInstance = {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    process: child,
    async stop(signal: NodeJS.Signals = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
    async restart() {
      await instance.stop();
      return startRedis({ ...opts, port, dir });
    },
    async cleanup() {
      await instance.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return instance;
}

async function waitPing(port: number, output: () => string): Promise<void> {
  const { Socket } = await import("node:net");
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = new Socket();
      s.once("error", () => resolve(false));
      s.connect(port, "127.0.0.1", () => s.write("PING\r\n"));
      s.once("data", (d) => {
        s.destroy();
        resolve(d.toString().startsWith("+PONG"));
      });
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`redis-server on ${port} did not answer PING within 10 s:\n${output()}`);
}

export interface TestReplica {
  server: RunningServer;
  replica: QueueReplica;
  close(): Promise<void>;
}

/** A fixture model server in queue mode (what `kiln serve --no-docker --queue` runs). */
export async function startReplica(
  redisUrl: string,
  predictor: string,
  o: { version: string; model?: string; server?: Partial<ServerOptions>; replica?: Partial<ReplicaOptions> },
): Promise<TestReplica> {
  const server = await startFixture(predictor, {
    ...o.server,
    hosted: { version: o.version, model: o.model ?? `kiln/${predictor}`, ...o.server?.hosted },
  });
  const replica = await startQueueReplica(server, {
    redisUrl,
    leaseMs: 1500,
    webhookRetryDelaysMs: [10, 20, 40, 80, 100, 100, 100, 100, 100, 100],
    ...o.replica,
  });
  return { server, replica, close: () => server.close() };
}

/** One Redis, some gateways on it and the replicas a suite needs: what most fleet suites start with. */
export interface TestFleet {
  redis: RedisInstance;
  gateways: RunningGateway[];
  replicas: TestReplica[];
  close(): Promise<void>;
}

export type ReplicaSpec = { predictor: string } & Parameters<typeof startReplica>[2];

export async function startTestFleet(o: {
  gateways?: number;
  gateway?: Partial<GatewayOptions>;
  replicas: ReplicaSpec[];
}): Promise<TestFleet> {
  const redis = await startRedis();
  const gateways: RunningGateway[] = [];
  const replicas: TestReplica[] = [];
  const close = async (): Promise<void> => {
    await Promise.all(replicas.map((r) => r.close()));
    await Promise.all(gateways.map((g) => g.close()));
    await redis.cleanup();
  };
  try {
    for (let i = 0; i < (o.gateways ?? 1); i++) gateways.push(await startTestGateway(redis.url, o.gateway));
    for (const { predictor, ...spec } of o.replicas)
      replicas.push(await startReplica(redis.url, predictor, spec));
  } catch (err) {
    await close();
    throw err;
  }
  return { redis, gateways, replicas, close };
}

export function startTestGateway(redisUrl: string, o: Partial<GatewayOptions> = {}): Promise<RunningGateway> {
  return startGateway({ redisUrl, host: "127.0.0.1", port: 0, logger: quiet, ...o });
}

const quiet = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/** Polls `fn` until it returns a truthy value (events we cannot subscribe to from outside). */
export async function until<T>(
  fn: () => Promise<T | null | undefined | false> | T | null | undefined | false,
  ms = 20_000,
  what = "condition",
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
