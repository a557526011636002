/**
 * vitest globalSetup of the integration project: after all integration files ran, no container with
 * the test label (kiln.test=1) created during the run may be left behind. In CI that fails the run
 * (after removing them); locally other worktrees may be testing on the same engine, so it only warns.
 */
import { labelledContainers, removeTestContainers } from "./docker.js";

let startedAt = 0;

export function setup(): void {
  // Docker's Created is in whole seconds; step back one so a container started this second counts.
  startedAt = Math.floor(Date.now() / 1000) - 1;
}

export async function teardown(): Promise<void> {
  let leftovers;
  try {
    leftovers = await labelledContainers(startedAt);
  } catch {
    return; // No engine: the tests themselves already failed loudly through requireDocker().
  }
  if (leftovers.length === 0) return;
  const list = leftovers
    .map((c) => `${c.id.slice(0, 12)} ${c.names.join(",")} (${c.image}, ${c.state})`)
    .join("\n  ");
  const message = `Integration tests left ${leftovers.length} labelled container(s) behind:\n  ${list}`;
  if (process.env.CI === "true") {
    await removeTestContainers(startedAt);
    process.exitCode = 1;
    throw new Error(`${message}\nThey were removed; fix the test that leaks them.`);
  }
  console.warn(`warning: ${message}\n(not removed: another run on this engine may own them)`);
}
