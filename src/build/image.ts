/**
 * `kiln build`: predictor check + schema, plan, context, BuildKit build, schema label, result.
 * Emits BuildEvents for the CLI to render; never writes to the terminal itself.
 */
import { createHash, randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { execa } from "execa";
import { BuildError, UsageError } from "../errors.js";
import type { ResolvedManifest } from "../manifest/types.js";
import { KILN_VERSION } from "../version.js";
import { dockerBuild, ensureEngine, inspectImage, localImageId, removeImage } from "../docker/build.js";
import { LABELS } from "../docker/labels.js";
import { findRuntimeBundle } from "./bundle.js";
import { listContext, streamContext } from "./context.js";
import { renderBuildStages } from "./dockerfile.js";
import { fingerprintContext } from "./fingerprint.js";
import { depsCacheSources } from "./registry-cache.js";
import { prepareBuild, readTrainedWeights, type PreparedBuild } from "./prepare.js";
import {
  DEPS_LABEL,
  DEPS_PROJECT_LABEL,
  DEPS_FINGERPRINT_LABEL,
  depsTagFor,
  projectKey,
  pruneAfterBuild,
} from "./prune.js";
import { ProgressParser, type BuildEvent } from "./progress.js";
import { compileTsPredictor } from "./ts-predictor.js";
import {
  checkPythonSyntax,
  nodeSchema,
  openApiLabel,
  pythonSchemaInImage,
  readSchemaFile,
} from "./schema.js";

export interface BuildImageOptions {
  /** Final image name; default the manifest's `image`. */
  tag?: string | undefined;
  noCache?: boolean | undefined;
  secrets?: string[] | undefined;
  caCertFile?: string | undefined;
  baseImage?: string | undefined;
  nodeImage?: string | undefined;
  platform?: string | undefined;
  cacheFrom?: string[] | undefined;
  cacheTo?: string | undefined;
  /** Store inline BuildKit cache metadata in the final image (images that will be pushed). */
  inlineCache?: boolean | undefined;
  openapiSchemaFile?: string | undefined;
  /** Type-check TypeScript predictors first (default true; `--no-typecheck` turns it off). */
  typecheck?: boolean | undefined;
  /** `--weights PATH` (absolute): trained weights baked in as COG_WEIGHTS, in a layer of their own. */
  trainedWeights?: string | undefined;
  onEvent?: ((e: BuildEvent) => void) | undefined;
  signal?: AbortSignal | undefined;
}

export interface BuildImageResult {
  image: string;
  /** The dependencies image (kiln-deps:<fingerprint>) the code stage was built on. */
  depsImage: string;
  imageId: string;
  tags: string[];
  labels: Record<string, string>;
  layers: string[];
  sizeBytes: number;
  contextBytes: number;
  notes: string[];
  timings: { totalMs: number; prepareMs: number; buildMs: number; schemaMs: number };
}

async function compileAll(manifest: ResolvedManifest): Promise<{ predict?: string; train?: string }> {
  const out: { predict?: string; train?: string } = {};
  if (manifest.predict && manifest.predict.language !== "python")
    out.predict = (await compileTsPredictor(manifest.root, manifest.predict)).outFile;
  if (manifest.train && manifest.train.language !== "python")
    out.train = (await compileTsPredictor(manifest.root, manifest.train)).outFile;
  return out;
}

async function git(root: string, args: string[]): Promise<string | null> {
  const r = await execa("git", ["-C", root, ...args], { reject: false });
  return r.exitCode === 0 && String(r.stdout).trim() ? String(r.stdout).trim() : null;
}

/** Labels that do not depend on the built image: version, config and OCI provenance. */
export async function baseLabels(manifest: ResolvedManifest): Promise<Record<string, string>> {
  const labels: Record<string, string> = {
    [LABELS.version]: KILN_VERSION,
    [LABELS.config]: JSON.stringify(manifest.raw),
  };
  const source = await git(manifest.root, ["config", "--get", "remote.origin.url"]);
  const revision = await git(manifest.root, ["rev-parse", "HEAD"]);
  const created = await createdLabel(manifest.root);
  if (created) labels[LABELS.created] = created;
  if (source) labels[LABELS.source] = source;
  if (revision) labels[LABELS.revision] = revision;
  return labels;
}

/**
 * A build time would give every rebuild of unchanged inputs a new image ID (and a dangling old one), so
 * the created label names the sources' time instead: SOURCE_DATE_EPOCH when set (the reproducible-builds
 * convention), else the last commit's time, else no label.
 */
async function createdLabel(root: string): Promise<string | null> {
  const epoch = process.env.SOURCE_DATE_EPOCH;
  if (epoch !== undefined && epoch !== "") {
    if (!/^\d+$/.test(epoch))
      throw new UsageError(`SOURCE_DATE_EPOCH must be whole seconds since 1970, got "${epoch}"`);
    return new Date(Number(epoch) * 1000).toISOString();
  }
  const committed = await git(root, ["log", "-1", "--format=%ct"]);
  return committed ? new Date(Number(committed) * 1000).toISOString() : null;
}

/**
 * The TS schema only depends on the compiled module(s), the locked packages and kiln itself: cache the
 * label in .kiln/ keyed by their hash, so a comment or whitespace change does not re-run the worker.
 */
async function cachedNodeSchema(
  manifest: ResolvedManifest,
  compiled: { predict?: string; train?: string },
  bundle: string,
): Promise<string> {
  const hash = createHash("sha256").update(KILN_VERSION);
  for (const f of [compiled.predict, compiled.train, join(manifest.root, "package-lock.json")]) {
    if (f) hash.update(await readFile(f).catch(() => Buffer.alloc(0)));
  }
  const key = hash.digest("hex");
  const cacheFile = join(manifest.root, ".kiln", "schema-cache.json");
  const cached =
    (await readFile(cacheFile, "utf8").then(
      (t) => JSON.parse(t) as { key?: string; label?: string },
      () => null,
    )) ?? {};
  if (cached.key === key && cached.label) return cached.label;
  const label = await openApiLabel((await nodeSchema(manifest, compiled, bundle)).schema);
  await writeFile(cacheFile, JSON.stringify({ key, label })).catch(() => undefined);
  return label;
}

export async function buildImage(
  manifest: ResolvedManifest,
  options: BuildImageOptions = {},
): Promise<BuildImageResult> {
  const t0 = Date.now();
  const emit = options.onEvent ?? (() => undefined);
  // A --weights path that is not there is a usage error, reported before anything slow.
  const trainedWeights = options.trainedWeights
    ? await readTrainedWeights(options.trainedWeights)
    : undefined;
  emit({ kind: "phase", name: "checking the Docker engine" });
  await ensureEngine();
  const bundle = findRuntimeBundle();
  const main = manifest.predict ?? manifest.train;
  const isPython = main?.language === "python";

  emit({ kind: "phase", name: "loading the predictor" });
  let schemaLabel: string | null = options.openapiSchemaFile
    ? await readSchemaFile(options.openapiSchemaFile)
    : null;
  let compiled: { predict?: string; train?: string } = {};
  const tSchema0 = Date.now();
  if (isPython && manifest.build.pythonVersion) {
    const files = [manifest.predict?.file, manifest.train?.file].filter((f): f is string => Boolean(f));
    await checkPythonSyntax(manifest.root, files, manifest.build.pythonVersion);
  } else if (main) {
    if (options.typecheck !== false) {
      emit({ kind: "phase", name: "type-checking the predictor" });
      const { assertPredictorTypes } = await import("./ts-typecheck.js");
      const check = await assertPredictorTypes(manifest);
      if (check.skipped) emit({ kind: "note", text: check.skipped });
      if (check.cached) emit({ kind: "phase", name: "type check: sources unchanged since the last pass" });
    }
    compiled = await compileAll(manifest);
    if (!schemaLabel) schemaLabel = await cachedNodeSchema(manifest, compiled, bundle);
  }
  let schemaMs = Date.now() - tSchema0;

  const prepared: PreparedBuild = await prepareBuild(manifest, {
    baseImage: options.baseImage,
    nodeImage: options.nodeImage,
    caCertFile: options.caCertFile,
    compiled,
    trainedWeights,
  });
  for (const note of prepared.plan.notes) emit({ kind: "note", text: note });
  const finalTag = options.tag ?? manifest.image;
  const plan = prepared.plan;

  // Stage 1, the dependencies image (base, packages, weights, runtime): reused while its inputs are unchanged,
  // so a code change never re-sends the weights. Its tag carries the fingerprint of those inputs.
  const ctxBase = { root: manifest.root, plan, runtimeBundle: bundle, caCertFile: options.caCertFile };
  const stagesFor = (depsTag: string): ReturnType<typeof renderBuildStages> =>
    renderBuildStages(plan, depsTag);
  const depsEntries = await listContext({ ...ctxBase, dockerfile: stagesFor("").deps, part: "deps" });
  const fingerprint = await fingerprintContext(depsEntries, {
    base: (await localImageId(plan.baseImage)) ?? `remote:${plan.baseImage}`,
    node:
      plan.copyNode || plan.npm ? ((await localImageId(plan.nodeImage)) ?? `remote:${plan.nodeImage}`) : "",
    platform: options.platform ?? "",
    secrets: (options.secrets ?? []).map((s) => s.replace(/,(src|env|source)=.*$/, "")).join(","),
  });
  const depsTag = depsTagFor(fingerprint);
  const stages = stagesFor(depsTag);
  const prepareMs = Date.now() - t0;

  const labels = await baseLabels(manifest);
  if (schemaLabel) labels[LABELS.openapiSchema] = schemaLabel;
  // Python schemas come from the built image: build under a temporary tag, then add the label.
  const needsSchema = !schemaLabel;
  const buildTag = needsSchema ? `kiln-build-tmp/${randomBytes(6).toString("hex")}:latest` : finalTag;
  const common = {
    noCache: options.noCache,
    secrets: options.secrets,
    platform: options.platform,
    cacheFrom: options.cacheFrom,
    cacheTo: options.cacheTo,
    signal: options.signal,
  };

  const tBuild = Date.now();
  let contextBytes = 0;
  const run = async (
    entries: Awaited<ReturnType<typeof listContext>>,
    tags: string[],
    stageLabels: Record<string, string>,
    extra: { cacheFrom?: string[] | undefined; inlineCache?: boolean | undefined } = {},
  ): Promise<string> => {
    const parser = new ProgressParser(emit);
    const context = streamContext(entries);
    const contextError = context.done.then(
      () => null,
      (err: unknown) => err,
    );
    const result = await dockerBuild({
      ...common,
      ...extra,
      context: context.stream,
      tags,
      labels: stageLabels,
      onLine: (line) => parser.push(line),
    });
    const ctxErr = await contextError;
    if (ctxErr)
      throw new BuildError(`could not send the build context: ${(ctxErr as Error).message}`, {
        cause: ctxErr,
      });
    if (!result.ok || !result.imageId) throw parser.failure();
    contextBytes += (await context.done).bytes;
    return result.imageId;
  };

  const project = projectKey(manifest.root);
  const previousId = await localImageId(finalTag);
  const reuse = !options.noCache && (await localImageId(depsTag)) !== null;
  if (reuse) emit({ kind: "phase", name: "dependencies and weights unchanged: reusing " + depsTag });
  else {
    emit({ kind: "phase", name: "building dependencies and weights" });
    await run(
      depsEntries.map((e) =>
        e.name === "Dockerfile"
          ? { ...e, content: Buffer.from(stages.deps), size: Buffer.byteLength(stages.deps) }
          : e,
      ),
      [depsTag],
      { [DEPS_LABEL]: "1", [DEPS_FINGERPRINT_LABEL]: fingerprint, [DEPS_PROJECT_LABEL]: project },
      // Always inline cache here: pushing later tags this image as <repo>:kiln-deps for cold machines.
      { cacheFrom: depsCacheSources(options.cacheFrom), inlineCache: true },
    );
  }
  emit({ kind: "phase", name: "building code" });
  const codeEntries = await listContext({ ...ctxBase, dockerfile: stages.code, part: "code" });
  const builtId = await run(codeEntries, [buildTag], labels, { inlineCache: options.inlineCache });
  const buildMs = Date.now() - tBuild;
  let imageId = builtId;
  if (needsSchema) {
    try {
      emit({ kind: "phase", name: "reading the predictor schema in the image" });
      const tS = Date.now();
      const loaded = await pythonSchemaInImage(manifest, buildTag, options.signal);
      const schemaLabel = await openApiLabel(loaded.schema);
      labels[LABELS.openapiSchema] = schemaLabel;
      const labelled = await dockerBuild({
        context: Readable.from([`FROM ${buildTag}\n`]),
        tags: [finalTag],
        labels: { [LABELS.openapiSchema]: schemaLabel },
        inlineCache: options.inlineCache,
        signal: options.signal,
      });
      if (!labelled.ok || !labelled.imageId)
        throw new BuildError("adding the schema label failed", { details: labelled.log.slice(-20) });
      imageId = labelled.imageId;
      schemaMs += Date.now() - tS;
    } finally {
      await removeImage(buildTag);
    }
  }

  await pruneAfterBuild({ previousId, imageId, depsId: await localImageId(depsTag), project });
  const info = await inspectImage(imageId);
  return {
    image: finalTag,
    depsImage: depsTag,
    imageId,
    tags: info.repoTags,
    labels: info.labels,
    layers: info.layers,
    sizeBytes: info.size,
    contextBytes,
    notes: prepared.plan.notes,
    timings: { totalMs: Date.now() - t0, prepareMs, buildMs, schemaMs },
  };
}
