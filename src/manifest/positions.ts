/**
 * Position lookup for problems found after parsing (build plan, project scan, commands): the resolved
 * manifest remembers its YAML source, so a later rule still reports `cog.yaml:LINE:COL key: message`
 * like the parser's own rules, instead of searching the text again.
 */
import { ManifestError, type ManifestProblem } from "../errors.js";
import type { Anchor } from "./problems.js";
import { pathKey, type KeyPath, type PositionIndex } from "./yaml-index.js";
import type { ResolvedManifest } from "./types.js";

interface ManifestSource {
  displayName: string;
  yaml: PositionIndex;
}

// Kept beside the manifest, not in it: ResolvedManifest stays plain data (compared, serialised).
const sources = new WeakMap<ResolvedManifest, ManifestSource>();

export function rememberSource(manifest: ResolvedManifest, source: ManifestSource): void {
  sources.set(manifest, source);
}

/**
 * A problem positioned at `path` in the manifest's file (its nearest written ancestor for a missing key;
 * line 1 for manifests built in memory).
 */
export function problemAt(
  manifest: ResolvedManifest,
  path: KeyPath,
  message: string,
  options: { hint?: string | undefined; at?: Anchor; severity?: "error" | "warning" } = {},
): ManifestProblem {
  const source = sources.get(manifest);
  const info = source?.yaml.locate(path);
  const position = info ? info[options.at ?? "value"] : { line: 1, column: 1 };
  return {
    file: source?.displayName ?? manifest.file,
    line: position.line,
    column: position.column,
    path: pathKey(path),
    message,
    hint: options.hint,
    severity: options.severity ?? "error",
  };
}

/** Throws the one-problem ManifestError (exit 3) for a rule checked after parsing. */
export function failAt(
  manifest: ResolvedManifest,
  path: KeyPath,
  message: string,
  hint?: string,
  at: Anchor = "value",
): never {
  throw new ManifestError([problemAt(manifest, path, message, { hint, at })]);
}

/** predict (and exec, client, playground) run the predictor: a manifest without `predict:` is a manifest problem. */
export function requirePredictor(manifest: ResolvedManifest): void {
  if (manifest.predict) return;
  const train = manifest.train;
  const example = train && train.language !== "python" ? "predict.ts:predictor" : "predict.py:Predictor";
  failAt(
    manifest,
    ["predict"],
    "no `predict:` entry: there is no predictor to run",
    train
      ? `this project only trains (train: "${train.raw}"): run \`kiln train -i name=value\`, or add e.g. predict: "${example}"`
      : `add e.g. predict: "${example}"`,
  );
}

/** A build or a served model needs a predictor or a trainer (a train-only model serves /trainings). */
export function requireEntryPoint(manifest: ResolvedManifest, purpose: "build" | "run" = "build"): void {
  if (manifest.predict ?? manifest.train) return;
  failAt(
    manifest,
    ["predict"],
    `neither \`predict:\` nor \`train:\` is set: there is nothing to ${purpose}`,
    'add e.g. predict: "predict.py:Predictor"',
  );
}
