/** Secret inputs never leave the server in clear text: not in responses, webhooks or logs. */
import { materialize } from "./raw-json.js";

export const REDACTED = "**********";

// Secret values shorter than this are not scrubbed from free text (a 1-char secret would mangle logs).
const MIN_SCRUB_LENGTH = 4;

/** Replaces secrets in one whole text; `values` are the secrets it scrubs (longest first). */
export interface Redactor {
  (text: string): string;
  readonly values: readonly string[];
}

/** Replaces every occurrence of a secret value in free text (logs, error messages). */
export function makeRedactor(secretValues: readonly string[]): Redactor {
  const values = [...new Set(secretValues.filter((v) => v.length >= MIN_SCRUB_LENGTH))].sort(
    (a, b) => b.length - a.length,
  );
  const redact = (text: string): string => {
    let out = text;
    for (const v of values) if (out.includes(v)) out = out.split(v).join(REDACTED);
    return out;
  };
  return Object.assign(redact, { values });
}

/**
 * Redacts a stream that arrives in arbitrary pieces (pipe reads, log frames): a secret split across two
 * pieces is still caught, because the tail that could be the start of a secret is held back until the
 * next piece (or flush) shows whether it is one. Only that tail waits; everything before it passes now.
 */
export class StreamRedactor {
  private pending = "";

  constructor(private readonly redact: Redactor) {}

  /** The part of the stream so far that is safe to show, redacted. */
  push(text: string): string {
    const values = this.redact.values;
    if (values.length === 0) return text;
    const buf = this.pending + text;
    let cut = buf.length - heldTail(buf, values);
    // A whole secret that crosses the cut is held entirely, so it is redacted as one.
    for (let moved = true; moved;) {
      moved = false;
      for (const v of values) {
        const at = buf.indexOf(v, Math.max(0, cut - v.length + 1));
        if (at !== -1 && at < cut && at + v.length > cut) {
          cut = at;
          moved = true;
        }
      }
    }
    this.pending = buf.slice(cut);
    return this.redact(buf.slice(0, cut));
  }

  /** Whatever was held back (end of the stream), redacted. */
  flush(): string {
    const rest = this.redact(this.pending);
    this.pending = "";
    return rest;
  }
}

/** Length of the longest suffix of `text` that is a proper prefix of one of the secrets. */
function heldTail(text: string, values: readonly string[]): number {
  let hold = 0;
  for (const v of values) {
    for (let k = Math.min(v.length - 1, text.length); k > hold; k--) {
      if (text.endsWith(v.slice(0, k))) {
        hold = k;
        break;
      }
    }
  }
  return hold;
}

/** The secret strings of a validated input (a secret field may hold one string or a list of them). */
export function secretValues(input: Record<string, unknown>, fields: readonly string[]): string[] {
  const out: string[] = [];
  for (const name of fields) {
    // A long secret may be kept as request bytes: scrubbing needs its text.
    const v = materialize(input[name]);
    if (typeof v === "string") out.push(v);
    else if (Array.isArray(v))
      for (const item of v.map(materialize)) if (typeof item === "string") out.push(item);
  }
  return out;
}

/** A copy of the input with secret fields masked, for anything a client or log can see. */
export function redactInput(
  input: Record<string, unknown>,
  fields: readonly string[],
): Record<string, unknown> {
  if (fields.length === 0) return input;
  const out: Record<string, unknown> = { ...input };
  for (const name of fields) {
    const v = out[name];
    if (v === null || v === undefined) continue;
    out[name] = Array.isArray(v) ? v.map(() => REDACTED) : REDACTED;
  }
  return out;
}
