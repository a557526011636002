/**
 * Runs the real kiln CLI as a child process (bundled once from src/ with esbuild, so tests need no
 * prior `npm run build`), with every container it starts labelled kiln.test=1.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const OUT = `${ROOT}dist/test-cli/kiln.mjs`;
let bundled: Promise<string> | undefined;

export function cliPath(): Promise<string> {
  bundled ??= (async () => {
    await mkdir(`${ROOT}dist/test-cli`, { recursive: true });
    await build({
      stdin: {
        contents: 'import { main } from "../../src/cli/main.ts";\nprocess.exitCode = await main(process.argv);\n',
        resolveDir: `${ROOT}dist/test-cli`,
        loader: "ts",
      },
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      packages: "external",
      outfile: OUT,
      logLevel: "error",
    });
    return OUT;
  })();
  return bundled;
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
  return new Promise((resolve) => child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr })));
}

export async function kiln(args: string[], opts: KilnOptions): Promise<KilnRun> {
  return collect(await spawnKiln(args, opts));
}
