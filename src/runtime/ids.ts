import { randomBytes } from "node:crypto";

const ALPHABET = "abcdefghijklmnopqrstuvwxyz234567";

/** A unique, URL-safe, lower-case prediction id (26 base32 characters, 130 random bits). */
export function newPredictionId(): string {
  const bytes = randomBytes(26);
  let out = "";
  for (const b of bytes) out += ALPHABET[b & 31];
  return out;
}
