/**
 * A content-addressed blob directory: files stored under their SHA-256, written atomically, shared by
 * every entry (and, for the fleet, every gateway and replica that mounts the same directory).
 */
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { copyFile, link, mkdir, rename, rm, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { pipeline } from "node:stream/promises";
import { Transform } from "node:stream";
import { isFileRef } from "../files.js";
import { isBlobRef, mapRefs, type BlobRef } from "./store.js";

export class BlobDir {
  constructor(readonly dir: string) {}

  path(sha: string): string {
    if (!/^[0-9a-f]{64}$/.test(sha)) throw new Error(`not a blob id: ${sha}`);
    return join(this.dir, sha.slice(0, 2), sha);
  }

  /** Copies `file` in (hashing while copying); returns its hash and size. */
  async add(file: string): Promise<{ sha: string; size: number }> {
    await mkdir(this.dir, { recursive: true });
    const tmp = join(this.dir, `.tmp-${randomBytes(8).toString("hex")}`);
    const hash = createHash("sha256");
    let size = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _enc, done) {
        hash.update(chunk);
        size += chunk.length;
        done(null, chunk);
      },
    });
    try {
      await pipeline(createReadStream(file), tap, createWriteStream(tmp));
      const sha = hash.digest("hex");
      const target = this.path(sha);
      await mkdir(join(this.dir, sha.slice(0, 2)), { recursive: true });
      await rename(tmp, target);
      return { sha, size };
    } finally {
      await rm(tmp, { force: true });
    }
  }

  async size(sha: string): Promise<number | null> {
    return stat(this.path(sha)).then(
      (s) => s.size,
      () => null,
    );
  }

  async remove(sha: string): Promise<void> {
    await rm(this.path(sha), { force: true });
  }

  /** Moves each `{ $file }` of an output into the directory; returns the output with BlobRefs. */
  async capture(output: unknown): Promise<{ output: unknown; blobs: { sha: string; size: number }[] }> {
    const blobs: { sha: string; size: number }[] = [];
    const captured = await mapRefs(output, isFileRef, async (ref) => {
      const blob = await this.add(ref.$file);
      blobs.push(blob);
      return { $blob: blob.sha, name: basename(ref.$file) } satisfies BlobRef;
    });
    return { output: captured, blobs };
  }

  /** Each BlobRef of a cached output as a file of its own name under `dir`, `{ $file }` again. */
  async materialize(output: unknown, dir: string): Promise<unknown> {
    let n = 0;
    return mapRefs(output, isBlobRef, async (ref) => {
      const sub = join(dir, `cached-${n++}`);
      await mkdir(sub, { recursive: true });
      const target = join(sub, basename(ref.name) || "output");
      // A hard link costs nothing; across file systems, copy.
      await link(this.path(ref.$blob), target).catch(() => copyFile(this.path(ref.$blob), target));
      return { $file: target };
    });
  }
}
