/**
 * A node worker in a worker thread of the server's own process (the default for TS/JS predictors):
 * no second node process (its ~45 MB, its start-up, a pipe round trip per message). The thread runs the
 * same node worker file as the process would, with its own event loop, heap and `process.env`; frames
 * cross with postMessage (thread-frames.ts) and a big output's bytes are moved, not copied. The user's
 * stdout/stderr are the thread's own streams (`stdout: true`, `stderr: true`), attributed like fds 1/2.
 *
 * What differs from a process, by design (docs/typescript-predictors.md, "Worker isolation"): memory is
 * shared with the server (a heap that runs out ends the thread with ERR_WORKER_OUT_OF_MEMORY, the server
 * lives on), a crash in native code ends the server too, and the working directory is the server's.
 */
import type { ResourceLimits } from "node:worker_threads";
import { nodeWorkerThreads } from "./lazy-builtins.js";
import { decodeFromThread, eachFrame, encodeToThread, type FromThread } from "./thread-frames.js";
import type { WorkerMessage } from "./protocol.js";
import type { TransportEvents, WorkerTransport } from "./worker-supervisor.js";

export interface ThreadSpec {
  /** The node worker file (the same one a process runs). */
  entry: string;
  argv: string[];
  env: NodeJS.ProcessEnv;
  resourceLimits?: ResourceLimits | undefined;
}

// Frames up to this size join the turn's batch; a bigger one goes at once (after the batch).
const BATCH_FRAME_MAX = 64 * 1024;

export function startThreadWorker(
  spec: ThreadSpec,
  on: TransportEvents & { unsupported: (reason: string) => void },
): WorkerTransport {
  const thread = new (nodeWorkerThreads().Worker)(spec.entry, {
    argv: spec.argv,
    env: spec.env,
    stdout: true,
    stderr: true,
    // Node options of this process (loaders, inspector...) are not the worker's: a process worker gets
    // none either. V8's heap flags are process-wide and apply to the thread too (see worker-command.ts).
    execArgv: [],
    ...(spec.resourceLimits ? { resourceLimits: spec.resourceLimits } : {}),
  });
  let scanned = 0;
  let attached = 0;
  let failure: Error | null = null;
  let ended = false;
  thread.stdout.setEncoding("utf8");
  thread.stderr.setEncoding("utf8");
  thread.stdout.on("data", (d: string) => on.output("stdout", d));
  thread.stderr.on("data", (d: string) => on.output("stderr", d));
  const children = new Set<number>();
  let killedBy: NodeJS.Signals | null = null;
  thread.on("message", (data: FromThread) => {
    if (typeof data === "object" && !Array.isArray(data)) {
      if ("unsupported" in data) return on.unsupported(data.unsupported);
      if ("killed" in data) killedBy = data.killed;
      else if ("spawned" in data) children.add(data.spawned);
      else children.delete(data.reaped);
      return;
    }
    if (typeof data === "string") {
      scanned += data.length;
      // The frames the thread sent in one turn, one per line.
      return eachFrame(data, (line) => {
        let message: WorkerMessage;
        try {
          message = JSON.parse(line) as WorkerMessage;
        } catch (err) {
          on.protocolError(err as Error, line);
          return false;
        }
        on.message(message);
      });
    }
    let decoded;
    try {
      decoded = decodeFromThread(data);
    } catch (err) {
      return on.protocolError(err as Error, data[0]);
    }
    attached += decoded.attached;
    on.message(decoded.message);
  });
  // An error the thread did not handle (the worker catches the user's own; what remains is e.g. its
  // heap running out): 'exit' follows and reports it.
  thread.on("error", (err) => (failure ??= err));
  thread.on("exit", (code) => {
    // What the model started must not outlive it (a process worker's group is killed likewise).
    for (const pid of children) killTree(pid);
    children.clear();
    const reason = killedBy
      ? `the worker was killed by ${killedBy}`
      : exitReason(code, failure, spec.resourceLimits);
    // The streams may still hold the thread's last output: let them end first (bounded).
    let open = 2;
    const done = (): void => {
      if (--open === 0) {
        clearTimeout(timer);
        on.exit({ code, signal: killedBy, reason });
      }
    };
    const timer = setTimeout(() => on.exit({ code, signal: killedBy, reason }), 1000);
    for (const s of [thread.stdout, thread.stderr]) {
      if (s.readableEnded) done();
      else s.once("end", done);
    }
  });
  // A big frame crosses in slices, one per turn of the event loop; what is written meanwhile waits
  // behind it (null: the end), so the thread sees every frame whole and in order.
  type Frame = string | readonly (string | Buffer)[];
  let backlog: (Frame | null)[] | null = null;
  // Small frames written in one turn of the event loop (several requests that arrived together) cross
  // as one message at its end: one postMessage and one wake-up of the thread for all of them.
  let batch: string | null = null;
  const flush = (): void => {
    const text = batch;
    batch = null;
    if (text !== null) thread.postMessage(text);
  };
  const post = (frame: Frame): void => {
    const slices = encodeToThread(frame);
    let step = slices.next();
    if (!step.done) thread.postMessage(step.value.data, step.value.transfer);
    step = slices.next();
    if (step.done) return;
    backlog = [];
    const pump = (): void => {
      if (!step.done) {
        thread.postMessage(step.value.data, step.value.transfer);
        step = slices.next();
      }
      if (!step.done) return void setImmediate(pump);
      const waiting = backlog ?? [];
      backlog = null;
      for (let i = 0; i < waiting.length; i++) {
        // A queued frame that is big itself starts slicing: the rest waits behind it in turn.
        if (backlog) return void (backlog as (Frame | null)[]).push(...waiting.slice(i));
        const queued = waiting[i]!;
        if (queued === null) thread.postMessage(null);
        else post(queued);
      }
    };
    setImmediate(pump);
  };
  return {
    id: `thread ${thread.threadId}`,
    pid: undefined,
    get bytesScanned() {
      return scanned;
    },
    get bytesAttached() {
      return attached;
    },
    write(frame) {
      if (ended) return false;
      if (backlog) backlog.push(frame);
      else if (typeof frame === "string" && frame.length < BATCH_FRAME_MAX) {
        if (batch === null) {
          batch = frame;
          setImmediate(flush);
        } else batch += frame;
      } else {
        flush();
        post(frame);
      }
      return true;
    },
    end() {
      if (ended) return;
      ended = true;
      flush();
      if (backlog) backlog.push(null);
      else thread.postMessage(null);
    },
    // Stops it wherever it is, even in a synchronous loop.
    kill: () => void thread.terminate(),
    stop(graceMs) {
      const timer = setTimeout(() => void thread.terminate(), graceMs);
      return () => clearTimeout(timer);
    },
  };
}

function killTree(pid: number): void {
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, "SIGKILL");
      return;
    } catch {
      // not a group leader, or gone already
    }
  }
}

function exitReason(code: number, failure: Error | null, limits: ResourceLimits | undefined): string {
  if (failure && (failure as NodeJS.ErrnoException).code === "ERR_WORKER_OUT_OF_MEMORY") {
    const limit = limits?.maxOldGenerationSizeMb;
    return (
      `the worker ran out of memory: its JavaScript heap reached the limit` +
      `${limit ? ` of ${limit} MB` : ""} (ERR_WORKER_OUT_OF_MEMORY)`
    );
  }
  if (failure) return `the worker thread failed: ${failure.message}`;
  return `the worker exited with code ${code}`;
}
