/** bin/kiln.js on a Node older than "engines" allows: one line saying what is needed, no stack trace. */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const REPO = join(import.meta.dirname, "../..");
const BIN = join(REPO, "bin/kiln.js");

/** Runs bin/kiln.js with process.versions.node reporting `version`. */
async function runAs(version: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const fake = `data:text/javascript,Object.defineProperty(process.versions,"node",{value:${JSON.stringify(version)}})`;
  try {
    const r = await promisify(execFile)(process.execPath, ["--import", fake, BIN, "--version"]);
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe("bin/kiln.js on an old Node", () => {
  it.each(["20.11.1", "18.19.0", "16.20.2"])("Node %s gets one line and exit 1", async (version) => {
    const r = await runAs(version);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(
      `kiln needs Node.js 20.12 or newer; this is Node.js ${version}. Install a current Node.js 20 or later (https://nodejs.org) and run kiln again.\n`,
    );
  });

  it("checks the same minimum that package.json engines states", () => {
    const pkg = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { engines: { node: string } };
    const need = /var NEED = \[(\d+), (\d+)\];/.exec(readFileSync(BIN, "utf8"));
    expect(need).not.toBeNull();
    expect(pkg.engines.node).toBe(`>=${need?.[1]}.${need?.[2]}`);
  });
});
