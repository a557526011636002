import type { Command } from "commander";
import { UsageError } from "../../errors.js";
import { normalizeRegistry } from "../../docker/reference.js";
import type { CommandContext } from "../context.js";
import { readCa } from "../flags.js";

export interface LoginOptions {
  username?: string;
  passwordStdin?: boolean;
  caCert?: string;
}

export function registerLogin(program: Command, context: () => CommandContext): void {
  program
    .command("login")
    .description("store registry credentials the way `docker login` does")
    .argument("[registry]", "registry host, e.g. registry.example.com (default: Docker Hub)")
    .option("-u, --username <name>", "user name")
    .option("--password-stdin", "read the password from standard input")
    .option("--ca-cert <file>", "PEM CA certificate that signed the registry's TLS certificate")
    .action(async (registry: string | undefined, opts: LoginOptions) => {
      await runLogin(context(), registry, opts);
    });
}

/** Reads all of stdin (the password), without its trailing newline. */
async function readPassword(stdin: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks)
    .toString("utf8")
    .replace(/\r?\n$/, "");
}

/**
 * Checks the credentials against the registry (GET /v2/ answering its Basic or Bearer challenge) and
 * only then stores them, where Docker would. Returns where they were stored.
 */
export async function runLogin(
  ctx: CommandContext,
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
  const password = await readPassword(stdin);
  if (password === "") throw new UsageError("The password read from standard input is empty.");
  const ca = opts.caCert ? await readCa(opts.caCert) : undefined;
  const credentials = { username: opts.username, password };
  ctx.out.info(`Checking credentials of ${opts.username} with ${registry}...`);
  // Loaded on use, so that other commands do not pay for the registry client at start-up.
  const { RegistryClient } = await import("../../docker/registry.js");
  const { storeCredentials } = await import("../../docker/credentials.js");
  await new RegistryClient(registry, { credentials, ca }).verify();
  const where = await storeCredentials(registry, credentials);
  ctx.out.print(`Login succeeded: ${opts.username} @ ${registry} (stored in ${where})`);
  return where;
}
