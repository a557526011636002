/**
 * `kiln predict` inputs: `-i name=value` flags and `--json JSON|@file|-`, coerced by the model's
 * schema and checked against it before any container starts. Two stages:
 *   parseInputArgs  - syntax only (runs before the build): name=value shape, --json parses, @files exist
 *   resolveInputs   - with the schema: coercion, file reading (data URIs), every problem at once
 */
import { readFile, stat } from "node:fs/promises";
import { resolve } from "node:path";
import { UsageError } from "../errors.js";
import { validateInput, type ValidationIssue } from "../schema/validate.js";
import { toDataUri } from "../schema/media-types.js";
import { describeField, type FieldSpec, type SchemaView } from "../schema/view.js";

/** The model server's request body limit (kiln's and Cog's default). */
const MAX_REQUEST_BYTES = 100 * 2 ** 20;

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
  // `-` and Cog's `@-` both read standard input.
  if (arg === "-" || arg === "@-") {
    if (!opts.readStdin) throw new UsageError(`--json ${arg} needs standard input`);
    text = await opts.readStdin();
    source = `--json ${arg} (stdin)`;
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

  // Inputs that already have a problem (unknown, not coercible, unreadable file): not validated again.
  const failed = new Set<string>();
  const names = new Set([...Object.keys(raw.json ?? {}), ...fromFlags.keys()]);
  for (const name of names) {
    const spec = view.byName.get(name);
    if (!spec) {
      problems.push({ field: name, message: unknownMessage(name, view) });
      failed.add(name);
      continue;
    }
    const flagValues = fromFlags.get(name);
    const value = flagValues ? coerceFlag(spec, flagValues, problems) : raw.json?.[name];
    const fileRead = value === undefined ? undefined : await readFileRefs(spec, value, opts.cwd, problems);
    if (fileRead === undefined) failed.add(name);
    else input[name] = fileRead;
  }
  // One validator for the CLI and the server (src/schema): its issues, rendered for a terminal, in the
  // same list as the problems above, so every problem is reported at once.
  const result = validateInput(view.schema, input);
  if (!result.ok) {
    for (const issue of result.errors) {
      const field = String(issue.loc[2] ?? "");
      if (!failed.has(field)) problems.push({ field, message: renderIssue(issue, view, input) });
    }
  }
  const size = Object.values(input).reduce<number>((n, v) => n + (JSON.stringify(v)?.length ?? 0), 0);
  if (size > MAX_REQUEST_BYTES) {
    problems.push({
      field: "",
      message: `the inputs take ${Math.round(size / 2 ** 20)} MiB as JSON (files travel base64-encoded), over the server's ${MAX_REQUEST_BYTES / 2 ** 20} MiB request limit: pass large files as http(s) URLs`,
    });
  }
  if (problems.length > 0) throw new InputError(problems, usageHint(view));
  return input;
}

/** A validation issue as a person at a terminal reads it: what the input expects and what was given. */
function renderIssue(issue: ValidationIssue, view: SchemaView, input: Record<string, unknown>): string {
  const field = String(issue.loc[2] ?? "");
  let spec = view.byName.get(field);
  if (!spec) return issue.msg;
  let value: unknown = input[field];
  let prefix = "";
  for (const part of issue.loc.slice(3)) {
    if (typeof part !== "number" || !spec.items) break;
    prefix += `item ${part}: `;
    spec = spec.items;
    value = Array.isArray(value) ? (value as unknown[])[part] : undefined;
  }
  const expected = `expected ${describeField(spec)}`;
  const got = `got ${short(value)}`;
  const length = typeof value === "string" ? [...value].length : 0;
  switch (issue.type) {
    case "missing":
      return `required input is missing: ${expected}`;
    case "enum":
    case "string_pattern_mismatch":
      return `${prefix}${got}, ${expected}`;
    case "greater_than":
    case "greater_than_equal":
      return `${prefix}${String(value)} is too small: ${expected}`;
    case "less_than":
    case "less_than_equal":
      return `${prefix}${String(value)} is too large: ${expected}`;
    case "string_too_short":
      return `${prefix}too short (${length} characters): ${expected}`;
    case "string_too_long":
      return `${prefix}too long (${length} characters): ${expected}`;
    case "string_type":
    case "int_type":
    case "int_from_float":
    case "float_type":
    case "bool_type":
    case "list_type":
    case "dict_type":
    case "url_type":
    case "none_forbidden":
      return `${prefix}${expected}, ${got}`;
    default:
      return `${prefix}${issue.msg}: ${expected}`;
  }
}

function short(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
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
function coerceFlag(spec: FieldSpec, values: string[], problems: InputProblem[]): unknown {
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

/**
 * A union input from text, resolved as `cog predict` resolves it: `1` is an int when the union has int
 * (else a float), `1.5` a float, `true`/`false` a bool, `[...]`/`{...}` JSON lists/objects, the rest a str.
 */
function coerceUnion(spec: FieldSpec, text: string): { value?: unknown; error?: string } {
  const members = spec.members ?? [];
  const has = (kind: FieldSpec["kind"]): FieldSpec | undefined => members.find((m) => m.kind === kind);
  const t = text.trim();
  const tryKinds: FieldSpec["kind"][] = [];
  if (/^[+-]?\d+$/.test(t)) tryKinds.push("integer", "number");
  else if (t !== "" && Number.isFinite(Number(t))) tryKinds.push("number");
  if (/^(true|false)$/i.test(t)) tryKinds.push("boolean");
  if (t.startsWith("[")) tryKinds.push("array");
  if (t.startsWith("{")) tryKinds.push("object");
  tryKinds.push("string", "any");
  for (const kind of tryKinds) {
    const member = has(kind);
    if (!member) continue;
    const coerced = coerceScalar(member, text);
    if (!coerced.error) return coerced;
  }
  return { error: `expected ${describeField(spec)}, got ${JSON.stringify(text)}` };
}

function coerceScalar(spec: FieldSpec, text: string): { value?: unknown; error?: string } {
  const got = `got ${JSON.stringify(text)}`;
  const expected = `expected ${describeField(spec)}, ${got}`;
  switch (spec.kind) {
    case "union":
      return coerceUnion(spec, text);
    case "array":
      try {
        const v = JSON.parse(text) as unknown;
        if (Array.isArray(v)) return { value: v };
      } catch {
        // reported below
      }
      return { error: `expected a JSON list like [1, 2], ${got}` };
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

/**
 * Replaces `@path` strings by data URIs (read now, after the schema is known): in file inputs, and, as
 * `cog predict` does, in string inputs too (the predictor receives the file as a data: URI string).
 */
async function readFileRefs(
  spec: FieldSpec,
  value: unknown,
  cwd: string,
  problems: InputProblem[],
): Promise<unknown> {
  const takesRef = (k: FieldSpec["kind"] | undefined): boolean =>
    k === "file" || k === "string" || k === "union";
  const isFile = takesRef(spec.kind) || (spec.kind === "array" && takesRef(spec.items?.kind));
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
function closest(name: string, candidates: string[]): string | undefined {
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
