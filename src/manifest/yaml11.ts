/**
 * Cog reads cog.yaml as YAML 1.1, where an unquoted `yes`/`no`/`on`/`off` is a boolean; kiln's
 * parser is YAML 1.2, where they are strings. For the boolean keys, read them the way Cog does (so
 * valid Cog manifests keep their meaning) and suggest the unambiguous spelling.
 */
import type { ProblemList } from "./problems.js";
import type { KeyPath, ParsedYaml } from "./yaml-source.js";

const BOOLEAN_KEYS: KeyPath[] = [
  ["build", "gpu"],
  ["build", "fast"],
  ["build", "cog_runtime"],
];

const YAML11: Record<string, boolean> = { yes: true, y: true, on: true, no: false, n: false, off: false };

/** Rewrites YAML 1.1 booleans in place (only unquoted ones) and warns for each. */
export function applyYaml11Booleans(
  data: Record<string, unknown>,
  yaml: ParsedYaml,
  problems: ProblemList,
): void {
  for (const path of BOOLEAN_KEYS) {
    const [section, key] = path as [string, string];
    const parent = data[section];
    if (parent === null || typeof parent !== "object" || Array.isArray(parent)) continue;
    const record = parent as Record<string, unknown>;
    const value = record[key];
    if (typeof value !== "string") continue;
    const meaning = YAML11[value.toLowerCase()];
    // Quoted "yes" is a string in every YAML version: leave it for the type check to report.
    if (meaning === undefined || yaml.node(path)?.plainSource !== value) continue;
    record[key] = meaning;
    problems.warn(
      path,
      `${value} is read as ${meaning} (YAML 1.1, as Cog reads it)`,
      `write ${key}: ${meaning}`,
      "value",
      "yaml11_value",
    );
  }
}
