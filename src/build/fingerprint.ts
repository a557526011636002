/**
 * A fingerprint of everything the dependencies image is built from, so `kiln build` can reuse that
 * image (and skip sending gigabytes of weights) while nothing in it changed. Small files are hashed;
 * big ones are identified by size, mtime, ctime and inode, the quick check make and rsync rely on:
 * any write to a file changes its mtime and ctime.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import type { ContextEntry } from "./context.js";

const HASH_BELOW = 4 * 1024 * 1024;

async function hashFile(path: string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest("hex");
}

export async function fingerprintContext(
  entries: readonly ContextEntry[],
  extra: Record<string, string>,
): Promise<string> {
  const h = createHash("sha256");
  h.update(`kiln-deps-v1\n${JSON.stringify(extra)}\n`);
  for (const e of entries) {
    h.update(`${e.type} ${e.name} ${e.mode.toString(8)} ${e.linkname ?? ""}`);
    if (e.content) h.update(` =${createHash("sha256").update(e.content).digest("hex")}`);
    else if (e.source) {
      const st = await stat(e.source, { bigint: true });
      if (st.size < HASH_BELOW) h.update(` =${await hashFile(e.source)}`);
      else h.update(` ${st.size} ${st.mtimeNs} ${st.ctimeNs} ${st.ino} ${st.dev}`);
    }
    h.update("\n");
  }
  return h.digest("hex");
}
