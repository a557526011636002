/**
 * kiln deploy on a real two-node Swarm (scripts/swarm-2node.sh: two network namespaces, one dockerd
 * each, a registry on node A). A kiln-built model is pushed there, `kiln deploy swarm ... --apply`
 * deploys it, and a client on the stack's overlay network checks: predictions answered on both nodes;
 * a task killed with `docker kill` comes back; a rolling update to a new digest (start-first) while
 * 4 loops send predictions fails none of them. Everything is torn down afterwards.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { requireDocker } from "../helpers/docker.js";
import { kiln } from "./predict-cli.js";
import {
  docker,
  kilnOnA,
  pushFromA,
  pushToCluster,
  requireClusterTools,
  serviceContainers,
  startCluster,
  stopCluster,
  ensureRedisImage,
  removeStack,
  waitForTasks,
  waitForUpdate,
  type Cluster,
  type TaskState,
} from "./deploy/swarm-cluster.js";

const FIXTURE = join(import.meta.dirname, "../fixtures/deploy/model");
const CLIENT = join(import.meta.dirname, "deploy/swarm-client.mjs");
const ID = 100 + (process.pid % 150);
const LOCAL_TAG = `kiln-test-deploy/model:${process.pid}`;
const STACK = "kdep";
/** The model service: `model` on the stack's network, kdep_model to the engine. */
const SERVICE = `${STACK}_model`;
const REPO = "kiln-test/deploy-model";
/** Debian's redis-server on the debootstrap base: the stack's Redis in queue mode (no Docker Hub). */
const REDIS_TAG = "kiln-test/redis:7-bookworm";
/** The default: the server writes /var/run/cog/ready when READY and removes it when draining. */
const READINESS = "file";

let cluster: Cluster;
let project: string;
let outDir: string;
let image1: string;
let image2: string;
let redisImage: string;

async function deploy(image: string, extra: string[] = []): Promise<void> {
  const r = await kilnOnA(cluster, [
    "deploy",
    "swarm",
    image,
    "--name",
    STACK,
    "--replicas",
    "2",
    "--endpoint-mode",
    "dnsrr",
    "--readiness",
    READINESS,
    "--cpu",
    "100m",
    "--memory",
    "256Mi",
    "-o",
    outDir,
    "--apply",
    ...extra,
  ]);
  expect(r.code, r.stderr).toBe(0);
}

/** A client container on the stack's network, on node A (the model image has node). */
function clientArgs(mode: string, arg: string, name?: string, target = "model"): string[] {
  return [
    "run",
    ...(name ? ["-d", "--name", name] : ["--rm"]),
    "--network",
    `${STACK}_kiln`,
    "-v",
    `${CLIENT}:/client.mjs:ro`,
    "--entrypoint",
    "node",
    image1,
    "/client.mjs",
    mode,
    target,
    arg,
  ];
}

interface Answer {
  address: string;
  output?: { host: string; rev: string };
  failed?: string;
  refused?: string;
}

async function spread(): Promise<Answer[]> {
  const out = await docker(cluster, "a", clientArgs("spread", "2"));
  return (JSON.parse(out.split("\n").pop()!) as { answers: Answer[] }).answers;
}

const healthyOn = (tasks: TaskState[], image: string) =>
  tasks.filter((t) => t.health === "healthy" && t.image === image);
const oneHealthyPerNode = (image: string) => (tasks: TaskState[]) => {
  const healthy = healthyOn(tasks, image);
  return tasks.length === 2 && healthy.length === 2 && new Set(healthy.map((t) => t.node)).size === 2;
};

