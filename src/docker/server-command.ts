/**
 * What the CLI knows about an image's default command: whether it runs kiln's own server (which says
 * when it is ready on its output), and the server flags kiln adds to it. Pure, so the CLI can decide
 * this without loading the engine client.
 */

/** The image's command starts kiln's own server (`node /kiln/server.mjs`). */
export function runsKilnServer(cmd: string[] | undefined): boolean {
  return cmd?.some((a) => a.endsWith("/kiln/server.mjs")) ?? false;
}

export interface ServerCmdOptions {
  /** Flags for the server itself, after the image's command (e.g. --upload-url U). */
  extra?: readonly string[];
  /**
   * The container serves one request and is removed (`kiln predict`, `kiln train`): kiln's server then
   * starts without the image's --max-semi-space-size (see oneRequestNodeArgs).
   */
  oneRequest?: boolean;
}

/**
 * The container's command, or undefined to keep the image's: kiln's server and Cog's server both take
 * --host (`hostArgs`, unless the command has one) and --upload-url; other commands are left alone.
 */
export function serverCmd(
  cmd: string[] | undefined,
  hostArgs: readonly string[],
  opts: ServerCmdOptions = {},
): string[] | undefined {
  if (!cmd) return undefined;
  const extra = opts.extra ?? [];
  const kiln = runsKilnServer(cmd);
  const base = kiln && opts.oneRequest ? oneRequestNodeArgs(cmd) : cmd;
  const changed = base.length !== cmd.length;
  if (!changed && hostArgs.length === 0 && extra.length === 0) return undefined;
  if (!kiln && !cmd.includes("cog.server.http")) return undefined;
  return [...base, ...(base.includes("--host") ? [] : hostArgs), ...extra];
}

/**
 * kiln's image command (`node --max-semi-space-size=1 /kiln/server.mjs`) without the semi-space flag
 * before the server's path. The flag keeps a long-running server's heap from growing, but any V8 option
 * on node's command line (this one, --stack-size=2000, --no-opt alike; node's own options such as
 * --no-warnings do not) makes node compile its built-in modules without their code cache: about 3x the
 * CPU to load them, some 50 ms more before READY (server and worker thread together), which a
 * one-request container pays and never gets back. Other V8 options (e.g. a --max-old-space-size the
 * user chose) stay. The worker thread keeps its small young generation either way (worker-command.ts
 * gives it one by default, as resource limits, which cost nothing of the kind).
 */
function oneRequestNodeArgs(cmd: string[]): string[] {
  const script = cmd.findIndex((a) => a.endsWith("/kiln/server.mjs"));
  const out: string[] = [];
  for (let i = 0; i < cmd.length; i++) {
    const arg = cmd[i] ?? "";
    if (i > 0 && i < script && arg.startsWith("--max-semi-space-size")) {
      if (arg === "--max-semi-space-size") i++; // the value as its own word
      continue;
    }
    out.push(arg);
  }
  return out;
}
