/**
 * What changed between the interface a client was generated for and the model's current one, each
 * change classified for the code that calls the client: `breaking` (calls that compiled and passed the
 * checks before may now fail to compile, be refused, or get output of another shape), `compatible`
 * (new optional inputs, looser limits, new choices) or `note` (defaults, docs, version).
 */
import type { ClientModel, FieldNode, Limits, TypeNode } from "./model.js";

export type Severity = "breaking" | "compatible" | "note";

export interface Change {
  severity: Severity;
  /** "input `steps`", "output", "output field `text`", "version". */
  where: string;
  text: string;
}

export function diffModels(before: ClientModel, after: ClientModel): Change[] {
  const changes: Change[] = [];
  const add = (severity: Severity, where: string, text: string): void => {
    changes.push({ severity, where, text });
  };
  if (before.version !== after.version) {
    add("note", "version", `${before.version ?? "(none)"} -> ${after.version ?? "(none)"}`);
  }
  diffInputs(before.inputs, after.inputs, add);
  diffOutput(before, after, add);
  const rank: Record<Severity, number> = { breaking: 0, compatible: 1, note: 2 };
  return changes.sort((a, b) => rank[a.severity] - rank[b.severity]);
}

type Add = (severity: Severity, where: string, text: string) => void;

function diffInputs(before: FieldNode[], after: FieldNode[], add: Add): void {
  const old = new Map(before.map((f) => [f.name, f]));
  const now = new Map(after.map((f) => [f.name, f]));
  for (const f of before) {
    if (!now.has(f.name))
      add("breaking", `input \`${f.name}\``, "removed (callers that pass it no longer compile)");
  }
  for (const f of after) {
    const was = old.get(f.name);
    const where = `input \`${f.name}\``;
    if (!was) {
      if (f.required) add("breaking", where, "added, required (every call must now pass it)");
      else
        add("compatible", where, `added, optional${f.default ? ` (default ${show(f.default.value)})` : ""}`);
      continue;
    }
    if (!was.required && f.required) add("breaking", where, "now required");
    if (was.required && !f.required) add("compatible", where, "no longer required");
    if (was.nullable && !f.nullable) add("breaking", where, "no longer accepts null");
    if (!was.nullable && f.nullable) add("compatible", where, "now accepts null");
    diffType(was.type, f.type, "input", where, add);
    diffLimits(was.limits, f.limits, where, add);
    const d0 = was.default ? show(was.default.value) : undefined;
    const d1 = f.default ? show(f.default.value) : undefined;
    if (d0 !== d1)
      add(
        "note",
        where,
        `default ${d0 ?? "(none)"} -> ${d1 ?? "(none)"} (calls that leave it out behave differently)`,
      );
    if (!was.deprecated && f.deprecated) add("note", where, "now deprecated");
    if ((was.description ?? "") !== (f.description ?? "")) add("note", where, "description changed");
  }
}

function diffOutput(before: ClientModel, after: ClientModel, add: Add): void {
  const a = before.output;
  const b = after.output;
  if (a.stream !== b.stream) {
    const name = (s: string): string =>
      s === "none" ? "a single value" : s === "iterator" ? "a stream" : "a text stream";
    add("breaking", "output", `was ${name(a.stream)}, is now ${name(b.stream)}`);
  }
  if (!a.nullable && b.nullable) add("breaking", "output", "may now be null");
  diffType(a.type, b.type, "output", "output", add);
}