beforeAll(async () => {
  await requireDocker(["kiln-test/node"]);
  await requireClusterTools();
  project = await mkdtemp(join(tmpdir(), "kiln-deploy-it-"));
  outDir = join(project, "out");
  await execa("cp", ["-r", `${FIXTURE}/.`, project]);
  const built = await kiln(
    [
      "build",
      "-t",
      LOCAL_TAG,
      "--base-image",
      "kiln-test/node",
      "--node-image",
      "kiln-test/node",
      "--progress",
      "quiet",
    ],
    { cwd: project },
  );
  expect(built.code, built.stderr).toBe(0);
  cluster = await startCluster(ID);
  image1 = await pushToCluster(cluster, LOCAL_TAG, REPO, "1");
  // Revision 2: the same model with MODEL_REV=2, so answers tell which digest served them.
  const tag2 = `${cluster.registry}/${REPO}:2`;
  await docker(
    cluster,
    "a",
    ["build", "-q", "-t", tag2, "-"],
    `FROM ${cluster.registry}/${REPO}:1\nENV MODEL_REV=2\n`,
  );
  image2 = await pushFromA(cluster, tag2);
  await ensureRedisImage(REDIS_TAG);
  redisImage = await pushToCluster(cluster, REDIS_TAG, "kiln-test/redis", "7");
});

afterAll(async () => {
  await stopCluster(ID);
  await execa("/usr/bin/docker", ["image", "rm", "-f", LOCAL_TAG], { reject: false });
  if (project) await rm(project, { recursive: true, force: true });
  const left = await execa("ip", ["netns", "list"]);
  expect(left.stdout).not.toMatch(new RegExp(`kdep${ID}[ab]`));
});

describe("kiln deploy swarm on a two-node Swarm", () => {
  it("deploys the stack pinned by digest; predictions are answered on both nodes", async () => {
    await deploy(image1);
    const stack = parse(await readFile(join(outDir, `${STACK}.stack.yaml`), "utf8")) as {
      services: Record<string, { image: string; deploy: { update_config: { order: string } } }>;
    };
    expect(stack.services.model?.image).toBe(image1);
    expect(stack.services.model?.deploy.update_config.order).toBe("start-first");

    const tasks = await waitForTasks(
      cluster,
      SERVICE,
      oneHealthyPerNode(image1),
      "2 healthy replicas, one per node",
    );
    const answers = await spread();
    expect(answers.filter((a) => !a.output)).toEqual([]);
    const hosts = new Set(answers.map((a) => a.output!.host));
    // The hostname of a container is its short id: each node's task answered.
    expect([...hosts].sort()).toEqual(tasks.map((t) => t.container).sort());
  });

  it("a task killed with docker kill comes back, and both nodes answer again", async () => {
    const before = await serviceContainers(cluster, SERVICE);
    const victim = before.find((t) => t.node === "b")!;
    await docker(cluster, "b", ["kill", victim.container]);
    const after = await waitForTasks(
      cluster,
      SERVICE,
      (tasks) => oneHealthyPerNode(image1)(tasks) && !tasks.some((t) => t.container === victim.container),
      "the killed task to be replaced",
    );
    const answers = await spread();
    expect(answers.filter((a) => !a.output)).toEqual([]);
    expect([...new Set(answers.map((a) => a.output!.host))].sort()).toEqual(
      after.map((t) => t.container).sort(),
    );
  });

  it("rolls out a new digest start-first while predictions keep succeeding", async () => {
    const load = `kdep-load-${process.pid}`;
    await docker(cluster, "a", clientArgs("load", "240", load));
    try {
      await waitForLog(load, "LOAD STARTED");
      await deploy(image2);
      await waitForTasks(
        cluster,
        SERVICE,
        // Swarm places each new task by the spread of the moment, so both may land on one node.
        (tasks) => tasks.length === 2 && healthyOn(tasks, image2).length === 2,
        "the update to finish",
        240_000,
      );
      await waitForUpdate(cluster, SERVICE);
      await docker(cluster, "a", ["stop", "-t", "30", load]);
      const logs = (await docker(cluster, "a", ["logs", load])).trim().split("\n");
      const summary = JSON.parse(logs.pop()!) as {
        ok: number;
        failed: number;
        refused: number;
        errors: string[];
        revs: Record<string, number>;
      };
      console.info(`rolling update under load: ${JSON.stringify(summary)}`);
      expect(summary.errors).toEqual([]);
      expect(summary.failed).toBe(0);
      expect(summary.refused).toBe(0);
      expect(summary.revs["1"]).toBeGreaterThan(0);
      expect(summary.revs["2"]).toBeGreaterThan(0);
    } finally {
      await docker(cluster, "a", ["rm", "-f", load]).catch(() => undefined);
    }
  });
});

