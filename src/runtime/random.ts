/**
 * Random bytes without node:crypto (lazy-builtins.ts): what a server answering the container API needs
 * (prediction ids, per-process markers) comes from the kernel, /dev/urandom, one read per batch;
 * node:crypto only where there is no /dev/urandom.
 */
import { closeSync, openSync, readSync } from "node:fs";
import { nodeCrypto } from "./lazy-builtins.js";

let urandom: number | null | undefined;

/** Fills `buf` with cryptographically strong random bytes (the kernel's, or node:crypto's). */
export function fillRandom(buf: Buffer): Buffer {
  if (urandom === undefined) {
    try {
      urandom = openSync("/dev/urandom", "r");
    } catch {
      urandom = null; // no /dev/urandom (Windows): node:crypto
    }
  }
  if (urandom !== null) {
    let done = 0;
    try {
      while (done < buf.length) {
        const n = readSync(urandom, buf, done, buf.length - done, null);
        if (n <= 0) break;
        done += n;
      }
    } catch {
      done = 0;
    }
    if (done === buf.length) return buf;
    closeQuietly(urandom);
    urandom = null;
  }
  return nodeCrypto().randomFillSync(buf);
}

/** `n` random bytes. */
export function randomBytes(n: number): Buffer {
  return fillRandom(Buffer.allocUnsafe(n));
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already gone
  }
}
