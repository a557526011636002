// Helpers the server benchmarks share (bench/server.mjs, bench/python-worker.mjs): Linux /proc readers
// and a free local port.
import { readFileSync } from "node:fs";
import { createServer } from "node:net";

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
