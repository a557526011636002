/**
 * `kiln predict` inputs: `-i name=value` flags and `--json JSON|@file|-`, coerced by the model's
 * schema and checked against it before any container starts. Two stages:
 *   parseInputArgs  - syntax only (runs before the build): name=value shape, --json parses, @files exist
 *   resolveInputs   - with the schema: coercion, file reading (data URIs), every problem at once
 */
import { readFile, stat } from "node:fs/promises";
import { resolve } from "node:path";
import { UsageError } from "../errors.js";
import { validateInput } from "../schema/validate.js";
import { checkValue, requiredMissing } from "../schema/value-checks.js";
import { toDataUri } from "../schema/media-types.js";
import { describeField, type FieldSpec, type SchemaView } from "../schema/view.js";

/** The model server's request body limit (kiln's and Cog's default). */
export const MAX_REQUEST_BYTES = 100 * 2 ** 20;

export interface InputEntry {
  name: string;
  value: string;
}

export interface RawInputs {
  /** -i flags in the order given. */
  entries: InputEntry[];
  /** The --json object, if any (-i entries override its keys). */
  json: Record<string, unknown> | undefined;
}

export interface InputProblem {
  field: string;
  message: string;
}

/** Thrown with every input problem at once; exit status 2 (usage). */
export class InputError extends UsageError {
  readonly problems: InputProblem[];
  constructor(problems: InputProblem[], hint?: string) {
    super(
      problems.length === 1 ? "1 problem with the inputs" : `${problems.length} problems with the inputs`,
      hint,
    );
    this.problems = problems;
    this.details.push(...problems.map((p) => (p.field ? `${p.field}: ${p.message}` : p.message)));
  }
}

export interface ParseOptions {
  cwd: string;
  /** Reads all of stdin (for --json -). */
  readStdin?: () => Promise<string>;
}

export async function parseInputArgs(
  flags: string[],
  json: string | undefined,
  opts: ParseOptions,
): Promise<RawInputs> {
  const problems: InputProblem[] = [];
  const entries: InputEntry[] = [];
  for (const flag of flags) {
    const eq = flag.indexOf("=");
    const name = eq > 0 ? flag.slice(0, eq).trim() : "";
    if (eq <= 0 || name === "") {
      problems.push({
        field: "",
        message: `-i ${JSON.stringify(flag)} is not name=value (e.g. -i prompt="a cat")`,
      });
      continue;
    }
    entries.push({ name, value: flag.slice(eq + 1) });
  }
  const parsedJson = json === undefined ? undefined : await readJsonArg(json, opts, problems);
  for (const e of entries) {
    if (e.value.startsWith("@")) await checkFile(e.value.slice(1), opts.cwd, e.name, problems);
  }
  for (const [name, value] of Object.entries(parsedJson ?? {})) {
    for (const v of Array.isArray(value) ? value : [value]) {
      if (typeof v === "string" && v.startsWith("@")) await checkFile(v.slice(1), opts.cwd, name, problems);
    }
  }
  if (problems.length > 0) throw new InputError(problems);
  return { entries, json: parsedJson };
}

