// Helpers benchmarks share: Linux /proc readers and a free local port (server.mjs, python-worker.mjs),
// random weight files (build.mjs, push.mjs).
import { randomFillSync } from "node:crypto";
import { closeSync, mkdirSync, openSync, readFileSync, writeSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";

/** A port free on 127.0.0.1 right now. */
export async function freePort() {
  const srv = createServer();
  await new Promise((r) => srv.listen(0, "127.0.0.1", r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

/** Resident memory of a process in KiB (0 once it is gone). */
export function rssKb(pid) {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Direct child pids of a process (the server's worker). */
export function childrenOf(pid) {
  try {
    const tasks = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim();
    return tasks ? tasks.split(/\s+/).map(Number) : [];
  } catch {
    return [];
  }
}

/** `files` incompressible files of `mib` MiB each as dir/weights/shard-N.bin, written 16 MiB at a time. */
export function writeRandomWeights(dir, files, mib) {
  mkdirSync(join(dir, "weights"));
  const chunk = Buffer.alloc(16 * 1024 * 1024);
  for (let i = 0; i < files; i++) {
    const fd = openSync(join(dir, "weights", `shard-${i}.bin`), "w");
    for (let n = 0; n < mib / 16; n++) writeSync(fd, randomFillSync(chunk));
    closeSync(fd);
  }
}
