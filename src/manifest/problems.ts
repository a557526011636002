/** Collects manifest problems, each positioned at the key or value it is about. */
import type { ManifestProblem } from "../errors.js";
import { pathKey, type KeyPath, type Position, type PositionIndex } from "./yaml-index.js";

export type Anchor = "key" | "value";

export class ProblemList {
  readonly items: ManifestProblem[] = [];
  constructor(
    readonly file: string,
    private readonly yaml: PositionIndex | undefined,
  ) {}

  /** `positionOf`: take the position from another key (for a missing key, point at what needs it). */
  error(path: KeyPath, message: string, hint?: string, at: Anchor = "value", positionOf?: KeyPath): void {
    this.add("error", path, message, hint, at, positionOf);
  }

  /** `code`: the warning's stable kind, as --json documents carry it. */
  warn(path: KeyPath, message: string, hint?: string, at: Anchor = "key", code?: string): void {
    this.add("warning", path, message, hint, at, undefined, code);
  }

  /** A problem at an explicit position (YAML syntax errors, whole-file problems). */
  at(
    position: Position,
    message: string,
    hint?: string,
    severity: "error" | "warning" = "error",
    code?: string,
  ): void {
    this.items.push({
      file: this.file,
      line: position.line,
      column: position.column,
      path: "",
      message,
      hint,
      severity,
      ...(code ? { code } : {}),
    });
  }

  get errorCount(): number {
    return this.items.filter((p) => p.severity === "error").length;
  }

  private add(
    severity: "error" | "warning",
    path: KeyPath,
    message: string,
    hint: string | undefined,
    at: Anchor,
    positionOf?: KeyPath,
    code?: string,
  ): void {
    const info = this.yaml?.locate(positionOf ?? path);
    const position = info ? info[at] : { line: 1, column: 1 };
    this.items.push({
      file: this.file,
      line: position.line,
      column: position.column,
      path: truncate(pathKey(path), 120),
      message,
      hint,
      severity,
      ...(code ? { code } : {}),
    });
  }
}

/** How a found value reads in a message: `"abc"`, `42`, `a list`, `a mapping`, `nothing`. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return "nothing (an empty value)";
  if (typeof value === "string") return `the string ${JSON.stringify(truncate(value, 60))}`;
  if (typeof value === "number") return `the number ${value}`;
  if (typeof value === "boolean") return `${value}`;
  if (Array.isArray(value))
    return value.length === 0
      ? "an empty list"
      : `a list of ${value.length} item${value.length === 1 ? "" : "s"}`;
  if (value instanceof Date) return `a date (${value.toISOString().slice(0, 10)})`;
  if (typeof value === "object") return "a mapping";
  return typeof value;
}

/** A user's string quoted for a message, cut short so a pathological value cannot flood the terminal. */
export function quote(s: string): string {
  return JSON.stringify(truncate(s, 80));
}

/** A user's string shown as-is in a message, cut short. */
export function clip(s: string): string {
  return truncate(s, 80);
}

function truncate(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** The value at a key path in plain parsed YAML. */
export function valueAt(root: unknown, path: KeyPath): unknown {
  let cur: unknown = root;
  for (const part of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string | number, unknown>)[part];
  }
  return cur;
}
