/**
 * `Cancel-After` on POST /v1/predictions: the prediction is canceled at that deadline (status
 * `canceled`; Replicate's hosted API calls it `aborted`, which the clients do not know and poll forever).
 * Values as Replicate takes them: a Go-style duration (`30s`, `5m`, `1h30m`, `1.5s`, `250ms`) or a bare
 * number of seconds.
 */
import { hostedError } from "./errors.js";

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
const MAX_MS = 7 * 24 * 3_600_000;

/** Milliseconds until the deadline, or null without the header; a malformed value is a 400. */
export function parseCancelAfter(raw: string | string[] | undefined): number | null {
  if (raw === undefined) return null;
  const text = (Array.isArray(raw) ? raw[0] : raw)?.trim() ?? "";
  let ms: number | null = null;
  if (/^\d+(\.\d+)?$/.test(text)) ms = Number(text) * 1000;
  else if (text !== "") {
    PART.lastIndex = 0;
    let total = 0;
    let consumed = 0;
    for (let m = PART.exec(text); m; m = PART.exec(text)) {
      total += Number(m[1]) * UNIT_MS[m[2]!]!;
      consumed = PART.lastIndex;
    }
    if (consumed === text.length) ms = total;
  }
  if (ms === null || !Number.isFinite(ms) || ms <= 0 || ms > MAX_MS) {
    throw hostedError(
      400,
      "Bad request",
      `Cancel-After: ${JSON.stringify(text)} is not a duration: use e.g. 30s, 5m, 1h30m or a number of seconds (up to 7 days)`,
    );
  }
  return ms;
}
