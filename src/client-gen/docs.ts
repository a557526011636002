/**
 * The words both generators put in doc comments: a field's description, then what the server accepts
 * (range, length, pattern, choices) and its default, so callers see the rules in their editor.
 */
import type { FieldNode, Limits, TypeNode } from "./model.js";

/** The doc comment lines of one input or output field (no comment markers). */
export function fieldDocLines(f: FieldNode, literal: (v: unknown) => string = jsonText): string[] {
  const lines: string[] = [];
  if (f.description) lines.push(...f.description.trim().split(/\r?\n/));
  const rules = ruleText(f.type, f.limits, literal);
  const extra: string[] = [];
  if (rules) extra.push(rules);
  if (f.default !== undefined) extra.push(`Default: ${literal(f.default.value)}.`);
  else if (!f.required) extra.push(f.nullable ? "Optional (may be null)." : "Optional.");
  if (extra.length > 0) {
    if (lines.length > 0) lines.push("");
    lines.push(extra.join(" "));
  }
  return lines;
}

/** "An integer from 1 to 50.", "One of \"a\", \"b\".", "A file: an http(s) URL or a data: URI." */
function ruleText(type: TypeNode, limits: Limits, literal: (v: unknown) => string = jsonText): string {
  const parts: string[] = [];
  const range = rangeText(limits);
  switch (type.kind) {
    case "enum":
      parts.push(`One of ${type.values.map(literal).join(", ")}`);
      break;
    case "integer":
      parts.push(range ? `An integer ${range}` : "");
      break;
    case "number":
      parts.push(range ? `A number ${range}` : "");
      break;
    case "string":
    case "secret": {
      const text = lengthText(limits);
      parts.push(text ? `A ${type.kind === "secret" ? "secret " : ""}string ${text}` : "");
      break;
    }
    case "array": {
      const items = ruleText(type.items, {}, literal);
      const count = countText(limits);
      if (count || items)
        parts.push(`A list${count ? ` of ${count}` : ""}${items ? `; each item: ${lower(items)}` : ""}`);
      break;
    }
    default:
      break;
  }
  const text = parts.filter(Boolean).join(" ");
  return text ? `${text.replace(/\.$/, "")}.` : "";
}

function jsonText(v: unknown): string {
  return JSON.stringify(v) ?? "undefined";
}

function lower(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1).replace(/\.$/, "");
}

function rangeText(l: Limits): string {
  const lo = l.minimum !== undefined ? `${l.exclusiveMinimum ? ">" : ">="} ${l.minimum}` : "";
  const hi = l.maximum !== undefined ? `${l.exclusiveMaximum ? "<" : "<="} ${l.maximum}` : "";
  if (lo && hi && !l.exclusiveMinimum && !l.exclusiveMaximum) return `from ${l.minimum} to ${l.maximum}`;
  return [lo, hi].filter(Boolean).join(" and ");
}

function lengthText(l: Limits): string {
  const parts: string[] = [];
  if (l.minLength !== undefined && l.maxLength !== undefined) {
    parts.push(`of ${l.minLength} to ${l.maxLength} characters`);
  } else if (l.minLength !== undefined) parts.push(`of at least ${l.minLength} characters`);
  else if (l.maxLength !== undefined) parts.push(`of at most ${l.maxLength} characters`);
  if (l.pattern !== undefined) parts.push(`matching /${l.pattern}/`);
  return parts.join(", ");
}

function countText(l: Limits): string {
  if (l.minItems !== undefined && l.maxItems !== undefined) return `${l.minItems} to ${l.maxItems} items`;
  if (l.minItems !== undefined) return `at least ${l.minItems} items`;
  if (l.maxItems !== undefined) return `at most ${l.maxItems} items`;
  return "";
}

/** `num_steps` -> `NumSteps`; a leading digit gets a `T` so the name stays an identifier. */
function pascalCase(name: string): string {
  const words = name.split(/[^A-Za-z0-9]+/).filter(Boolean);
  const joined = words.map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join("");
  if (joined === "") return "Value";
  return /^[0-9]/.test(joined) ? `T${joined}` : joined;
}

/** Type names for the choices inputs, unique and clear of the module's own (`reserved`) names. */
export function enumTypeNames(inputs: FieldNode[], reserved: ReadonlySet<string>): Map<string, string> {
  const names = new Map<string, string>();
  const used = new Set(reserved);
  for (const f of inputs) {
    if (f.type.kind !== "enum") continue;
    let name = pascalCase(f.enumName ?? f.name);
    if (used.has(name)) name = `${name}Choice`;
    for (let i = 2; used.has(name); i++) name = `${pascalCase(f.name)}Choice${i}`;
    used.add(name);
    names.set(f.name, name);
  }
  return names;
}
