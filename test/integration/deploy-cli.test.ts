/**
 * kiln deploy against a real registry (127.0.0.1:5001): the facts come from the pushed image's labels
 * (GPU, concurrency), the written Kubernetes file passes the offline validation, --apply hands the
 * file to kubectl (a recording stand-in, as no cluster runs here), and images that are not pinned or
 * carry no Cog labels are refused with a usage error.
 */
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { validateKubernetes } from "../../src/deploy/validate-kubernetes.js";
import { EXIT_CODES } from "../../src/errors.js";
import { runKiln } from "../helpers/cli.js";
import {
  BASE_IMAGES,
  REGISTRY,
  buildTestImage,
  removeImages,
  requireDocker,
  requireRegistry,
} from "../helpers/docker.js";

const repo = `kiln-test/deploy-cli-${Date.now().toString(36)}`;
const image = `${REGISTRY}/${repo}:v1`;
const bare = `${REGISTRY}/${repo}-bare:v1`;
const config = {
  build: { gpu: true, python_version: "3.11" },
  predict: "predict.py:Predictor",
  concurrency: { max: 3 },
};
let pinned = "";
let pinnedBare = "";
let dir = "";

async function push(tag: string, labels: string[]): Promise<string> {
  await buildTestImage(
    tag,
    [`FROM ${BASE_IMAGES.bookworm}`, `RUN echo ${tag} > /id.txt`, ...labels, ""].join("\n"),
  );
  const r = await runKiln(["push", "--no-build", tag]);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.trim();
}

beforeAll(async () => {
  await requireDocker([BASE_IMAGES.bookworm]);
  await requireRegistry(REGISTRY);
  dir = await mkdtemp(join(tmpdir(), "kiln-deploy-cli-"));
  pinned = await push(image, [
    `LABEL run.cog.version="0.1.0"`,
    `LABEL run.cog.config=${JSON.stringify(JSON.stringify(config))}`,
  ]);
  pinnedBare = await push(bare, []);
  await removeImages([image, bare]); // the facts must come from the registry
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

function documents(text: string): Record<string, unknown>[] {
  return parseAllDocuments(text).map((d) => d.toJS() as Record<string, unknown>);
}

describe("kiln deploy with a pushed image", () => {
  it("writes Kubernetes objects from the registry's labels: GPU, queue lag per concurrency", async () => {
    const out = join(dir, "k8s");
    const r = await runKiln([
      "deploy",
      "kubernetes",
      pinned,
      "--queue",
      "redis://redis.infra:6379",
      "-o",
      out,
      "--json",
    ]);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout) as { file: string; name: string; objects: string[] };
    expect(summary.name).toBe(repo.split("/")[1]);
    const docs = documents(await readFile(summary.file, "utf8"));
    expect(validateKubernetes(docs)).toEqual([]);
    const text = JSON.stringify(docs);
    expect(text).toContain(`"image":"${pinned}"`);
    expect(text).toContain('"nvidia.com/gpu":"1"');
    expect(text).toContain('"lagCount":"3"');
    expect(text).toContain(`"stream":"kiln:queue:${pinned.split("@sha256:")[1]}"`);
  });

  it("--apply runs kubectl apply -f on the written file", async () => {
    const kubectl = join(dir, "kubectl");
    const log = join(dir, "kubectl.log");
    await writeFile(kubectl, `#!/bin/sh\necho "$@" >> ${log}\necho "deployment.apps/x configured"\n`);
    await chmod(kubectl, 0o755);
    process.env.KILN_KUBECTL = kubectl;
    try {
      const out = join(dir, "apply");
      const r = await runKiln(["deploy", "kubernetes", pinned, "--name", "applied", "-o", out, "--apply"]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain("deployment.apps/x configured");
      expect((await readFile(log, "utf8")).trim()).toBe(`apply -f ${join(out, "applied.kubernetes.yaml")}`);
      process.env.KILN_KUBECTL = join(dir, "no-such-kubectl");
      const missing = await runKiln(["deploy", "kubernetes", pinned, "--apply"]);
      expect(missing.code).toBe(EXIT_CODES.usage);
      expect(missing.stderr).toContain("--apply needs kubectl, which is not on PATH");
    } finally {
      delete process.env.KILN_KUBECTL;
    }
  });

  it("refuses an image without Cog labels, and a tag instead of a digest", async () => {
    const r = await runKiln(["deploy", "swarm", pinnedBare]);
    expect(r.code).toBe(EXIT_CODES.usage);
    expect(r.stderr).toContain("has no run.cog.* labels: it was not built by kiln or Cog.");
    const tagged = await runKiln(["deploy", "swarm", image]);
    expect(tagged.code).toBe(EXIT_CODES.usage);
    expect(tagged.stderr).toContain("is not pinned by digest");
  });

  it("prints the stack to stdout without -o", async () => {
    const r = await runKiln([
      "deploy",
      "swarm",
      pinned,
      "--replicas",
      "3",
      "--constraint",
      "node.labels.gpu==true",
    ]);
    expect(r.code, r.stderr).toBe(0);
    const [stack] = documents(r.stdout) as { services: { model: { deploy: Record<string, unknown> } } }[];
    expect(stack!.services.model.deploy.replicas).toBe(3);
    expect(JSON.stringify(stack)).toContain('"kind":"NVIDIA-GPU"');
  });
});
