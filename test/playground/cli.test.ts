import { describe, expect, it } from "vitest";
import { EXIT_CODES } from "../../src/errors.js";
import { runCli } from "../cli/run.js";

describe("kiln playground (usage)", () => {
  it("is listed in kiln --help and documents its flags", async () => {
    expect((await runCli(["--help"])).stdout).toMatch(/playground \[options\] \[image\]/);
    const help = await runCli(["playground", "--help"]);
    expect(help.code).toBe(0);
    for (const flag of ["--no-docker", "--api-token", "--webhook-port", "--no-open", "-p, --port"])
      expect(help.stdout).toContain(flag);
  });

  it("refuses a bad --webhook-port before starting anything", async () => {
    const r = await runCli(["playground", "--no-docker", "--webhook-port", "70000"]);
    expect(r.code).toBe(EXIT_CODES.usage);
    expect(r.stderr).toContain('--webhook-port must be a port number (0-65535), got "70000"');
  });
});
