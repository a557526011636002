/**
 * In a worker thread, `process.kill(process.pid, signal)` (or pid 0, the caller's process group) would
 * signal the server and everything in its group: a predictor that kills itself — to end hard, or in a
 * test of the server's fault handling — would take the server with it, where in a process of its own
 * only the worker dies. So, in the thread only, a signal the predictor sends to its own process:
 * - 0 (the existence check) is passed on;
 * - SIGINT is ignored, as the process worker ignores it (the server decides how to stop);
 * - a signal whose default action ends a process ends the thread instead, and the server reports the
 *   worker "killed by" that signal, as for a process;
 * - any other (SIGCHLD, SIGWINCH, SIGUSR1, SIGPIPE, which node ignores...) is passed on to the process.
 */
import { constants } from "node:os";

const ENDS_A_PROCESS = new Set<string>([
  "SIGHUP",
  "SIGQUIT",
  "SIGILL",
  "SIGTRAP",
  "SIGABRT",
  "SIGBUS",
  "SIGFPE",
  "SIGKILL",
  "SIGUSR2",
  "SIGSEGV",
  "SIGALRM",
  "SIGTERM",
  "SIGSTKFLT",
  "SIGXCPU",
  "SIGXFSZ",
  "SIGVTALRM",
  "SIGPROF",
  "SIGIO",
  "SIGPOLL",
  "SIGPWR",
  "SIGSYS",
]);

function signalName(signal: string | number | undefined): string | null {
  if (signal === undefined) return "SIGTERM";
  if (typeof signal === "string") return signal in constants.signals ? signal : null;
  for (const [name, n] of Object.entries(constants.signals)) if (n === signal) return name;
  return null;
}

export function routeSelfSignals(report: (signal: NodeJS.Signals) => void): void {
  const kill = process.kill.bind(process);
  process.kill = function (pid: number, signal?: string | number): true {
    const own = pid === process.pid || pid === 0 || pid === -process.pid;
    const name = signalName(signal);
    if (!own || signal === 0 || name === null) return kill(pid, signal);
    if (name === "SIGINT") return true;
    if (!ENDS_A_PROCESS.has(name)) return kill(pid, signal);
    report(name as NodeJS.Signals);
    process.exit(128 + (constants.signals as Record<string, number>)[name]!);
  };
}
