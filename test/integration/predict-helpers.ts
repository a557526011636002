/**
 * Shared bits of the predict/serve/exec integration tests: the engine, images labelled kiln.test=1 and
 * a check that nothing a test started is left running.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { cp, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { EngineApiError } from "../../src/docker/api.js";
import { engineClient, type Engine } from "../../src/docker/engine.js";
import { depsTagOf } from "../../src/build/prune.js";
import { requireDocker } from "../helpers/docker.js";

const run = promisify(execFile);

export const TEST_LABEL = "kiln.test";
export const DOCKER_CLI =
  process.env["KILN_DOCKER_CLI"] ?? (existsSync("/usr/bin/docker") ? "/usr/bin/docker" : "docker");

/** The engine; throws (never skips) when it or the offline base images are missing. */
export async function engine(): Promise<Engine> {
  await requireDocker();
  return engineClient();
}

/** Builds an image from `files` (name -> content) with the classic builder; labelled kiln.test=1. */
export async function buildTestImage(
  tag: string,
  dockerfile: string,
  files: Record<string, string> = {},
): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "kiln-img-"));
  try {
    await writeFile(join(dir, "Dockerfile"), dockerfile);
    for (const [name, content] of Object.entries(files)) {
      if (content.startsWith("file://")) await cp(new URL(content), join(dir, name));
      else await writeFile(join(dir, name), content);
    }
    await run(
      DOCKER_CLI,
      ["build", "-q", "--network", "host", "--label", `${TEST_LABEL}=1`, "-t", tag, dir],
      {
        env: { ...process.env, DOCKER_BUILDKIT: "0" },
      },
    );
    return tag;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The fake model image (test/prediction/fixtures/fake-model.mjs on kiln-test/node) that the predict,
 * serve and exit-code tests run, optionally carrying `schema` as its run.cog.openapi_schema label.
 * One Dockerfile for all of them, so the engine's layer cache builds its layers once.
 */
/**
 * An OpenAPI document shaped like Cog's (what an image's run.cog.openapi_schema label holds): these
 * Input properties (and `required`), this Output schema, and any further component schemas.
 */
export function cogSchema(o: {
  input: Record<string, unknown>;
  required?: string[];
  output: Record<string, unknown>;
  schemas?: Record<string, unknown>;
}): unknown {
  const input = {
    title: "Input",
    type: "object",
    properties: o.input,
    ...(o.required ? { required: o.required } : {}),
  };
  return {
    openapi: "3.0.2",
    info: { title: "Cog", version: "0.0.0-test" },
    paths: {},
    components: { schemas: { Input: input, Output: { title: "Output", ...o.output }, ...o.schemas } },
  };
}

export function buildFakeModelImage(tag: string, schema?: unknown): Promise<string> {
  // Dockerfile LABEL values are subject to $variable substitution: escape the `$ref`s.
  const label =
    schema === undefined
      ? ""
      : `LABEL run.cog.openapi_schema=${JSON.stringify(JSON.stringify(schema)).replaceAll("$", "\\$")}\n`;
  return buildTestImage(
    tag,
    `FROM kiln-test/node\nCOPY server.mjs /kiln/server.mjs\n${label}CMD ["node", "/kiln/server.mjs"]\n`,
    { "server.mjs": new URL("../prediction/fixtures/fake-model.mjs", import.meta.url).href },
  );
}

/**
 * Removes an image the test created, and the `kiln-deps:<fingerprint>` dependencies image it was built
 * on when no other model image shares it. Throws if the image stays: a leaked image should fail the
 * suite, not go unnoticed.
 */
export async function removeImage(docker: Engine, tag: string): Promise<void> {
  const labels = await docker.inspectImage(tag).then(
    (i): Record<string, string> => i.Config.Labels ?? {},
    (): Record<string, string> => ({}),
  );
  const deps = depsTagOf(labels);
  const fp = labels["kiln.deps.fingerprint"];
  const sharers = fp
    ? (await docker.listImages({ label: [`kiln.deps.fingerprint=${fp}`, "run.cog.version"] }))
        .flatMap((i) => i.RepoTags ?? [])
        .filter((t) => t !== tag && t !== "<none>:<none>")
    : [];
  for (const ref of [tag, ...(deps && sharers.length === 0 ? [deps] : [])]) {
    for (let attempt = 0; ; attempt++) {
      try {
        await docker.removeImage(ref);
        break;
      } catch (err) {
        if (err instanceof EngineApiError && err.statusCode === 404) break;
        if (attempt >= 2) throw new Error(`could not remove test image ${ref}: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }
}

/** kiln containers (label kiln.container) from this test run, running or not. */
export async function kilnContainers(docker: Engine, label = `${TEST_LABEL}=1`): Promise<string[]> {
  const list = await docker.listContainers({ label: ["kiln.container", label] });
  return list.map((c) => c.Id);
}
