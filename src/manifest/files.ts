/** The manifest's view of the project's files, so rules stay testable without touching disk. */
import { closeSync, openSync, readSync, statSync } from "node:fs";
import { join } from "node:path";

export interface FileProbe {
  kind(relPath: string): "file" | "dir" | "missing";
  /** File text, or undefined if unreadable; only the first `maxBytes` are read. */
  read(relPath: string, maxBytes: number): string | undefined;
}

export function diskProbe(root: string): FileProbe {
  return {
    kind(relPath) {
      try {
        const st = statSync(join(root, relPath));
        return st.isDirectory() ? "dir" : "file";
      } catch {
        return "missing";
      }
    },
    read(relPath, maxBytes) {
      let fd: number | undefined;
      try {
        fd = openSync(join(root, relPath), "r");
        const buf = Buffer.alloc(maxBytes);
        const n = readSync(fd, buf, 0, maxBytes, 0);
        return buf.subarray(0, n).toString("utf8");
      } catch {
        return undefined;
      } finally {
        if (fd !== undefined) closeSync(fd);
      }
    },
  };
}

/** True for a relative path that stays inside the project. */
export function isInsideProject(p: string): boolean {
  const norm = p.replace(/\\/g, "/");
  return norm !== "" && !norm.startsWith("/") && !/^[A-Za-z]:/.test(norm) && !norm.split("/").includes("..");
}
