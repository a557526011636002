/**
 * Registry credentials stored where `docker login` stores them: the Docker config.json (`auths` with
 * base64 "user:password"), or a credential helper (`credHelpers` per registry, `credsStore` for all)
 * run as `docker-credential-<name> get|store|erase` with the server URL / JSON on stdin.
 */
import { chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { AuthError } from "../errors.js";
import { dockerConfigDir } from "./endpoint.js";
import { authKey } from "./reference.js";

export interface Credentials {
  username: string;
  password: string;
}

/** The engine's X-Registry-Auth body for these credentials: one mapping for push and pull. */
export function engineAuth(
  registry: string,
  credentials: Credentials | undefined,
): { username?: string; password?: string; serveraddress?: string } {
  return credentials
    ? { username: credentials.username, password: credentials.password, serveraddress: registry }
    : {};
}

interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
}

export interface DockerConfigFile {
  auths?: Record<string, AuthEntry>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
  [key: string]: unknown;
}

type Env = Record<string, string | undefined>;

function configPath(env: Env = process.env): string {
  return join(dockerConfigDir(env), "config.json");
}

async function readDockerConfig(env: Env = process.env): Promise<DockerConfigFile> {
  const file = configPath(env);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw err;
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed))
      throw new Error("not a JSON object");
    return parsed as DockerConfigFile;
  } catch (err) {
    throw new AuthError(`Cannot read the Docker config ${file}: ${(err as Error).message}.`, {
      hint: "Fix or remove that file; it must be a JSON object.",
      cause: err,
    });
  }
}

/** The credential helper that holds this registry's credentials, if any (per-registry beats global). */
export function helperFor(config: DockerConfigFile, registry: string): string | undefined {
  const key = authKey(registry);
  return config.credHelpers?.[key] ?? config.credHelpers?.[registry] ?? (config.credsStore || undefined);
}

/** Docker tolerates keys written as URLs ("https://host/v1/"): match those too. */
function findAuthEntry(config: DockerConfigFile, registry: string): AuthEntry | undefined {
  const key = authKey(registry);
  const auths = config.auths ?? {};
  if (auths[key]) return auths[key];
  for (const [k, entry] of Object.entries(auths)) {
    const host = k.replace(/^https?:\/\//, "").replace(/\/.*$/, "");
    if (host === registry) return entry;
  }
  return undefined;
}

export async function getCredentials(
  registry: string,
  env: Env = process.env,
): Promise<Credentials | undefined> {
  const config = await readDockerConfig(env);
  const helper = helperFor(config, registry);
  if (helper) return helperGet(helper, authKey(registry), env);
  const entry = findAuthEntry(config, registry);
  if (!entry) return undefined;
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon < 0) {
      throw new AuthError(`The stored credentials for ${registry} in ${configPath(env)} are malformed.`, {
        hint: `Log in again: kiln login ${registry}`,
      });
    }
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (entry.username && entry.password) return { username: entry.username, password: entry.password };
  return undefined;
}

/** Stores credentials; returns where they went (for the user's information). */
export async function storeCredentials(
  registry: string,
  creds: Credentials,
  env: Env = process.env,
): Promise<string> {
  const config = await readDockerConfig(env);
  const key = authKey(registry);
  const helper = helperFor(config, registry);
  config.auths ??= {};
  if (helper) {
    await runHelper(
      helper,
      "store",
      JSON.stringify({ ServerURL: key, Username: creds.username, Secret: creds.password }),
      env,
    );
    // Docker keeps an empty entry so `docker` lists the registry as logged in.
    config.auths[key] = {};
    await writeDockerConfig(config, env);
    return `credential helper docker-credential-${helper}`;
  }
  config.auths[key] = { auth: Buffer.from(`${creds.username}:${creds.password}`).toString("base64") };
  await writeDockerConfig(config, env);
  return configPath(env);
}

/** Atomic write (temp file + rename) with owner-only permissions, keeping every other key as it was. */
async function writeDockerConfig(config: DockerConfigFile, env: Env): Promise<void> {
  const file = configPath(env);
  await mkdir(dockerConfigDir(env), { recursive: true, mode: 0o700 });
  const tmp = `${file}.kiln-${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(config, null, "\t")}\n`, { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, file);
}

async function helperGet(helper: string, serverUrl: string, env: Env): Promise<Credentials | undefined> {
  const result = await runHelper(helper, "get", serverUrl, env, true);
  if (result === undefined) return undefined;
  let parsed: { Username?: unknown; Secret?: unknown };
  try {
    parsed = JSON.parse(result) as typeof parsed;
  } catch (err) {
    throw new AuthError(`docker-credential-${helper} returned something that is not JSON.`, { cause: err });
  }
  if (typeof parsed.Username !== "string" || typeof parsed.Secret !== "string") return undefined;
  return { username: parsed.Username, password: parsed.Secret };
}

/** Runs a helper; with `notFoundOk`, "credentials not found" yields undefined instead of an error. */
async function runHelper(
  helper: string,
  action: string,
  input: string,
  env: Env,
  notFoundOk = false,
): Promise<string | undefined> {
  const program = `docker-credential-${helper}`;
  // Loaded here: only Docker configs naming a helper need execa (it costs ~0.1 s of start-up).
  const { execa } = await import("execa");
  const result = await execa(program, [action], {
    input,
    reject: false,
    timeout: 30_000,
    env: env as NodeJS.ProcessEnv,
  });
  if (!result.failed) return result.stdout;
  const output = `${result.stdout}\n${result.stderr}`.trim();
  if (notFoundOk && /credentials not found/i.test(output)) return undefined;
  if (result.exitCode === undefined) {
    throw new AuthError(
      `The Docker config names credential helper "${helper}", but ${program} cannot be run.`,
      {
        hint: `Install ${program}, or remove "credsStore"/"credHelpers" from ${configPath(env)}.`,
        cause: result.cause,
      },
    );
  }
  throw new AuthError(
    `${program} ${action} failed: ${output.split("\n")[0] ?? `exit code ${result.exitCode}`}`,
    {
      hint: `Check the helper works: echo <server> | ${program} get`,
    },
  );
}
