// Failures a fleet must survive, with replicas as real processes (the container entry, bundled):
// kill -9 of a replica mid-prediction (retry once / fail per policy, after the lease, via XAUTOCLAIM),
// SIGTERM drain (finish, or hand back to the queue), and a Redis restart (appendonly) under load.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../src/fleet/gateway.js";
import { bundleServerEntry, fixtureProject, request, type FixtureProject } from "../runtime/helpers.js";
import {
  fleetPort,
  startRedis,
  startReplica,
  startTestGateway,
  until,
  type RedisInstance,
} from "./fleet-helpers.js";

const dir = mkdtempSync(join(tmpdir(), "kiln-fleet-fail-"));
const entry = join(dir, "server.mjs");
let fx: FixtureProject;
const children: ChildProcess[] = [];

beforeAll(async () => {
  fx = await fixtureProject();
  await bundleServerEntry(entry);
});

afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) killGroup(c, "SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

function killGroup(c: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-c.pid!, signal); // the server and its worker: like a machine going away
  } catch {
    // already gone
  }
}

interface Proc {
  child: ChildProcess;
  url: string;
  readyFile: string;
  out: () => string;
  exit: Promise<number | null>;
}

/** A replica process: `node server.mjs` with KILN_QUEUE, as `kiln serve IMAGE --queue` runs it. */
async function spawnReplica(redisUrl: string, predictor: string, env: Record<string, string>): Promise<Proc> {
  const port = await fleetPort();
  const readyFile = join(dir, `ready-${port}`);
  let out = "";
  const child = spawn(process.execPath, [entry, "--host", "127.0.0.1"], {
    env: {
      ...process.env,
      KILN_ROOT: fx.root,
      KILN_NODE_WORKER: fx.worker,
      KILN_PREDICTOR: `${fx.module}:${predictor}`,
      PORT: String(port),
      KILN_QUEUE: redisUrl,
      KILN_QUEUE_LEASE: "1",
      KILN_READY_FILE: readyFile,
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  children.push(child);
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const exit = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  const url = `http://127.0.0.1:${port}`;
  await until(() => existsSync(readyFile), 20_000, `replica on ${port} ready:\n${out}`);
  await until(() => out.includes("queue mode: consuming"), 10_000, "queue mode");
  return { child, url, readyFile, out: () => out, exit };
}

async function busy(p: Proc): Promise<boolean> {
  return (await request(p.url, "/health-check")).body?.status === "BUSY";
}

async function pendingCount(redisUrl: string, version: string, g: RunningGateway): Promise<number> {
  const text = await (await fetch(`${g.url}/metrics`)).text();
  const m = new RegExp(
    `kiln_redis_group_lag\\{kind="pending",model="[^"]+",version="${version}"\\} (\\d+)`,
  ).exec(text);
  void redisUrl;
  return Number(m?.[1] ?? -1);
}

describe("a replica killed with kill -9 mid-prediction", () => {
  let redis: RedisInstance;
  let g: RunningGateway;
  beforeAll(async () => {
    redis = await startRedis();
    g = await startTestGateway(redis.url);
  });
  afterAll(async () => {
    await g?.close();
    await redis?.cleanup();
  });

  for (const policy of ["retry", "fail"] as const) {
    it(`on-lost=${policy}: reclaimed after the lease; ${policy === "retry" ? "runs once more and succeeds" : "fails with a clear error"}`, async () => {
      const version = `v-kill-${policy}`;
      const env = {
        KILN_MODEL_VERSION: version,
        KILN_MODEL: `acme/kill-${policy}`,
        KILN_QUEUE_ON_LOST: policy,
      };
      const a = await spawnReplica(redis.url, "slow", env);
      const b = await spawnReplica(redis.url, "slow", env);
      const created = await request(g.url, "/v1/predictions", { body: { version, input: { ms: 1500 } } });
      expect(created.status).toBe(201);
      const id = created.body.id as string;
      const victim = await until(
        async () => ((await busy(a)) ? a : (await busy(b)) ? b : null),
        10_000,
        "a busy replica",
      );
      const survivor = victim === a ? b : a;
      killGroup(victim.child, "SIGKILL");
      await victim.exit;
      const final = await until(
        async () => {
          const r = (await request(g.url, `/v1/predictions/${id}`)).body;
          return ["succeeded", "failed", "canceled"].includes(r.status) ? r : null;
        },
        20_000,
        "the prediction to end",
      );
      if (policy === "retry") {
        expect(final.status).toBe("succeeded");
        expect(final.logs).toMatch(/stopped answering; retrying on /);
      } else {
        expect(final.status).toBe("failed");
        expect(final.error).toMatch(
          /stopped answering \(no heartbeat for 1 s\); not retried because the retry policy is fail/,
        );
      }
      expect(await pendingCount(redis.url, version, g)).toBe(0); // nothing stays processing
      survivor.child.kill("SIGTERM");
      expect(await survivor.exit).toBe(0);
    });
  }
});

describe("SIGTERM drain of a replica", () => {
  it("stops taking work, finishes what fits the drain time, hands back the rest; the ready file goes", async () => {
    const redis = await startRedis();
    const g = await startTestGateway(redis.url);
    try {
      const env = { KILN_MODEL_VERSION: "v-drain", KILN_DRAIN_TIMEOUT: "0.5", COG_MAX_CONCURRENCY: "1" };
      const patient = { ...env, KILN_DRAIN_TIMEOUT: "10" };
      const a = await spawnReplica(redis.url, "slow", env);
      const long = await request(g.url, "/v1/predictions", {
        body: { version: "v-drain", input: { ms: 3000 } },
      });
      await until(() => busy(a), 10_000, "busy");
      a.child.kill("SIGTERM"); // to the server only, as docker stop / Kubernetes do (PID 1)
      await until(() => !existsSync(a.readyFile), 5_000, "ready file removed");
      expect(await a.exit).toBe(0);
      expect(a.out()).toContain("handed a prediction back to the queue");
      // Nobody runs it now; it waits in the queue until a replica comes.
      const mid = (await request(g.url, `/v1/predictions/${long.body.id}`)).body;
      expect(["starting", "processing"]).toContain(mid.status);
      const b = await spawnReplica(redis.url, "slow", patient);
      const final = await until(
        async () => {
          const r = (await request(g.url, `/v1/predictions/${long.body.id}`)).body;
          return r.status === "succeeded" || r.status === "failed" ? r : null;
        },
        20_000,
        "the handed-back prediction to finish",
      );
      expect(final.status).toBe("succeeded");
      expect(final.logs).toMatch(/stopped before finishing this prediction; it is back in the queue/);
      // A prediction that fits the drain time finishes on the draining replica.
      const short = await request(g.url, "/v1/predictions", {
        body: { version: "v-drain", input: { ms: 200 } },
      });
      await until(() => busy(b), 10_000, "busy");
      b.child.kill("SIGTERM");
      expect(await b.exit).toBe(0);
      expect((await request(g.url, `/v1/predictions/${short.body.id}`)).body.status).toBe("succeeded");
    } finally {
      await g.close();
      await redis.cleanup();
    }
  });
});

describe("Redis restarted under load (appendonly)", () => {
  it("loses no accepted prediction", async () => {
    let redis = await startRedis({ appendonly: true });
    const g = await startTestGateway(redis.url, { queueSize: 1000 });
    const replicas = await Promise.all(
      [0, 1].map(() =>
        startReplica(redis.url, "slow", {
          version: "v-restart",
          replica: { leaseMs: 10_000 },
          server: { maxConcurrency: 1 },
        }),
      ),
    );
    try {
      const accepted: string[] = [];
      let refused = 0;
      let stop = false;
      const unexpected: string[] = [];
      const deadline = Date.now() + 90_000;
      const load = (async () => {
        for (let i = 0; i < 3000 && !stop && Date.now() < deadline; i++) {
          const r = await request(g.url, "/v1/predictions", {
            body: { version: "v-restart", input: { ms: 20 } },
          }).catch(() => null);
          if (r?.status === 201) accepted.push(r.body.id as string);
          else if (r === null || r.status === 503) refused++;
          else unexpected.push(`${r.status} ${r.text}`); // refused, never half accepted
          await new Promise((res) => setTimeout(res, 10));
        }
      })();
      await until(() => accepted.length >= 20, 20_000, "load before the restart");
      redis = await redis.restart();
      const before = accepted.length;
      await until(() => accepted.length >= before + 20, 30_000, "load after the restart");
      stop = true;
      await load;
      expect(unexpected).toEqual([]);
      console.log(`redis restart under load: ${accepted.length} accepted, ${refused} refused with 503`);
      const finals = await until(
        async () => {
          const all = await Promise.all(accepted.map((id) => request(g.url, `/v1/predictions/${id}`)));
          return all.every((r) => r.body?.status === "succeeded") ? all : null;
        },
        60_000,
        "every accepted prediction to succeed",
      );
      expect(finals).toHaveLength(accepted.length);
    } finally {
      await Promise.all(replicas.map((r) => r.close()));
      await g.close();
      await redis.cleanup();
    }
  });
});
