/**
 * `kiln serve --cache`: the output cache from the command line, with --no-docker (version = the
 * project's content hash) and through a real image (version = the image id, the store bind-mounted).
 */
import { appendFile, cp, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BASE_IMAGES, requireDocker } from "../helpers/docker.js";
import { kiln, startKilnServer, type KilnServer } from "./predict-cli.js";
import { engine, removeImage } from "./predict-helpers.js";

const EXAMPLES = fileURLToPath(new URL("../../examples/", import.meta.url));
const IMAGE = `kiln-test/serve-cache-${process.pid}`;
let project = "";
let plain = "";
let store = "";
let built = false;

beforeAll(async () => {
  project = await mkdtemp(join(tmpdir(), "kiln-serve-cache-"));
  await cp(join(EXAMPLES, "hello-ts"), project, { recursive: true });
  await appendFile(join(project, "cog.yaml"), `image: ${IMAGE}\nkiln:\n  cache: true\n`);
  plain = await mkdtemp(join(tmpdir(), "kiln-serve-nocache-"));
  await cp(join(EXAMPLES, "hello-ts"), plain, { recursive: true });
  store = await mkdtemp(join(tmpdir(), "kiln-serve-cache-store-"));
});

afterAll(async () => {
  // The image and the kiln-deps image it was built on.
  if (built) await removeImage(await engine(), IMAGE);
  for (const d of [project, plain, store]) await rm(d, { recursive: true, force: true });
});

/** `kiln serve -p 0 ARGS`, once the model is ready. */
const serve = (args: string[], cwd: string, env: Record<string, string> = {}): Promise<KilnServer> =>
  startKilnServer(["serve", "-p", "0", ...args], { cwd, env });

async function predict(
  url: string,
  name: string,
): Promise<{ output: unknown; metrics: Record<string, unknown> }> {
  const res = await fetch(`${url}/predictions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ input: { name } }),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as { output: unknown; metrics: Record<string, unknown> };
}

describe("kiln serve --cache", () => {
  it("refuses a model that does not declare it may be cached, before starting it", async () => {
    const r = await kiln(["serve", "--no-docker", "-p", "0", "--cache", store], { cwd: plain });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/does not declare that its outputs may be cached/);
    expect(r.stderr).toMatch(/kiln: \{cache: true\}/);
  });

  it("--no-docker: answers a repeated input from the store; an edit to the project is a new version", async () => {
    const dir = join(store, "local");
    let s = await serve(["--no-docker", "--cache", dir], project);
    const first = await predict(s.url, "Ada");
    expect(first.metrics.cache_hit).toBe(false);
    const again = await predict(s.url, "Ada");
    expect(again.metrics.cache_hit).toBe(true);
    expect(again.output).toBe(first.output);
    expect((await s.stop()).code).toBe(0);

    // Same project, restarted: the store survives.
    s = await serve(["--no-docker", "--cache", dir], project);
    expect((await predict(s.url, "Ada")).metrics.cache_hit).toBe(true);
    await s.stop();

    await appendFile(join(project, "predict.ts"), "\n// an edit\n");
    s = await serve(["--no-docker", "--cache", dir], project);
    expect((await predict(s.url, "Ada")).metrics.cache_hit).toBe(false);
    await s.stop();
  });

  it("in a container: the store is mounted from the host and keyed by the image id", async () => {
    await requireDocker([BASE_IMAGES.node]);
    const dir = join(store, "image");
    const env = { KILN_BASE_IMAGE: BASE_IMAGES.node, KILN_NODE_IMAGE: BASE_IMAGES.node };
    const s = await serve(["--progress", "quiet", "--cache", dir], project, env);
    built = true;
    try {
      const first = await predict(s.url, "Grace");
      const again = await predict(s.url, "Grace");
      expect(first.metrics.cache_hit).toBe(false);
      expect(again.metrics.cache_hit).toBe(true);
      expect(again.output).toBe(first.output);
    } finally {
      expect((await s.stop()).code).toBe(0);
    }
    expect((await readdir(join(dir, "entries"))).filter((f) => f.endsWith(".json"))).toHaveLength(1);
  });
});
