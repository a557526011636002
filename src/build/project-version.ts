/**
 * A version id for a project that has no image (`kiln serve --no-docker`): a hash of every file a build
 * would send (the .dockerignore rules apply; .git and .kiln never count). Small files by content, large
 * ones (weights) by size, mtime, ctime and inode, the quick check `make` relies on: any write to a file
 * changes its mtime. Any edit to code, configuration or weights gives a new version.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readlink, stat } from "node:fs/promises";
import { join } from "node:path";
import { KILN_VERSION } from "../version.js";
import { scanProject } from "./scan.js";

const HASH_BELOW = 4 * 1024 * 1024;

export async function projectVersion(root: string): Promise<string> {
  const h = createHash("sha256").update(`kiln-project-v1 ${KILN_VERSION}\n`);
  for (const f of await scanProject(root)) {
    const abs = join(root, f.path);
    h.update(`${f.type} ${f.path} ${f.mode.toString(8)}`);
    if (f.type === "symlink") h.update(` -> ${await readlink(abs)}`);
    else if (f.size < HASH_BELOW) {
      const fh = createHash("sha256");
      for await (const chunk of createReadStream(abs)) fh.update(chunk as Buffer);
      h.update(` =${fh.digest("hex")}`);
    } else {
      const st = await stat(abs, { bigint: true });
      h.update(` ${st.size} ${st.mtimeNs} ${st.ctimeNs} ${st.ino} ${st.dev}`);
    }
    h.update("\n");
  }
  return `sha256:${h.digest("hex")}`;
}
