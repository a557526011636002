/**
 * A worker as a child process (the Python worker, and a node worker with KILN_NODE_WORKER_MODE=process):
 * frames on fds 3 (to it) and 4 (from it), the user's stdout/stderr on fds 1/2. It leads its own process
 * group: whatever the model starts (subprocesses, shells) is stopped with it, and a Ctrl-C in the
 * terminal reaches only the server, which decides how to stop.
 */
import { spawn, type ChildProcess } from "node:child_process";
import type { Readable, Writable } from "node:stream";
import { FrameDecoder, type WorkerMessage } from "./protocol.js";
import type { TransportEvents, WorkerCommand, WorkerTransport } from "./worker-supervisor.js";

export function startProcessWorker(spec: WorkerCommand, on: TransportEvents): WorkerTransport {
  const child = spawn(spec.command, spec.args, {
    cwd: spec.cwd,
    env: spec.env,
    stdio: ["ignore", "pipe", "pipe", "pipe", "pipe"],
    detached: true,
  });
  const [, out, err, toWorker, fromWorker] = child.stdio as [null, Readable, Readable, Writable, Readable];
  // A worker that dies mid-write gives EPIPE here; the exit handler reports it.
  toWorker.on("error", () => undefined);
  out.setEncoding("utf8");
  err.setEncoding("utf8");
  out.on("data", (d: string) => on.output("stdout", d));
  err.on("data", (d: string) => on.output("stderr", d));
  const decoder = new FrameDecoder<WorkerMessage>(
    (m) => on.message(m),
    (error, line) => on.protocolError(error, line),
  );
  fromWorker.on("data", (chunk: Buffer) => decoder.push(chunk));
  fromWorker.on("error", () => undefined);
  // spawn failure (e.g. python3 missing): no 'exit' follows, so report it here
  child.on("error", (error) =>
    on.exit({ code: null, signal: null, reason: `could not start the worker: ${error.message}` }),
  );
  child.on("exit", (code, signal) => {
    // The worker is gone: what it started must not outlive it (nor hold its pipes open).
    signalGroup(child, "SIGKILL");
    const reason = signal
      ? `the worker was killed by ${signal}`
      : `the worker exited with code ${code ?? "?"}`;
    // 'exit' can precede the last frames and output still buffered in the pipes (e.g. a log line
    // written just before process.exit): wait for 'close' (all stdio drained), bounded in case a
    // grandchild keeps the pipes open.
    const timer = setTimeout(() => on.exit({ code, signal, reason }), 1000);
    child.once("close", () => {
      clearTimeout(timer);
      on.exit({ code, signal, reason });
    });
  });
  let corked = false;
  const uncork = (): void => {
    corked = false;
    toWorker.uncork();
  };
  return {
    id: `pid ${child.pid ?? "?"}`,
    pid: child.pid,
    get bytesScanned() {
      return decoder.bytesScanned;
    },
    get bytesAttached() {
      return decoder.bytesAttached;
    },
    write(frame) {
      if (toWorker.destroyed) return false;
      if (typeof frame === "string") {
        // The frames of one turn of the event loop (the predictions of requests that arrived together)
        // leave in one write: one syscall, one wake-up of the worker.
        if (!corked) {
          corked = true;
          toWorker.cork();
          setImmediate(uncork);
        }
        toWorker.write(frame);
      } else {
        toWorker.cork(); // the pieces leave in one writev
        for (const piece of frame) toWorker.write(piece);
        toWorker.uncork();
      }
      return true;
    },
    end: () => void toWorker.end(),
    kill: () => signalGroup(child, "SIGKILL"),
    stop(graceMs) {
      const term = setTimeout(() => signalGroup(child, "SIGTERM"), graceMs);
      const kill = setTimeout(() => signalGroup(child, "SIGKILL"), graceMs * 2);
      return () => {
        clearTimeout(term);
        clearTimeout(kill);
      };
    },
  };
}

/** Signals the worker's whole process group (it leads one); falls back to the worker alone. */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}
