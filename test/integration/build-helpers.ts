/**
 * Small helpers for the build integration tests: engine + base images required (test/helpers/docker.ts),
 * temp projects, the CLI in-process, containers on the host network, image cleanup.
 */
import { cp, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { requireDocker } from "../helpers/docker.js";

export const BASE_PYTHON = "kiln-test/python";
export const BASE_NODE = "kiln-test/node";
export const BASE_BOOKWORM = "kiln-test/bookworm";
export const FAKE_BUNDLE = join(import.meta.dirname, "../fixtures/build/_runtime-bundle");

/** Fails (never skips) without an engine or the base images: see test/helpers/docker.ts. */
/**
 * A Python project whose weights (models/model.bin) get their own layer, for the layer-reuse tests:
 * `cogYaml` (which lists `weights: [models/]`), a predict.py answering "v1" and a fixed schema.json
 * (for --openapi-schema, so no worker runs at build time).
 */
export async function writeWeightsProject(dir: string, cogYaml: string, weights: Buffer): Promise<void> {
  await writeFile(join(dir, "cog.yaml"), cogYaml);
  await writeFile(
    join(dir, "predict.py"),
    "class Predictor:\n    def predict(self) -> str:\n        return 'v1'\n",
  );
  await writeFile(join(dir, "schema.json"), '{"openapi":"3.0.2"}');
  await mkdir(join(dir, "models"));
  await writeFile(join(dir, "models", "model.bin"), weights);
}

export async function requireBuildEnv(): Promise<void> {
  await requireDocker([BASE_PYTHON, BASE_NODE]);
}

export async function tempProject(fixture: string | null): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "kiln-it-"));
  if (fixture) await cp(fixture, dir, { recursive: true });
  return dir;
}

const created: string[] = [];
export function uniqueTag(name: string): string {
  const tag = `kiln-test-build/${name}:${process.pid}-${created.length}`;
  created.push(tag);
  return tag;
}

export async function cleanup(dirs: string[]): Promise<void> {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
  for (const t of created.splice(0))
    await execa("/usr/bin/docker", ["image", "rm", "-f", t], { reject: false });
  // Dependencies images (kiln-deps:<fingerprint>) that no tagged model image is built on any more.
  const deps = await execa(
    "/usr/bin/docker",
    ["image", "ls", "--filter", "label=kiln.deps", "--format", "{{.Repository}}:{{.Tag}}"],
    { reject: false },
  );
  const models = await execa(
    "/usr/bin/docker",
    ["image", "ls", "--filter", "label=run.cog.version", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"],
    { reject: false },
  );
  const used = new Set<string>();
  for (const line of models.stdout.split("\n").filter((l) => l && !l.startsWith("<none>"))) {
    const id = line.split(" ")[1] ?? "";
    const r = await execa(
      "/usr/bin/docker",
      ["image", "inspect", "-f", '{{index .Config.Labels "kiln.deps.fingerprint"}}', id],
      { reject: false },
    );
    if (r.stdout.trim()) used.add(`kiln-deps:${r.stdout.trim().slice(0, 24)}`);
  }
  for (const ref of deps.stdout.split("\n").filter((r) => r.startsWith("kiln-deps:") && !used.has(r)))
    await execa("/usr/bin/docker", ["image", "rm", ref], { reject: false });
}

/** Runs the kiln CLI in-process and captures its output. */
export async function kiln(
  args: string[],
  cwd: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const { main } = await import("../../src/cli/main.js");
  const { PassThrough } = await import("node:stream");
  let stdout = "";
  let stderr = "";
  const out = new PassThrough();
  const err = new PassThrough();
  out.on("data", (c: Buffer) => (stdout += c.toString()));
  err.on("data", (c: Buffer) => (stderr += c.toString()));
  const code = await main(["node", "kiln", ...args], { cwd, stdout: out, stderr: err });
  return { code, stdout, stderr };
}

/** `docker run -d --rm` on the host network, labelled kiln.test=1; returns the container id. */
export async function dockerRunDetached(args: string[]): Promise<string> {
  const r = await execa("/usr/bin/docker", [
    "run",
    "-d",
    "--rm",
    "--network",
    "host",
    "--label",
    "kiln.test=1",
    ...args,
  ]);
  return r.stdout.trim();
}

/** Starts a container from `image` on the host network and waits until /health-check says READY. */
export async function startContainer(
  image: string,
  port: number,
): Promise<{ id: string; stop: () => Promise<void> }> {
  const id = await dockerRunDetached(["-e", `PORT=${port}`, image]);
  const stop = async (): Promise<void> => {
    await execa("/usr/bin/docker", ["rm", "-f", id], { reject: false });
  };
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/health-check`);
      const body = (await res.json()) as { status?: string };
      if (body.status === "READY") return { id, stop };
      if (body.status === "SETUP_FAILED" || body.status === "DEFUNCT") break;
    } catch {
      // not listening yet
    }
    await new Promise((r2) => setTimeout(r2, 200));
  }
  const logs = await execa("/usr/bin/docker", ["logs", id], { reject: false, all: true });
  await stop();
  throw new Error(`container did not become READY:\n${logs.all ?? ""}`);
}
