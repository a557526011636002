/** What every rule needs, and small checks shared by the manifest's sections. */
import { isInsideProject, type FileProbe } from "./files.js";
import { clip, quote, type ProblemList } from "./problems.js";
import type { KeyPath, ParsedYaml } from "./yaml-source.js";

export interface RuleContext {
  data: Record<string, unknown>;
  yaml: ParsedYaml;
  problems: ProblemList;
  probe: FileProbe;
}

export function checkProjectFile(ctx: RuleContext, path: KeyPath, rel: string, what: string): void {
  if (!isInsideProject(rel.trim())) {
    ctx.problems.error(
      path,
      `the ${what} ${quote(rel)} is outside the project`,
      "use a path relative to the directory of cog.yaml, inside it",
    );
    return;
  }
  const kind = ctx.probe.kind(rel.trim());
  if (kind === "missing")
    ctx.problems.error(
      path,
      `the ${what} ${clip(rel)} does not exist`,
      "create it, or fix the path (relative to the directory of cog.yaml)",
    );
  else if (kind === "dir") ctx.problems.error(path, `the ${what} ${clip(rel)} is a directory, not a file`);
}

// Docker reference: optional registry host[:port]/, lowercase path components, optional :tag, optional @digest.
const IMAGE_REF =
  /^(?:(?:[a-zA-Z0-9-]+\.)*[a-zA-Z0-9-]+(?::\d+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;

export function checkImageName(ctx: RuleContext, path: KeyPath, name: string): void {
  if (IMAGE_REF.test(name)) return;
  const lower = name.toLowerCase();
  const hint =
    name !== lower && IMAGE_REF.test(lower)
      ? `image names are lowercase: ${lower}`
      : 'use lowercase letters, digits, ".", "-", "_" and "/", e.g. registry.example.com/me/model:1.0';
  ctx.problems.error(path, `${quote(name)} is not a valid image name`, hint);
}

export function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}
