/**
 * The predictor schema at build time. TS/JS: compiled with compileTsPredictor and loaded by the node
 * worker (`--schema-only`) on the host, before the image build. Python: loaded by the Python worker
 * inside the built image (its dependencies live there), after the build. Both print a LoadedMessage.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { BuildError } from "../errors.js";
import type { PredictorRef, ResolvedManifest } from "../manifest/types.js";
import type { LoadedMessage } from "../runtime/protocol.js";
import { buildOpenApi } from "../schema/openapi.js";
import type { PredictorSchema } from "../schema/types.js";
import { KILN_VERSION } from "../version.js";
import { runOnce } from "../docker/build.js";

/** Finds the `loaded` frame in worker stdout (user code may print before it). */
function parseLoaded(stdout: string): LoadedMessage | null {
  const lines = stdout.trim().split("\n").reverse();
  for (const line of lines) {
    try {
      const msg = JSON.parse(line) as Partial<LoadedMessage>;
      if (msg.type === "loaded" && msg.schema) return msg as LoadedMessage;
    } catch {
      // not the frame
    }
  }
  return null;
}

export async function openApiLabel(schema: PredictorSchema): Promise<string> {
  return JSON.stringify(buildOpenApi(schema, { kilnVersion: KILN_VERSION }));
}

function schemaFailure(where: string, stderr: string, ref: PredictorRef): BuildError {
  const lines = stderr.trim().split("\n").filter(Boolean).slice(-20);
  return new BuildError(`could not load the predictor ${ref.raw} to read its schema (${where})`, {
    details: lines,
    hint: "Fix the error above; `kiln predict --no-docker` reproduces it quickly.",
  });
}

function workerArgs(manifest: ResolvedManifest, predict: string | null, train: string | null): string[] {
  const args: string[] = [];
  if (predict) args.push("--predictor", predict);
  if (train) args.push("--train", train);
  return args;
}

/** Node worker on the host: `node node-worker.mjs --predictor out.mjs:name --root ROOT --schema-only`. */
export async function nodeSchema(
  manifest: ResolvedManifest,
  compiled: { predict?: string | undefined; train?: string | undefined },
  runtimeBundle: string,
): Promise<LoadedMessage> {
  const predict =
    manifest.predict && compiled.predict ? `${compiled.predict}:${manifest.predict.name}` : null;
  const train = manifest.train && compiled.train ? `${compiled.train}:${manifest.train.name}` : null;
  const ref = (manifest.predict ?? manifest.train) as PredictorRef;
  const r = await execa(
    process.execPath,
    [
      join(runtimeBundle, "node-worker.mjs"),
      ...workerArgs(manifest, predict, train),
      "--root",
      manifest.root,
      "--schema-only",
    ],
    {
      cwd: manifest.root,
      reject: false,
      timeout: 120_000,
      stdio: ["ignore", "pipe", "pipe", "pipe", "pipe"],
    },
  );
  const loaded = r.exitCode === 0 ? parseLoaded(String(r.stdout)) : null;
  if (!loaded)
    throw schemaFailure(
      "node worker",
      `${String(r.stderr)}\n${r.exitCode === 0 ? "no schema on stdout" : ""}`,
      ref,
    );
  return loaded;
}

/** Python worker inside the built image, with the image's Python and packages. */
export async function pythonSchemaInImage(
  manifest: ResolvedManifest,
  image: string,
  signal?: AbortSignal,
): Promise<LoadedMessage> {
  const predict = manifest.predict ? `${manifest.predict.file}:${manifest.predict.name}` : null;
  const train = manifest.train ? `${manifest.train.file}:${manifest.train.name}` : null;
  const ref = (manifest.predict ?? manifest.train) as PredictorRef;
  const r = await runOnce(
    image,
    [
      "-u",
      "/kiln/python/kiln_worker.py",
      ...workerArgs(manifest, predict, train),
      "--root",
      "/src",
      "--schema-only",
    ],
    { entrypoint: "python3", env: { PYTHONPATH: "/kiln/python" }, ...(signal ? { signal } : {}) },
  );
  const loaded = r.exitCode === 0 ? parseLoaded(r.stdout) : null;
  if (!loaded)
    throw schemaFailure(
      "python worker in the image",
      `${r.stderr}\n${r.exitCode === 0 ? "no schema on stdout" : ""}`,
      ref,
    );
  return loaded;
}

/** Catches Python syntax errors on the host before a long build, when the host Python is new enough. */
export async function checkPythonSyntax(root: string, files: string[], pythonVersion: string): Promise<void> {
  const probe = await execa("python3", ["-c", "import sys; print('%d.%d' % sys.version_info[:2])"], {
    reject: false,
  });
  if (probe.exitCode !== 0) return;
  const [hMaj = 0, hMin = 0] = String(probe.stdout).trim().split(".").map(Number);
  const [pMaj = 0, pMin = 0] = pythonVersion.split(".").map(Number);
  if (hMaj < pMaj || (hMaj === pMaj && hMin < pMin)) return; // newer syntax than the host knows
  for (const file of files) {
    const source = await readFile(join(root, file), "utf8").catch(() => null);
    if (source === null) {
      throw new BuildError(`${file} (the predictor in cog.yaml) does not exist`, {
        hint: "Check predict:/train: in cog.yaml.",
      });
    }
    const r = await execa(
      "python3",
      [
        "-c",
        "import ast,sys\ntry:\n ast.parse(sys.stdin.read(), sys.argv[1])\nexcept SyntaxError as e:\n print(f'{e.filename}:{e.lineno}:{e.offset}: {e.msg}'); print((e.text or '').rstrip()); sys.exit(1)",
        file,
      ],
      { input: source, reject: false },
    );
    if (r.exitCode === 1) {
      throw new BuildError(`${file} has a syntax error`, {
        details: String(r.stdout).split("\n"),
        hint: "Fix it and build again.",
      });
    }
  }
}

export async function readSchemaFile(file: string): Promise<string> {
  const text = await readFile(file, "utf8").catch((err: unknown) => {
    throw new BuildError(`--openapi-schema ${file} cannot be read`, { cause: err });
  });
  try {
    const doc = JSON.parse(text) as { openapi?: unknown };
    if (typeof doc.openapi !== "string") throw new Error("no `openapi` version field");
    return JSON.stringify(doc);
  } catch (err) {
    throw new BuildError(
      `--openapi-schema ${file} is not an OpenAPI JSON document: ${(err as Error).message}`,
    );
  }
}
