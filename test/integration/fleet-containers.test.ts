// The fleet with real images: a kiln-built image served twice as a queue replica (once through
// `kiln serve IMAGE --queue`, once with plain `docker run -e KILN_QUEUE=...`, as an orchestrator runs it),
// a --no-docker replica of the same project, and the gateway running from the same image
// (`node /kiln/gateway.mjs`). Real Docker engine (host network), real redis-server, replicate client.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import Replicate from "replicate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BASE_NODE,
  cleanup,
  dockerRunDetached,
  kiln,
  requireBuildEnv,
  tempProject,
  uniqueTag,
} from "./build-helpers.js";
import { collect, spawnKiln } from "./predict-cli.js";
import { fleetPort, startRedis, until, type RedisInstance } from "./fleet-helpers.js";
import { request } from "../runtime/helpers.js";

const FIXTURE = join(import.meta.dirname, "../fixtures/fleet/sleepy");
const BUNDLE = join(import.meta.dirname, "../../dist/runtime-bundle");
const dirs: string[] = [];
const containers: string[] = [];
let redis: RedisInstance;
let tag: string;
let imageId: string;
let project: string;

beforeAll(async () => {
  await requireBuildEnv();
  expect(
    existsSync(join(BUNDLE, "gateway.mjs")),
    "run `npm run build` first: no dist/runtime-bundle/gateway.mjs",
  ).toBe(true);
  redis = await startRedis();
  project = await tempProject(FIXTURE);
  dirs.push(project);
  tag = uniqueTag("fleet-sleepy");
  const r = await kiln(
    ["build", "-t", tag, "--base-image", BASE_NODE, "--node-image", BASE_NODE, "--json"],
    project,
  );
  expect(r.code, r.stderr).toBe(0);
  imageId = (JSON.parse(r.stdout) as { imageId: string }).imageId;
});

afterAll(async () => {
  for (const id of containers) await execa("/usr/bin/docker", ["rm", "-f", id], { reject: false });
  await redis?.cleanup();
  await cleanup(dirs);
});

async function dockerRun(args: string[]): Promise<string> {
  const id = await dockerRunDetached(args);
  containers.push(id);
  return id;
}

describe("replicas in containers behind a gateway from the same image", () => {
  it("serves predictions by model and by version across container and --no-docker replicas", async () => {
    // The gateway, from the model image's runtime bundle.
    const gwPort = await fleetPort();
    await dockerRun(["-e", `PORT=${gwPort}`, tag, "node", "/kiln/gateway.mjs", "--redis", redis.url]);
    const gw = `http://127.0.0.1:${gwPort}`;
    await until(
      async () => (await request(gw, "/health-check").catch(() => null))?.body?.status === "READY",
      30_000,
      "gateway",
    );

    // Replica 1: kiln serve IMAGE --queue (the CLI runs the container, version = image digest).
    const cli = await spawnKiln(["serve", tag, "-p", "0", "--queue", redis.url, "--model", "acme/sleepy"], {
      cwd: project,
    });
    const cliDone = collect(cli);
    // Replica 2: what an orchestrator runs: docker run with the environment only.
    const port2 = await fleetPort();
    const replica2 = await dockerRun([
      "-e",
      `PORT=${port2}`,
      "-e",
      `KILN_QUEUE=${redis.url}`,
      "-e",
      `KILN_MODEL_VERSION=${imageId}`,
      "-e",
      "KILN_MODEL=acme/sleepy",
      tag,
    ]);
    // Replica 3: the project itself, --no-docker: its version is the project's content hash.
    const local = await spawnKiln(
      ["serve", "--no-docker", "-p", "0", "--queue", redis.url, "--model", "acme/sleepy"],
      {
        cwd: project,
      },
    );
    const localDone = collect(local);
    try {
      await until(
        async () => (await request(gw, "/v1/models/acme/sleepy/versions")).body?.results?.length === 2,
        120_000,
        "both versions registered",
      );
      const versions = (await request(gw, "/v1/models/acme/sleepy/versions")).body.results as {
        id: string;
      }[];
      expect(versions.map((v) => v.id)).toContain(imageId);
      const contentHash = versions.map((v) => v.id).find((v) => v !== imageId)!;
      await until(
        async () => {
          const text = await (await fetch(`${gw}/metrics`)).text();
          return new RegExp(`kiln_fleet_replicas\\{version="${imageId}"\\} 2`).test(text);
        },
        60_000,
        "two container replicas alive",
      );

      const replicate = new Replicate({ auth: "x", baseUrl: `${gw}/v1` });
      // Six at once on the image version: both container replicas (one slot each) take some.
      const created = await Promise.all(
        [0, 1, 2, 3, 4, 5].map(() => replicate.predictions.create({ version: imageId, input: { ms: 400 } })),
      );
      const done = await Promise.all(created.map((p) => replicate.wait(p, { interval: 100 })));
      expect(done.map((p) => p.status)).toEqual(Array(6).fill("succeeded"));
      expect(new Set(done.map((p) => p.output)).size).toBe(2);
      // The --no-docker replica serves its own version.
      const viaLocal = await replicate.run(`acme/sleepy:${contentHash}`, { input: { ms: 10 } });
      expect(typeof viaLocal).toBe("string");
      expect(done.map((p) => p.output)).not.toContain(viaLocal);
      void replica2;
    } finally {
      cli.kill("SIGINT");
      local.kill("SIGINT");
      expect((await cliDone).code).toBe(0);
      expect((await localDone).code).toBe(0);
    }
  });
});
