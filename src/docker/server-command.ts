/**
 * What the CLI knows about an image's default command: whether it runs kiln's own server (which says
 * when it is ready on its output), and the server flags kiln adds to it. Pure, so the CLI can decide
 * this without loading the engine client.
 */

/** The image's command starts kiln's own server (`node /kiln/server.mjs`). */
export function runsKilnServer(cmd: string[] | undefined): boolean {
  return cmd?.some((a) => a.endsWith("/kiln/server.mjs")) ?? false;
}

/** kiln's server and Cog's server both take --host and --upload-url; other commands are left alone. */
export function serverCmd(
  cmd: string[] | undefined,
  hostArgs: string[],
  extra: string[],
): string[] | undefined {
  if (!cmd || (hostArgs.length === 0 && extra.length === 0)) return undefined;
  const isServer = runsKilnServer(cmd) || cmd.includes("cog.server.http");
  if (!isServer) return undefined;
  return [...cmd, ...(cmd.includes("--host") ? [] : hostArgs), ...extra];
}
