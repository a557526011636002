/**
 * A real image, once: build and push the file-output fixture model, generate clients from the image
 * (local engine, then straight from the registry with --remote): both pin the registry digest; then
 * `kiln serve IMAGE` and run the generated TypeScript and Python clients against the container.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runKiln } from "../helpers/cli.js";
import { BASE_IMAGES, REGISTRY, removeImages, requireDocker, requireRegistry } from "../helpers/docker.js";
import { importGeneratedTs, runPython, scratchProject } from "../client-gen/helpers.js";
import { modelsCopy, serveImage, type Served } from "./client-helpers.js";
import { kiln } from "./predict-cli.js";

const IMAGE = `${REGISTRY}/kiln-test/client-single-${process.pid}:v1`;
let models: { dir: string; cleanup: () => Promise<void> };
let scratch: { dir: string; cleanup: () => Promise<void> };
let digest = "";
let server: Served | undefined;

beforeAll(async () => {
  await requireDocker([BASE_IMAGES.node]);
  await requireRegistry(REGISTRY);
  models = await modelsCopy();
  scratch = await scratchProject("image");
  const r = await kiln(
    [
      "build",
      "-f",
      "cog.single.yaml",
      "-t",
      IMAGE,
      "--base-image",
      BASE_IMAGES.node,
      "--node-image",
      BASE_IMAGES.node,
      "--push",
    ],
    { cwd: models.dir },
  );
  expect(r.code, r.stderr).toBe(0);
  digest = /@(sha256:[0-9a-f]{64})/.exec(r.stdout + r.stderr)?.[1] ?? "";
  expect(digest).not.toBe("");
});

afterAll(async () => {
  await server?.stop();
  await removeImages([IMAGE]);
  await scratch?.cleanup();
  await models?.cleanup();
});

describe("kiln client IMAGE", () => {
  it("reads the schema label and pins the registry digest, locally and with --remote", async () => {
    const local = await runKiln(["client", IMAGE, "-o", "local.ts"], scratch.dir);
    expect(local.code, local.stderr).toBe(0);
    const remote = await runKiln(["client", IMAGE, "--remote", "-o", "remote.ts"], scratch.dir);
    expect(remote.code, remote.stderr).toBe(0);
    const a = await readFile(join(scratch.dir, "local.ts"), "utf8");
    const b = await readFile(join(scratch.dir, "remote.ts"), "utf8");
    expect(a).toContain(`export const VERSION: string | null = "${digest}";`);
    expect(a).toContain(`export const MODEL = "kiln-test/client-single-${process.pid}";`);
    expect(b.replace(" --remote", "").replace("remote.ts", "local.ts")).toBe(a);
  });

  it("the generated clients run against the image served by kiln serve", async () => {
    server = await serveImage(IMAGE);
    const py = await runKiln(
      ["client", IMAGE, "--base-url", `${server.url}/v1`, "-o", "single_image.py"],
      scratch.dir,
    );
    expect(py.code, py.stderr).toBe(0);
    const code = await readFile(join(scratch.dir, "local.ts"), "utf8");
    const mod = (await importGeneratedTs(scratch.dir, code, "image")) as {
      Client: new (o: Record<string, unknown>) => {
        run(i: Record<string, unknown>): Promise<{ bytes(): Promise<Uint8Array> }>;
      };
    };
    const out = await new mod.Client({ baseUrl: `${server.url}/v1` }).run({ text: "from the image" });
    expect(new TextDecoder().decode(await out.bytes())).toBe("from the image");
    const got = await runPython(
      scratch.dir,
      "import json, single_image as s\nprint(json.dumps([s.VERSION, s.Client().run({'text': 'py'}).read().decode()]))\n",
    );
    expect(got).toEqual([digest, "py"]);
  });
});
