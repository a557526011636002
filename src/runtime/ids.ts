import { fillRandom } from "./random.js";

const ALPHABET = "abcdefghijklmnopqrstuvwxyz234567";
const ID_LENGTH = 26;
// One getrandom() call per ~150 ids instead of one per id (it showed up in the hot path's profile).
const pool = Buffer.alloc(ID_LENGTH * 157);
let offset = pool.length;

/** A unique, URL-safe, lower-case prediction id (26 base32 characters, 130 random bits). */
export function newPredictionId(): string {
  if (offset + ID_LENGTH > pool.length) {
    fillRandom(pool);
    offset = 0;
  }
  let out = "";
  for (let i = 0; i < ID_LENGTH; i++) out += ALPHABET[pool[offset + i]! & 31];
  offset += ID_LENGTH;
  return out;
}
