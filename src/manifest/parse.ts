/**
 * cog.yaml text -> ResolvedManifest or the complete list of problems. No exceptions for bad input:
 * every problem is a positioned ManifestProblem, and all of them are reported at once.
 */
import { isAbsolute, resolve } from "node:path";
import type { ManifestProblem } from "../errors.js";
import { diskProbe, type FileProbe } from "./files.js";
import { rememberSource } from "./positions.js";
import { ProblemList, describeValue } from "./problems.js";
import { resolveManifest } from "./resolve.js";
import { checkRules } from "./rules.js";
import { manifestSchema } from "./schema.js";
import type { ResolvedManifest } from "./types.js";
import { applyYaml11Booleans } from "./yaml11.js";
import type { NodeInfo } from "./yaml-index.js";
import { parseYaml } from "./yaml-source.js";
import { reportZodIssues } from "./zod-issues.js";

export interface ParseOptions {
  /** The manifest's path (absolute, or relative to root). */
  file: string;
  /** Absolute project root: the directory holding the manifest. */
  root: string;
  /** How the file is named in messages (default: `file`). */
  displayName?: string;
  /** Project file access for existence checks (default: the real disk under root). */
  probe?: FileProbe;
}

export interface ParseResult {
  /** Set when there are no errors (warnings may exist). */
  manifest?: ResolvedManifest;
  /** How many errors the file has in all, including any not listed. */
  errorCount: number;
  /** Errors and warnings, in file order (at most MAX_PROBLEMS, then one "... more" line). */
  problems: ManifestProblem[];
  /** With `manifest`: where each key path sits in the file (what the manifest cache stores). */
  nodes?: ReadonlyMap<string, NodeInfo>;
}

/** Beyond this many problems the rest are summarised: a broken file gets a bounded answer. */
const MAX_PROBLEMS = 50;

export function parseManifest(text: string, options: ParseOptions): ParseResult {
  const display = options.displayName ?? options.file;
  const absFile = isAbsolute(options.file) ? options.file : resolve(options.root, options.file);
  const yaml = parseYaml(text);
  const problems = new ProblemList(display, yaml);

  if (yaml.errors.length > 0) {
    for (const e of yaml.errors) problems.at(e.position, `invalid YAML: ${e.message}`, syntaxHint(e.message));
    return { problems: finish(problems), errorCount: problems.errorCount };
  }
  for (const w of yaml.warnings) problems.at(w.position, `YAML: ${w.message}`, undefined, "warning", "yaml");

  const data = yaml.value;
  if (data === null || data === undefined) {
    problems.at(
      { line: 1, column: 1 },
      "the file is empty",
      'add at least a predictor, e.g. predict: "predict.py:Predictor" (or run `kiln init`)',
    );
    return { problems: finish(problems), errorCount: problems.errorCount };
  }
  if (typeof data !== "object" || Array.isArray(data)) {
    problems.error(
      [],
      `expected a mapping of settings (build:, predict:, ...), found ${describeValue(data)}`,
      "see `kiln init` for a starting point",
    );
    return { problems: finish(problems), errorCount: problems.errorCount };
  }

  applyYaml11Booleans(data as Record<string, unknown>, yaml, problems);
  const parsed = manifestSchema.safeParse(data);
  if (!parsed.success) reportZodIssues(parsed.error.issues, data, problems);
  const checked = checkRules({
    data: data as Record<string, unknown>,
    yaml,
    problems,
    probe: options.probe ?? diskProbe(options.root),
  });

  const list = finish(problems);
  // Unknown keys that are no typo were only warned about: resolve the manifest without them.
  const usable =
    parsed.success || problems.errorCount > 0
      ? parsed
      : manifestSchema.safeParse(withoutUnknownKeys(data, parsed.error.issues));
  if (!usable.success || problems.errorCount > 0) return { problems: list, errorCount: problems.errorCount };
  const manifest = resolveManifest(
    usable.data,
    checked,
    data as Record<string, unknown>,
    absFile,
    options.root,
  );
  rememberSource(manifest, { displayName: display, yaml });
  return { manifest, problems: list, errorCount: 0, nodes: yaml.nodes };
}

/** A copy of `data` without the keys zod reported as unrecognized. */
function withoutUnknownKeys(
  data: unknown,
  issues: readonly { code: string; path: PropertyKey[]; keys?: string[] }[],
): unknown {
  const copy = structuredClone(data) as Record<string, unknown>;
  for (const issue of issues) {
    if (issue.code !== "unrecognized_keys" || !issue.keys) continue;
    let node: unknown = copy;
    for (const step of issue.path)
      node = (node as Record<PropertyKey, unknown> | undefined)?.[step as string];
    if (node && typeof node === "object")
      for (const key of issue.keys) delete (node as Record<string, unknown>)[key];
  }
  return copy;
}

/** Sorts by position and caps the list so a pathological file still gets a short answer. */
function finish(problems: ProblemList): ManifestProblem[] {
  const sorted = [...problems.items].sort((a, b) => a.line - b.line || a.column - b.column);
  if (sorted.length <= MAX_PROBLEMS) return sorted;
  const shown = sorted.slice(0, MAX_PROBLEMS);
  const last = shown[shown.length - 1] as ManifestProblem;
  shown.push({
    ...last,
    path: "",
    message: `... and ${sorted.length - MAX_PROBLEMS} more problems not shown`,
    hint: "fix these first",
    // Only warnings (unknown keys of a newer Cog, say) must not turn into a failure by being many.
    severity: sorted.some((p) => p.severity === "error") ? "error" : "warning",
  });
  return shown;
}

function syntaxHint(message: string): string | undefined {
  if (/tab/i.test(message)) return "indent with spaces, not tabs";
  if (/unique|duplicate/i.test(message))
    return "each key may appear once per mapping; remove or merge the duplicate";
  if (/multiple documents/i.test(message)) return 'cog.yaml holds one document: remove the extra "---"';
  if (/indent|implicit|block|flow|mapping/i.test(message))
    return "check the indentation and that every key ends with a colon";
  return undefined;
}