async function readJsonArg(
  arg: string,
  opts: ParseOptions,
  problems: InputProblem[],
): Promise<Record<string, unknown> | undefined> {
  let text = arg;
  let source = "--json";
  if (arg === "-") {
    if (!opts.readStdin) throw new UsageError("--json - needs standard input");
    text = await opts.readStdin();
    source = "--json - (stdin)";
  } else if (arg.startsWith("@")) {
    const file = resolve(opts.cwd, arg.slice(1));
    source = `--json ${arg}`;
    try {
      text = await readFile(file, "utf8");
    } catch (err) {
      problems.push({
        field: "",
        message: `${source}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      });
      return undefined;
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    problems.push({ field: "", message: `${source} is not valid JSON: ${(err as Error).message}` });
    return undefined;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    problems.push({
      field: "",
      message: `${source} must be a JSON object of inputs, like {"prompt": "a cat"}`,
    });
    return undefined;
  }
  // Accept a whole prediction request body ({"input": {...}}) as well as the bare input object.
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (keys.length === 1 && keys[0] === "input" && typeof obj["input"] === "object" && obj["input"] !== null) {
    return obj["input"] as Record<string, unknown>;
  }
  return obj;
}

async function checkFile(path: string, cwd: string, field: string, problems: InputProblem[]): Promise<void> {
  const file = resolve(cwd, path);
  try {
    const s = await stat(file);
    if (!s.isFile()) problems.push({ field, message: `@${path} is not a file` });
  } catch {
    problems.push({ field, message: `file not found: @${path} (looked at ${file})` });
  }
}

/** Coerces and checks raw inputs against the schema; returns the request's `input` object. */
export async function resolveInputs(
  raw: RawInputs,
  view: SchemaView,
  opts: { cwd: string },
): Promise<Record<string, unknown>> {
  const problems: InputProblem[] = [];
  const input: Record<string, unknown> = {};
  const fromFlags = new Map<string, string[]>();
  for (const e of raw.entries) fromFlags.set(e.name, [...(fromFlags.get(e.name) ?? []), e.value]);

  const names = new Set([...Object.keys(raw.json ?? {}), ...fromFlags.keys()]);
  for (const name of names) {
    const spec = view.byName.get(name);
    if (!spec) {
      problems.push({ field: name, message: unknownMessage(name, view) });
      continue;
    }
    const flagValues = fromFlags.get(name);
    const value = flagValues ? coerceFlag(spec, flagValues, problems) : raw.json?.[name];
    if (value === undefined) continue;
    const fileRead = await readFileRefs(spec, value, opts.cwd, problems);
    if (fileRead === undefined) continue;
    const problem = checkValue(spec, fileRead);
    if (problem) problems.push({ field: name, message: problem });
    else input[name] = fileRead;
  }
  for (const spec of requiredMissing(view, names)) {
    problems.push({
      field: spec.name,
      message: `required input is missing: expected ${describeField(spec)}`,
    });
  }
  const size = Object.values(input).reduce<number>((n, v) => n + (JSON.stringify(v)?.length ?? 0), 0);
  if (size > MAX_REQUEST_BYTES) {
    problems.push({
      field: "",
      message: `the inputs take ${Math.round(size / 2 ** 20)} MiB as JSON (files travel base64-encoded), over the server's ${MAX_REQUEST_BYTES / 2 ** 20} MiB request limit: pass large files as http(s) URLs`,
    });
  }
  // The server's own validator has the last word (anything the friendlier checks above do not cover).
  if (problems.length === 0) {
    const result = validateInput(view.schema, input);
    if (!result.ok) {
      for (const issue of result.errors) {
        const field = String(issue.loc[2] ?? "");
        const spec = view.byName.get(field);
        problems.push({ field, message: spec ? `${issue.msg}: expected ${describeField(spec)}` : issue.msg });
      }
    }
  }
  if (problems.length > 0) throw new InputError(problems, usageHint(view));
  return input;
}

function unknownMessage(name: string, view: SchemaView): string {
  const known = view.fields.map((f) => f.name);
  const near = closest(name, known);
  const suggestion = near ? ` (did you mean "${near}"?)` : "";
  return `unknown input${suggestion}; this model's inputs are: ${known.join(", ") || "(none)"}`;
}

function usageHint(view: SchemaView): string {
  const lines = view.fields.map(
    (f) => `-i ${f.name}=... ${describeField(f)}${view.required.has(f.name) ? " (required)" : ""}`,
  );
  return `this model takes:\n  ${lines.join("\n  ")}`;
}

/** Turns the string(s) given with -i into the JSON value the schema expects. */
export function coerceFlag(spec: FieldSpec, values: string[], problems: InputProblem[]): unknown {
  if (spec.kind === "array") {
    const only = values[0];
    if (values.length === 1 && only !== undefined && only.trimStart().startsWith("[")) {
      try {
        return JSON.parse(only) as unknown;
      } catch {
        // not JSON: a single item that happens to start with "["
      }
    }
    const item = spec.items ?? { name: spec.name, kind: "any", hasDefault: false, nullable: false };
    const out: unknown[] = [];
    for (const v of values) {
      const coerced = coerceScalar(item, v);
      if (coerced.error) {
        problems.push({ field: spec.name, message: coerced.error });
        return undefined;
      }
      out.push(coerced.value);
    }
    return out;
  }
  if (values.length > 1) {
    problems.push({
      field: spec.name,
      message: `given ${values.length} times, but it is not a list: expected ${describeField(spec)}`,
    });
    return undefined;
  }
  const coerced = coerceScalar(spec, values[0] ?? "");
  if (coerced.error) {
    problems.push({ field: spec.name, message: coerced.error });
    return undefined;
  }
  return coerced.value;
}

function coerceScalar(spec: FieldSpec, text: string): { value?: unknown; error?: string } {
  const got = `got ${JSON.stringify(text)}`;
  const expected = `expected ${describeField(spec)}, ${got}`;
  switch (spec.kind) {
    case "integer":
      return /^[+-]?\d+$/.test(text.trim()) ? { value: Number(text.trim()) } : { error: expected };
    case "number": {
      const n = text.trim() === "" ? Number.NaN : Number(text);
      return Number.isFinite(n) ? { value: n } : { error: expected };
    }
    case "boolean": {
      const t = text.trim().toLowerCase();
      if (["true", "1", "yes", "on"].includes(t)) return { value: true };
      if (["false", "0", "no", "off"].includes(t)) return { value: false };
      return { error: expected };
    }
    case "object":
      try {
        const v = JSON.parse(text) as unknown;
        if (typeof v === "object" && v !== null && !Array.isArray(v)) return { value: v };
      } catch {
        // reported below
      }
      return { error: `expected a JSON object like {"key": "value"}, ${got}` };
    case "any":
      try {
        return { value: JSON.parse(text) as unknown };
      } catch {
        return { value: text };
      }
    case "file":
      if (text.startsWith("@") || /^(https?:\/\/|data:)/i.test(text)) return { value: text };
      return {
        error: `expected a file: write -i ${spec.name.replace(/\[\]$/, "")}=@${text} to send the file at that path (or give an http(s) URL or a data: URI)`,
      };
    default:
      // Choices are compared as given; an integer enum still needs a number.
      if (spec.choices?.every((c) => typeof c === "number") && /^[+-]?\d+(\.\d+)?$/.test(text.trim())) {
        return { value: Number(text) };
      }
      return { value: text };
  }
}

/** Replaces `@path` strings in file inputs by data URIs (read now, after the schema says it is a file). */
async function readFileRefs(
  spec: FieldSpec,
  value: unknown,
  cwd: string,
  problems: InputProblem[],
): Promise<unknown> {
  const isFile = spec.kind === "file" || (spec.kind === "array" && spec.items?.kind === "file");
  if (!isFile) return value;
  const read = async (v: unknown): Promise<unknown> => {
    if (typeof v !== "string" || !v.startsWith("@")) return v;
    const file = resolve(cwd, v.slice(1));
    try {
      return toDataUri(await readFile(file), file);
    } catch (err) {
      problems.push({
        field: spec.name,
        message: `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      });
      return undefined;
    }
  };
  if (Array.isArray(value)) {
    const out = await Promise.all(value.map(read));
    return out.includes(undefined) ? undefined : out;
  }
  return read(value);
}

/** The nearest known name within a small edit distance, for "did you mean". */
export function closest(name: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(name.length / 3)) + 1;
  for (const c of candidates) {
    const d = distance(name.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j] ?? 0;
      row[j] = Math.min((row[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length] ?? 0;
}
