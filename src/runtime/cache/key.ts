/**
 * The output cache's key: a SHA-256 over the model version, the canonical JSON of the validated input
 * (defaults filled in, keys sorted) and the content of every file input — never its URL, so the same
 * image sent from two places is one key and a changed file behind the same URL is another.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { RawJson } from "../raw-json.js";

/** JSON with object keys sorted at every depth; refuses what JSON cannot say exactly. */
export function canonicalJson(value: unknown): string {
  // A big request string kept as its bytes keys as the string it is (however the client escaped it).
  if (value instanceof RawJson) return canonicalJson(value.value());
  if (value === null || typeof value === "boolean" || typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new TypeError(`cannot key on the number ${value}`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value === "object") {
    const keys = Object.keys(value as object)
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .sort();
    const body = keys.map(
      (k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`,
    );
    return `{${body.join(",")}}`;
  }
  throw new TypeError(`cannot key on a ${typeof value}`);
}

/** SHA-256 of a file's bytes, streamed (a 1 GiB input is never held in memory). */
async function hashFile(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/**
 * The input as the key sees it: each file field (a local path after download, or a list of them)
 * replaced by `{ sha256 }` of its content.
 */
export async function keyedInput(
  input: Record<string, unknown>,
  fileFields: readonly string[],
): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = { ...input };
  for (const field of fileFields) {
    const v = out[field];
    if (typeof v === "string") out[field] = { sha256: await hashFile(v) };
    else if (Array.isArray(v))
      out[field] = await Promise.all(
        v.map(async (p) => (typeof p === "string" ? { sha256: await hashFile(p) } : p)),
      );
  }
  return out;
}

/** The key itself; `version` is the image digest, or the project's content hash without an image. */
export function cacheKey(version: string, input: Record<string, unknown>): string {
  return createHash("sha256")
    .update("kiln-output-cache-v1\n")
    .update(version)
    .update("\n")
    .update(canonicalJson(input))
    .digest("hex");
}