describe("kiln deploy swarm --queue on a two-node Swarm", () => {
  it("serves /v1 through the gateway from both nodes and loses no accepted prediction when a replica is killed", async () => {
    await removeStack(cluster, STACK);
    await deploy(image2, [
      "--queue",
      "redis://redis:6379",
      "--redis-image",
      redisImage,
      "--readiness",
      "file",
    ]);
    await waitForTasks(cluster, SERVICE, oneHealthyPerNode(image2), "2 queue-mode replicas, one per node");
    await waitForTasks(
      cluster,
      `${STACK}_gateway`,
      (t) => t.filter((x) => x.health === "healthy").length === 2,
      "2 gateways",
    );
    const version = image2.split("@sha256:")[1]!;

    const first = await queueRound(version, 8);
    expect(first.filter((r) => r.status !== "succeeded")).toEqual([]);
    const tasks = await serviceContainers(cluster, SERVICE);
    const nodesThatAnswered = new Set(
      first.map((r) => tasks.find((t) => t.container === r.output!.host)?.node),
    );
    expect([...nodesThatAnswered].sort()).toEqual(["a", "b"]);

    // 12 predictions of 3 s on 2 replicas of 4 slots: some run on node B when it is killed.
    const name = `kdep-queue-${process.pid}`;
    await docker(cluster, "a", clientArgs("queue", `${version}:12`, name, "gateway"));
    try {
      await waitForLog(name, "SUBMITTED");
      const victim = tasks.find((t) => t.node === "b")!;
      await waitForBusy(victim.container);
      await docker(cluster, "b", ["kill", victim.container]);
      await docker(cluster, "a", ["wait", name]);
      const results = lastJson<{ results: QueueResult[] }>(
        await docker(cluster, "a", ["logs", name]),
      ).results;
      console.info(`queue round with a killed replica: ${JSON.stringify(results.map((r) => r.status))}`);
      expect(results).toHaveLength(12);
      expect(results.filter((r) => r.status !== "succeeded")).toEqual([]);
    } finally {
      await docker(cluster, "a", ["rm", "-f", name]).catch(() => undefined);
    }
    await waitForTasks(
      cluster,
      SERVICE,
      (t) => healthyOn(t, image2).length === 2,
      "the killed replica to come back",
    );
  });
});

interface QueueResult {
  status: string;
  error: string | null;
  output: { host: string; rev: string } | null;
}

async function queueRound(version: string, n: number): Promise<QueueResult[]> {
  const out = await docker(cluster, "a", clientArgs("queue", `${version}:${n}`, undefined, "gateway"));
  return lastJson<{ results: QueueResult[] }>(out).results;
}

function lastJson<T>(text: string): T {
  return JSON.parse(text.trim().split("\n").pop()!) as T;
}

/** Waits until the replica reports predictions in flight on its /health-check (it is then BUSY or READY with current > 0). */
async function waitForBusy(container: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  const script =
    'fetch("http://127.0.0.1:5000/health-check").then(r=>r.json()).then(b=>console.log(b.concurrency.current))';
  while (Date.now() < deadline) {
    const current = await docker(cluster, "b", ["exec", container, "node", "-e", script]).catch(() => "0");
    if (Number(current) > 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`replica ${container} never took a prediction`);
}

async function waitForLog(container: string, text: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if ((await docker(cluster, "a", ["logs", container])).includes(text)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${container} never printed ${text}`);
}
