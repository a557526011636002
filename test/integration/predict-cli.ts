/**
 * Runs the real kiln CLI as a child process. Once per test process, src/ is transpiled with esbuild to
 * dist/ (the layout `npm run build` produces, without its type check) and the runtime bundle is rebuilt,
 * so tests need no prior build and images get the current runtime. Every container the CLI starts is
 * labelled kiln.test=1.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { build } from "esbuild";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const BIN = join(ROOT, "bin", "kiln.js");
let prepared: Promise<string> | undefined;

async function sources(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await sources(p)));
    else if (e.name.endsWith(".ts") && !e.name.endsWith(".d.ts")) out.push(p);
  }
  return out;
}

export function cliPath(): Promise<string> {
  prepared ??= (async () => {
    await build({
      entryPoints: await sources(join(ROOT, "src")),
      outdir: join(ROOT, "dist"),
      outbase: join(ROOT, "src"),
      platform: "node",
      format: "esm",
      target: "node20",
      logLevel: "error",
    });
    await promisify(execFile)(process.execPath, [join(ROOT, "scripts", "bundle-runtime.mjs")]);
    return BIN;
  })();
  return prepared;
}

export interface KilnRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface KilnOptions {
  cwd: string;
  env?: Record<string, string>;
  stdin?: string;
}

export async function spawnKiln(args: string[], opts: KilnOptions): Promise<ChildProcess> {
  const child = spawn(process.execPath, [await cliPath(), ...args], {
    cwd: opts.cwd,
    env: { ...process.env, KILN_CONTAINER_LABELS: "kiln.test=1", NO_COLOR: "1", ...opts.env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  child.stdin?.end(opts.stdin ?? "");
  return child;
}

export function collect(child: ChildProcess): Promise<KilnRun> {
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) =>
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
}

export async function kiln(args: string[], opts: KilnOptions): Promise<KilnRun> {
  return collect(await spawnKiln(args, opts));
}

/**
 * Resolves with the first match of `pattern` in what the child writes to `stream` so far; rejects when
 * the child exits without writing it.
 */
export function waitForOutput(
  child: ChildProcess,
  pattern: RegExp,
  stream: "stdout" | "stderr" = "stderr",
): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let text = "";
    child[stream]?.on("data", (d: Buffer) => {
      text += d.toString();
      const m = pattern.exec(text);
      if (m) resolve(m);
    });
    child.once("close", (code) =>
      reject(new Error(`kiln exited (${code}) before its ${stream} matched ${pattern}:\n${text}`)),
    );
  });
}

export interface KilnServer {
  child: ChildProcess;
  /** The server's URL, as it announced it ("Model ready: URL"). */
  url: string;
  done: Promise<KilnRun>;
  /** Ctrl-C (SIGINT; or another signal) and the run's result. */
  stop(signal?: NodeJS.Signals): Promise<KilnRun>;
}

/** Spawns `kiln serve ...` (or `kiln playground ...`) and resolves once the model is ready. */
export async function startKilnServer(args: string[], opts: KilnOptions): Promise<KilnServer> {
  const child = await spawnKiln(args, opts);
  const done = collect(child);
  const [, url] = await waitForOutput(child, /Model ready: (http:\/\/127\.0\.0\.1:\d+)/);
  const stop = (signal: NodeJS.Signals = "SIGINT"): Promise<KilnRun> => {
    child.kill(signal);
    return done;
  };
  return { child, url: url as string, done, stop };
}
