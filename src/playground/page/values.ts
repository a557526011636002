/**
 * Form values <-> prediction input, and the server's validation answer -> a message per field. Pure
 * (no DOM), so the rules are unit-tested: empty optional fields are left out (the server applies the
 * default), numbers and JSON are parsed here with a message at the field when they do not parse.
 */
import type { Field, Json } from "./fields.js";

/** What the form holds for one field: text for most kinds, a flag for booleans, a list for lists. */
export type RawValue = string | boolean | null | RawValue[];

export interface Collected {
  input: Record<string, Json>;
  /** Field name -> message, for values that cannot be sent as they are. */
  errors: Record<string, string>;
}

function parseItem(f: Field, text: string): { ok: true; value: Json } | { ok: false; message: string } {
  switch (f.kind) {
    case "integer":
    case "number": {
      const n = Number(text.trim());
      if (text.trim() === "" || !Number.isFinite(n)) return { ok: false, message: "Enter a number." };
      if (f.kind === "integer" && !Number.isInteger(n))
        return { ok: false, message: "Enter a whole number." };
      return { ok: true, value: n };
    }
    case "choice": {
      const hit = f.choices?.find((c) => String(c) === text);
      return { ok: true, value: hit ?? text };
    }
    case "json":
      try {
        return { ok: true, value: JSON.parse(text) as Json };
      } catch (err) {
        return { ok: false, message: `Not valid JSON: ${(err as Error).message}` };
      }
    default:
      return { ok: true, value: text };
  }
}

const isEmpty = (v: RawValue): boolean => v === null || (typeof v === "string" && v.trim() === "");

/** Builds the prediction input from the form's raw values (keyed by field name). */
export function collectInput(fields: Field[], raw: Record<string, RawValue>): Collected {
  const input: Record<string, Json> = {};
  const errors: Record<string, string> = {};
  for (const f of fields) {
    const v = raw[f.name] ?? null;
    if (f.kind === "boolean" && !f.list) {
      if (typeof v === "boolean") input[f.name] = v;
      continue;
    }
    if (f.list) {
      const items = (Array.isArray(v) ? v : []).filter((x) => !isEmpty(x));
      const values: Json[] = [];
      for (const [i, item] of items.entries()) {
        const parsed =
          typeof item === "boolean" ? ({ ok: true, value: item } as const) : parseItem(f, String(item));
        if (!parsed.ok) {
          errors[f.name] = `Item ${i + 1}: ${parsed.message}`;
          break;
        }
        values.push(parsed.value);
      }
      // An untouched empty list with a default of [] is the default: leave it to the server.
      if (values.length > 0 || (Array.isArray(v) && v.length > 0)) input[f.name] = values;
      continue;
    }
    if (isEmpty(v)) continue;
    const parsed = parseItem(f, String(v));
    if (parsed.ok) input[f.name] = parsed.value;
    else errors[f.name] = parsed.message;
  }
  return { input, errors };
}

/** The text a form control shows for a value (a default, or an input from history). */
export function displayValue(f: Field, value: Json | undefined): RawValue {
  if (value === undefined || value === null) return f.list ? [] : f.kind === "boolean" ? false : "";
  // The server never returns a secret: a redacted one from history must be typed in again, not resent.
  if (f.kind === "secret") {
    const redacted = (v: Json): boolean => typeof v === "string" && /^\*+$/.test(v);
    if (f.list && Array.isArray(value)) return value.filter((v) => !redacted(v)).map(String);
    if (redacted(value)) return "";
  }
  if (f.list && Array.isArray(value)) return value.map((v) => itemText(f, v));
  if (f.kind === "boolean") return value === true;
  return itemText(f, value);
}

function itemText(f: Field, v: Json): string {
  if (f.kind === "json") return JSON.stringify(v, null, 2);
  return typeof v === "string" ? v : String(v);
}

export interface FieldErrors {
  byField: Record<string, string[]>;
  /** Problems that name no known field (shown above the form). */
  general: string[];
}

interface Issue {
  path: (string | number)[];
  message: string;
}

/** Reads both error shapes: /v1 `invalid_fields` and the container API's FastAPI `detail` list. */
function issuesOf(body: unknown): Issue[] {
  if (typeof body !== "object" || body === null) return [];
  const b = body as Record<string, unknown>;
  if (Array.isArray(b.invalid_fields)) {
    return b.invalid_fields.flatMap((x) => {
      const i = x as Record<string, unknown>;
      const field = typeof i.field === "string" ? i.field : "";
      return [{ path: field.split("."), message: String(i.description ?? i.type ?? "invalid") }];
    });
  }
  if (Array.isArray(b.detail)) {
    return b.detail.flatMap((x) => {
      const i = x as Record<string, unknown>;
      const loc = Array.isArray(i.loc) ? (i.loc as (string | number)[]).filter((l) => l !== "body") : [];
      return [{ path: loc, message: String(i.msg ?? "invalid") }];
    });
  }
  return [];
}

/** Places each validation problem of a 422 answer at its field (list items say which item). */
export function fieldErrors(fields: Field[], body: unknown): FieldErrors {
  const names = new Set(fields.map((f) => f.name));
  const out: FieldErrors = { byField: {}, general: [] };
  const issues = issuesOf(body);
  for (const issue of issues) {
    const path = issue.path[0] === "input" ? issue.path.slice(1) : issue.path;
    const name = String(path[0] ?? "");
    if (names.has(name)) {
      const rest = path.slice(1);
      const where = rest.length > 0 && /^\d+$/.test(String(rest[0])) ? `Item ${Number(rest[0]) + 1}: ` : "";
      (out.byField[name] ??= []).push(`${where}${issue.message}`);
    } else {
      out.general.push(path.length > 0 ? `${path.join(".")}: ${issue.message}` : issue.message);
    }
  }
  if (issues.length === 0 && typeof body === "object" && body !== null) {
    const b = body as Record<string, unknown>;
    const text = typeof b.detail === "string" ? b.detail : typeof b.error === "string" ? b.error : null;
    if (text) out.general.push(text);
  }
  return out;
}
