/**
 * Flag parsing the commands share: each flag is checked the same way in every command that has it,
 * before anything slow starts, and a bad value is a usage error (exit 2).
 */
import { readFile } from "node:fs/promises";
import { Option, type Command } from "commander";
import { PROGRESS_MODES } from "../context.js";
import { UsageError } from "../errors.js";

/** Repeatable flags (-i, -e): each occurrence appends. */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** --progress with the same choices in every command that may build. */
export function progressOption(description = "build progress output"): Option {
  return new Option("--progress <mode>", description).choices(PROGRESS_MODES).default("auto");
}

/** -f FILE, a global option. */
export function manifestFlag(cmd: Command): string | undefined {
  return (cmd.optsWithGlobals() as { file?: string }).file;
}

/** -e NAME=value flags. */
export function parseEnvFlags(flags: string[] | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  for (const flag of flags ?? []) {
    const eq = flag.indexOf("=");
    if (eq <= 0) throw new UsageError(`-e ${JSON.stringify(flag)} is not NAME=value`);
    env[flag.slice(0, eq)] = flag.slice(eq + 1);
  }
  return env;
}

export function parseSeconds(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0)
    throw new UsageError(`${flag} must be a positive number of seconds, got ${JSON.stringify(text)}`);
  return n * 1000;
}

export function parsePositiveInteger(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1)
    throw new UsageError(`${flag} must be a positive integer, got ${JSON.stringify(text)}`);
  return n;
}

export function parsePort(text: string, flag = "-p"): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`${flag} must be a port number (0-65535), got ${JSON.stringify(text)}`);
  return port;
}

/** --secret id=NAME,src=FILE | id=NAME,env=VAR. */
export function checkSecretSpec(spec: string): string {
  const fields = Object.fromEntries(
    spec.split(",").map((kv) => kv.split("=", 2) as [string, string | undefined]),
  );
  if (!fields.id || (!fields.src && !fields.env && !fields.source)) {
    throw new UsageError(
      `--secret ${spec}: expected id=NAME,src=FILE or id=NAME,env=VAR`,
      "e.g. --secret id=hf_token,env=HF_TOKEN",
    );
  }
  return spec;
}

/** --ca-cert FILE: a PEM file, read now. */
export async function readCa(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw new UsageError(
      `Cannot read the CA certificate ${file}: ${(err as Error).message}`,
      "--ca-cert takes a PEM file.",
    );
  }
}

/**
 * An IMAGE argument that is really an input (`kiln predict prompt=hi`): image names never hold "=",
 * so say how inputs are given instead of looking for an image called "prompt=hi".
 */
export function checkImageArgument(image: string | undefined): string | undefined {
  if (image === undefined || !image.includes("=")) return image;
  throw new UsageError(
    `${JSON.stringify(image)} is not an image name (inputs are given with -i).`,
    `kiln predict -i ${image}`,
  );
}