/** Input types break when the set of accepted values shrinks; output types when the shape changes at all. */
function diffType(a: TypeNode, b: TypeNode, side: "input" | "output", where: string, add: Add): void {
  if (a.kind !== b.kind) {
    const widening = side === "input" && a.kind === "integer" && b.kind === "number";
    const enumToBase = side === "input" && a.kind === "enum" && a.values.every((v) => literalFits(v, b));
    if (widening || enumToBase || (side === "input" && b.kind === "any")) {
      add("compatible", where, `type ${typeName(a)} -> ${typeName(b)} (accepts more)`);
    } else {
      add("breaking", where, `type ${typeName(a)} -> ${typeName(b)}`);
    }
    return;
  }
  if (a.kind === "enum" && b.kind === "enum") {
    const removed = a.values.filter((v) => !b.values.includes(v));
    const added = b.values.filter((v) => !a.values.includes(v));
    if (removed.length > 0) {
      if (side === "input") add("breaking", where, `choices removed: ${removed.map(show).join(", ")}`);
      else add("compatible", where, `no longer returns ${removed.map(show).join(", ")}`);
    }
    if (added.length > 0) {
      if (side === "input") add("compatible", where, `choices added: ${added.map(show).join(", ")}`);
      else add("breaking", where, `may now return ${added.map(show).join(", ")}`);
    }
    return;
  }
  if (a.kind === "array" && b.kind === "array")
    return diffType(a.items, b.items, side, `${where} items`, add);
  if (a.kind === "object" && b.kind === "object") {
    if (!a.fields || !b.fields) {
      if (a.fields && !b.fields)
        add(side === "input" ? "compatible" : "breaking", where, "no longer has declared fields");
      if (!a.fields && b.fields)
        add(side === "input" ? "breaking" : "compatible", where, "now has declared fields");
      return;
    }
    const now = new Map(b.fields.map((f) => [f.name, f]));
    const old = new Map(a.fields.map((f) => [f.name, f]));
    for (const f of a.fields) {
      const g = now.get(f.name);
      const fw = `${where} field \`${f.name}\``;
      if (!g) add("breaking", fw, "removed");
      else {
        if (side === "output" && f.required && !g.required) add("breaking", fw, "may now be missing");
        if (side === "output" && !f.nullable && g.nullable) add("breaking", fw, "may now be null");
        diffType(f.type, g.type, side, fw, add);
      }
    }
    for (const g of b.fields) {
      if (!old.has(g.name)) add("compatible", `${where} field \`${g.name}\``, "added");
    }
    return;
  }
  if (a.kind === "union" && b.kind === "union") {
    const ta = a.members.map(typeName).sort().join(" | ");
    const tb = b.members.map(typeName).sort().join(" | ");
    if (ta !== tb) add("breaking", where, `type ${ta} -> ${tb}`);
  }
}

function literalFits(v: unknown, t: TypeNode): boolean {
  switch (t.kind) {
    case "string":
      return typeof v === "string";
    case "integer":
      return Number.isInteger(v);
    case "number":
      return typeof v === "number";
    case "boolean":
      return typeof v === "boolean";
    default:
      return false;
  }
}

/** Tighter limits refuse values that passed before: breaking. Looser ones: compatible. */
function diffLimits(a: Limits, b: Limits, where: string, add: Add): void {
  // `sign` 1 for lower bounds (raising one tightens), -1 for upper bounds (lowering one tightens).
  const compare = (
    key: "minimum" | "minLength" | "minItems" | "maximum" | "maxLength" | "maxItems",
    label: string,
    sign: 1 | -1,
    exclusive?: "exclusiveMinimum" | "exclusiveMaximum",
  ): void => {
    const x = a[key];
    const y = b[key];
    const ex0 = exclusive ? a[exclusive] === true : false;
    const ex1 = exclusive ? b[exclusive] === true : false;
    if (x === y && ex0 === ex1) return;
    const op = sign === 1 ? ">" : "<";
    const text = `${label} ${bound(x, ex0, op)} -> ${bound(y, ex1, op)}`;
    const tighter = y !== undefined && (x === undefined || sign * (y - x) > 0 || (y === x && ex1 && !ex0));
    add(tighter ? "breaking" : "compatible", where, text);
  };
  const lower = (key: "minimum" | "minLength" | "minItems", label: string, ex?: "exclusiveMinimum"): void =>
    compare(key, label, 1, ex);
  const upper = (key: "maximum" | "maxLength" | "maxItems", label: string, ex?: "exclusiveMaximum"): void =>
    compare(key, label, -1, ex);
  lower("minimum", "minimum", "exclusiveMinimum");
  upper("maximum", "maximum", "exclusiveMaximum");
  lower("minLength", "min length");
  upper("maxLength", "max length");
  lower("minItems", "min items");
  upper("maxItems", "max items");
  if (a.pattern !== b.pattern) {
    add(
      b.pattern === undefined ? "compatible" : "breaking",
      where,
      `pattern ${a.pattern ?? "(none)"} -> ${b.pattern ?? "(none)"}`,
    );
  }
}

function bound(v: number | undefined, exclusive: boolean, op: string): string {
  if (v === undefined) return "(none)";
  return exclusive ? `${op} ${v}` : `${op}= ${v}`;
}

function show(v: unknown): string {
  return JSON.stringify(v) ?? "undefined";
}

function typeName(t: TypeNode): string {
  switch (t.kind) {
    case "array":
      return `list of ${typeName(t.items)}`;
    case "enum":
      return `choice of ${t.values.map(show).join("/")}`;
    case "union":
      return t.members.map(typeName).join(" | ");
    case "object":
      return t.fields ? "object with fields" : "object";
    default:
      return t.kind;
  }
}

/** The report printed on regeneration: one line per change, breaking ones first. */
export function formatChanges(changes: Change[]): string[] {
  const label: Record<Severity, string> = {
    breaking: "BREAKING  ",
    compatible: "compatible",
    note: "note      ",
  };
  return changes.map((c) => `${label[c.severity]}  ${c.where}: ${c.text}`);
}
