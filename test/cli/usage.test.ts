/** The CLI's own surface: help, version, usage errors and exit codes. */
import { describe, expect, it } from "vitest";
import { EXIT_CODES } from "../../src/errors.js";
import { KILN_VERSION } from "../../src/version.js";
import { runCli } from "./run.js";

describe("kiln CLI usage", () => {
  it("--help lists every command with a one-line description and the global options", async () => {
    const { code, stdout, stderr } = await runCli(["--help"]);
    expect(code).toBe(EXIT_CODES.ok);
    expect(stderr).toBe("");
    expect(stdout).toMatch(/^Usage: kiln \[options\] \[command\]/);
    for (const command of ["init", "build", "dockerfile", "predict", "serve", "exec", "push", "login"]) {
      expect(stdout).toMatch(new RegExp(`^  ${command}\\b.* {2,}\\S`, "m"));
    }
    for (const flag of ["--version", "--debug", "--no-color", "-f, --file <path>", "-h, --help"])
      expect(stdout).toContain(flag);
  });

  it("help for one command shows its flags", async () => {
    const { code, stdout } = await runCli(["init", "--help"]);
    expect(code).toBe(0);
    expect(stdout).toContain("Usage: kiln init [options] [dir]");
    const flat = stdout.replace(/\s+/g, " ");
    expect(flat).toContain('--lang <lang> predictor language (choices: "ts", "python", default: "ts")');
    expect(flat).toContain("(never overwrites)");
  });

  it("--version and -v print the version alone", async () => {
    for (const flag of ["--version", "-v"]) {
      const { code, stdout } = await runCli([flag]);
      expect(code).toBe(0);
      expect(stdout).toBe(`${KILN_VERSION}\n`);
    }
    expect(KILN_VERSION).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("an unknown command is a usage error (exit 2) with a suggestion", async () => {
    const { code, stdout, stderr } = await runCli(["biuld"]);
    expect(code).toBe(EXIT_CODES.usage);
    expect(stdout).toBe("");
    expect(stderr).toContain("unknown command 'biuld'");
    expect(stderr).toContain("Did you mean build?");
  });

  it("an unknown flag is a usage error (exit 2)", async () => {
    const { code, stderr } = await runCli(["init", "--language", "ts"]);
    expect(code).toBe(EXIT_CODES.usage);
    expect(stderr).toContain("unknown option '--language'");
  });

  it("a bad flag value is a usage error (exit 2) listing the choices", async () => {
    const { code, stderr } = await runCli(["init", "--lang", "rust"]);
    expect(code).toBe(EXIT_CODES.usage);
    expect(stderr).toContain("Allowed choices are ts, python");
  });

  it("a missing required argument is a usage error (exit 2)", async () => {
    const { code, stderr } = await runCli(["inspect"]);
    expect(code).toBe(EXIT_CODES.usage);
    expect(stderr).toContain("missing required argument 'image'");
  });

  it("a failing command explains itself without a stack trace", async () => {
    const { code, stdout, stderr } = await runCli(["dockerfile", "-f", "does-not-exist.yaml"]);
    expect(code).toBe(EXIT_CODES.manifest);
    expect(stdout).toBe("");
    expect(stderr).toContain("error:");
    expect(stderr).toContain("does-not-exist.yaml");
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it("--debug adds the stack trace", async () => {
    const { stderr } = await runCli(["--debug", "dockerfile", "-f", "does-not-exist.yaml"]);
    expect(stderr).toMatch(/\n\s+at /);
  });
});
