/**
 * Small helpers for the build integration tests (until test/helpers/docker.ts from infra is on main):
 * Docker presence (fail under CI=true, skip otherwise), temp projects, image cleanup.
 */
import { existsSync } from "node:fs";
import { cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";

export const BASE_PYTHON = "kiln-test/python";
export const BASE_NODE = "kiln-test/node";
export const BASE_BOOKWORM = "kiln-test/bookworm";
export const FAKE_BUNDLE = join(import.meta.dirname, "../fixtures/build/_runtime-bundle");

export function dockerAvailable(): boolean {
  const ok = existsSync("/var/run/docker.sock") || Boolean(process.env.DOCKER_HOST);
  if (!ok && process.env.CI === "true") throw new Error("CI=true but no Docker engine: integration tests must run");
  return ok;
}

export async function tempProject(fixture: string | null): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "kiln-it-"));
  if (fixture) await cp(fixture, dir, { recursive: true });
  return dir;
}

const created: string[] = [];
export function uniqueTag(name: string): string {
  const tag = `kiln-test-build/${name}:${process.pid}-${created.length}`;
  created.push(tag);
  return tag;
}

export async function cleanup(dirs: string[]): Promise<void> {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
  for (const t of created.splice(0)) await execa("/usr/bin/docker", ["image", "rm", "-f", t], { reject: false });
}
