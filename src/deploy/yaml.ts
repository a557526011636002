/**
 * A small, deterministic YAML writer for the documents kiln deploy renders (plain objects, arrays,
 * strings, numbers, booleans). Strings are quoted whenever a YAML 1.1 or 1.2 reader could take them
 * for anything but a string ("on", "5000", "1e3", "null", "~", leading "*", ": " inside...), using
 * JSON's double-quoted form, which both YAML versions read the same way. Keys keep insertion order.
 */

export type YamlValue = string | number | boolean | null | YamlValue[] | { [key: string]: YamlValue };

// Words YAML 1.1 (docker's go-yaml v2) reads as booleans or null, in any case.
const RESERVED = /^(?:y|n|yes|no|on|off|true|false|null|~)$/i;
const NUMBERISH = /^[-+.]?(?:\d|\.(?:inf|nan))|^0[xob]|^\.(?:inf|nan)$/i;
const PLAIN = /^[A-Za-z0-9_/.][A-Za-z0-9_/.@:=+,-]*$/;

export function quoteIfNeeded(s: string): string {
  if (s === "" || RESERVED.test(s) || NUMBERISH.test(s) || !PLAIN.test(s) || s.endsWith(":")) {
    // Single quotes (no escapes but '') read better for text full of double quotes, e.g. scripts.
    return s.includes('"') && /^[\x20-\x7e]*$/.test(s) ? `'${s.replace(/'/g, "''")}'` : JSON.stringify(s);
  }
  return s;
}

function scalar(v: string | number | boolean | null): string {
  if (v === null) return "null";
  if (typeof v === "number") {
    if (!Number.isFinite(v)) throw new TypeError(`cannot write ${v} as YAML`);
    return String(v);
  }
  if (typeof v === "boolean") return v ? "true" : "false";
  return quoteIfNeeded(v);
}

function isEmptyCollection(v: YamlValue): boolean {
  return (
    typeof v === "object" && v !== null && (Array.isArray(v) ? v.length === 0 : Object.keys(v).length === 0)
  );
}

function lines(value: YamlValue, indent: string): string[] {
  if (typeof value !== "object" || value === null) return [`${indent}${scalar(value)}`];
  const out: string[] = [];
  if (Array.isArray(value)) {
    for (const item of value) {
      if (typeof item === "object" && item !== null && !isEmptyCollection(item)) {
        const inner = lines(item, `${indent}  `);
        // The first line of the item goes after "- ".
        out.push(`${indent}- ${inner[0]!.slice(indent.length + 2)}`, ...inner.slice(1));
      } else {
        out.push(`${indent}- ${inline(item)}`);
      }
    }
    return out;
  }
  for (const [key, v] of Object.entries(value)) {
    const k = quoteIfNeeded(key);
    if (typeof v === "object" && v !== null && !isEmptyCollection(v)) {
      out.push(`${indent}${k}:`, ...lines(v, `${indent}  `));
    } else {
      out.push(`${indent}${k}: ${inline(v)}`);
    }
  }
  return out;
}

function inline(v: YamlValue): string {
  if (Array.isArray(v)) return "[]";
  if (typeof v === "object" && v !== null) return "{}";
  return scalar(v);
}

/** One YAML document, ending in a newline. */
export function toYaml(value: YamlValue): string {
  return `${lines(value, "").join("\n")}\n`;
}

/** Several documents separated by `---` (what kubectl apply -f reads). */
export function toYamlDocuments(values: YamlValue[]): string {
  return values.map(toYaml).join("---\n");
}
