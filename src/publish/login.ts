/**
 * `kiln login`: checks the credentials against the registry (GET /v2/ answering its Basic or Bearer
 * challenge) and only then stores them where Docker would.
 */
import type { RunContext } from "../context.js";
import { normalizeRegistry } from "../docker/reference.js";
import { InterruptedError, UsageError } from "../errors.js";

export interface LoginOptions {
  username?: string | undefined;
  /** The password comes from standard input (the only way: it never lands in shell history). */
  passwordStdin?: boolean | undefined;
  /** PEM CA certificate that signed the registry's TLS certificate. */
  ca?: Buffer | undefined;
}

/** Returns where the credentials were stored. */
export async function runLogin(
  ctx: RunContext,
  registryArg: string | undefined,
  opts: LoginOptions,
  stdin: NodeJS.ReadableStream = process.stdin,
): Promise<string> {
  const registry = normalizeRegistry(registryArg);
  const shown = registryArg ?? registry;
  if (!opts.username) {
    throw new UsageError(
      "kiln login needs --username.",
      `echo "$PASSWORD" | kiln login ${shown} --username USER --password-stdin`,
    );
  }
  if (!opts.passwordStdin) {
    throw new UsageError(
      "kiln login reads the password from standard input only (--password-stdin), so it never lands in shell history.",
      `echo "$PASSWORD" | kiln login ${shown} --username ${opts.username} --password-stdin`,
    );
  }
  const password = await readPassword(stdin, ctx.signal);
  if (password === "") throw new UsageError("The password read from standard input is empty.");
  const credentials = { username: opts.username, password };
  ctx.out.info(`Checking credentials of ${opts.username} with ${registry}...`);
  // Loaded on use, so that other commands do not pay for the registry client at start-up.
  const { RegistryClient } = await import("../docker/registry.js");
  const { storeCredentials } = await import("../docker/credentials.js");
  await new RegistryClient(registry, { credentials, ca: opts.ca }).verify();
  const where = await storeCredentials(registry, credentials);
  ctx.out.print(`Login succeeded: ${opts.username} @ ${registry} (stored in ${where})`);
  return where;
}

/** Reads all of stdin (the password), without its trailing newline; Ctrl-C stops the wait for it. */
async function readPassword(stdin: NodeJS.ReadableStream, signal: AbortSignal): Promise<string> {
  const chunks: Buffer[] = [];
  const read = (async () => {
    for await (const chunk of stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  })();
  let onAbort = (): void => undefined;
  const interrupted = new Promise<never>((_resolve, reject) => {
    onAbort = () => reject(new InterruptedError());
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    await Promise.race([read, interrupted]);
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
  return Buffer.concat(chunks)
    .toString("utf8")
    .replace(/\r?\n$/, "");
}
