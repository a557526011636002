/**
 * `predict: "file:Name"` references: split, classify by extension, and a cheap textual scan of the
 * file for the names it defines, so a typo is caught before any build starts.
 */
import { quote } from "./problems.js";
import type { PredictorLanguage } from "./types.js";

const LANGUAGE_BY_EXTENSION: Record<string, PredictorLanguage> = {
  ".py": "python",
  ".ts": "typescript",
  ".mts": "typescript",
  ".js": "javascript",
  ".mjs": "javascript",
};

export type RefParse =
  | { ok: true; file: string; name: string; language: PredictorLanguage }
  | { ok: false; message: string; hint: string };

export function parseRef(raw: string, example: string): RefParse {
  const colon = raw.lastIndexOf(":");
  if (colon <= 0 || colon === raw.length - 1) {
    return {
      ok: false,
      message: `expected "file:Name", found ${quote(raw)}`,
      hint: `write it as ${JSON.stringify(example)}`,
    };
  }
  const file = raw.slice(0, colon).trim().replace(/\\/g, "/").replace(/^\.\//, "");
  const name = raw.slice(colon + 1).trim();
  const ext = /\.[A-Za-z0-9]+$/.exec(file)?.[0] ?? "";
  const language = LANGUAGE_BY_EXTENSION[ext];
  if (!language) {
    return {
      ok: false,
      message: `cannot tell the predictor's language from ${quote(file)}`,
      hint: "the file must end in .py (Python), .ts or .mts (TypeScript), .js or .mjs (JavaScript)",
    };
  }
  if (file.startsWith("/") || /^[A-Za-z]:/.test(file) || file.split("/").includes("..")) {
    return {
      ok: false,
      message: `${quote(file)} is outside the project`,
      hint: "use a path relative to the directory of cog.yaml, inside it",
    };
  }
  if (!/^[A-Za-z_$][\w$]*$/.test(name)) {
    return {
      ok: false,
      message: `${quote(name)} is not a valid ${language === "python" ? "Python" : "JavaScript"} name`,
      hint: `write it as ${JSON.stringify(example)}`,
    };
  }
  return { ok: true, file, name, language };
}

/** What a source file defines at the top level, or `null` when a re-export makes it unknowable. */
export function definedNames(source: string, language: PredictorLanguage): string[] | null {
  const names = new Set<string>();
  const add = (re: RegExp, group = 1): void => {
    for (const m of source.matchAll(re)) if (m[group]) names.add(m[group]);
  };
  if (language === "python") {
    add(/^class\s+([A-Za-z_]\w*)/gm);
    add(/^(?:async\s+)?def\s+([A-Za-z_]\w*)/gm);
    add(/^([A-Za-z_]\w*)\s*(?::[^=\n]*)?=(?!=)/gm);
    // `from .model import Predictor` and `from x import A as B, C` define names too.
    const imports = [
      ...source.matchAll(/^from\s+\S+\s+import\s*\(([^)]*)\)/gm),
      ...source.matchAll(/^from\s+\S+\s+import\s+([^(\n][^\n]*)$/gm),
    ];
    for (const m of imports) {
      for (const part of (m[1] ?? "").replace(/#[^\n]*/g, "").split(",")) {
        const alias = /([A-Za-z_]\w*)\s*$/.exec(part.trim());
        if (alias?.[1]) names.add(alias[1]);
      }
    }
    if (/^from\s+\S+\s+import\s+\*/m.test(source)) return null;
    return [...names];
  }
  add(
    /^\s*export\s+(?:declare\s+)?(?:default\s+)?(?:async\s+)?(?:abstract\s+)?(?:function\s*\*?|class|const|let|var|enum)\s+([A-Za-z_$][\w$]*)/gm,
  );
  if (/^\s*export\s+default\b/m.test(source)) names.add("default");
  for (const m of source.matchAll(/export\s*(?:type\s*)?\{([^}]*)\}/g)) {
    for (const part of (m[1] ?? "").split(",")) {
      const alias = /([A-Za-z_$][\w$]*)\s*$/.exec(part.trim());
      if (alias?.[1]) names.add(alias[1]);
    }
  }
  add(/(?:module\.)?exports\.([A-Za-z_$][\w$]*)\s*=/g);
  if (/export\s*\*\s*(?:as\s+\w+\s+)?from/.test(source) || /module\.exports\s*=/.test(source)) return null;
  return [...names];
}
