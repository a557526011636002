/**
 * .dockerignore matching with Docker's semantics: Go-style `*`, `?`, `[...]`, `**` for any number of
 * directories, `!` re-includes, a leading `/` is ignored, the last matching pattern wins, and a pattern
 * that matches a directory also matches everything below it.
 */

export interface IgnorePattern {
  source: string;
  negate: boolean;
  regex: RegExp;
}

/** Lexically cleans a pattern the way Go's filepath.Clean does (for relative, forward-slash paths). */
function clean(p: string): string {
  const out: string[] = [];
  for (const part of p.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === ".." && out.length > 0 && out[out.length - 1] !== "..") out.pop();
    else out.push(part);
  }
  return out.join("/");
}

/** Translates one glob into an anchored regular expression over forward-slash relative paths. */
export function globToRegExp(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] ?? "";
    if (c === "*") {
      if (glob[i + 1] === "*") {
        i++;
        if (glob[i + 1] === "/") {
          i++;
          re += "(?:.*/)?";
        } else re += ".*";
      } else re += "[^/]*";
    } else if (c === "?") re += "[^/]";
    else if (c === "[") {
      const end = glob.indexOf("]", i + 2);
      if (end === -1) re += "\\[";
      else {
        let cls = glob.slice(i + 1, end);
        if (cls.startsWith("!") || cls.startsWith("^")) cls = `^${cls.slice(1)}`;
        re += `[${cls.replace(/\\/g, "\\\\")}]`;
        i = end;
      }
    } else if (c === "\\" && i + 1 < glob.length) {
      i++;
      re += escape(glob[i] ?? "");
    } else re += escape(c);
  }
  return new RegExp(`^${re}$`);
}

const escape = (c: string): string => c.replace(/[.+^${}()|[\]\\/]/g, "\\$&");

/** Parses .dockerignore text into ordered patterns (comments and blank lines dropped). */
function parseDockerignore(text: string): IgnorePattern[] {
  const patterns: IgnorePattern[] = [];
  for (const rawLine of text.split(/\r?\n/)) {
    let line = rawLine.trim();
    if (line === "" || line.startsWith("#")) continue;
    const negate = line.startsWith("!");
    if (negate) line = line.slice(1).trim();
    const cleaned = clean(line.replace(/^\/+/, ""));
    if (cleaned === "") continue;
    patterns.push({ source: rawLine.trim(), negate, regex: globToRegExp(cleaned) });
  }
  return patterns;
}

/** True when `regex` matches `path` itself or one of its parent directories. */
export function matchesOrParent(regex: RegExp, path: string): boolean {
  if (regex.test(path)) return true;
  let idx = path.lastIndexOf("/");
  while (idx > 0) {
    if (regex.test(path.slice(0, idx))) return true;
    idx = path.lastIndexOf("/", idx - 1);
  }
  return false;
}

export class IgnoreMatcher {
  readonly hasNegations: boolean;
  constructor(readonly patterns: IgnorePattern[]) {
    this.hasNegations = patterns.some((p) => p.negate);
  }

  static fromText(text: string): IgnoreMatcher {
    return new IgnoreMatcher(parseDockerignore(text));
  }

  /** Whether a relative path (forward slashes, no leading `./`) is excluded from the context. */
  ignores(path: string): boolean {
    let excluded = false;
    for (const p of this.patterns) {
      if (p.negate === !excluded) continue; // cannot change the outcome
      if (matchesOrParent(p.regex, path)) excluded = !p.negate;
    }
    return excluded;
  }

  /** A directory can be skipped without walking it when it is excluded and nothing re-includes. */
  canPrune(dir: string): boolean {
    return !this.hasNegations && this.ignores(dir);
  }
}
