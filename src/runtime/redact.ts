/** Secret inputs never leave the server in clear text: not in responses, webhooks or logs. */
export const REDACTED = "**********";

// Secret values shorter than this are not scrubbed from free text (a 1-char secret would mangle logs).
const MIN_SCRUB_LENGTH = 4;

export type Redactor = (text: string) => string;

/** Replaces every occurrence of a secret value in free text (logs, error messages). */
export function makeRedactor(secretValues: readonly string[]): Redactor {
  const values = [...new Set(secretValues.filter((v) => v.length >= MIN_SCRUB_LENGTH))].sort(
    (a, b) => b.length - a.length,
  );
  if (values.length === 0) return (text) => text;
  return (text) => {
    let out = text;
    for (const v of values) if (out.includes(v)) out = out.split(v).join(REDACTED);
    return out;
  };
}

/** The secret strings of a validated input (a secret field may hold one string or a list of them). */
export function secretValues(input: Record<string, unknown>, fields: readonly string[]): string[] {
  const out: string[] = [];
  for (const name of fields) {
    const v = input[name];
    if (typeof v === "string") out.push(v);
    else if (Array.isArray(v)) for (const item of v) if (typeof item === "string") out.push(item);
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
