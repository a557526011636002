/**
 * A capability that is not built yet must fail honestly: exit 8, a clear message, no stack trace.
 * Every real command gets built eventually, so this adds a stand-in command through the registry.
 */
import { describe, expect, it, vi } from "vitest";
import type { Command } from "commander";
import { EXIT_CODES, NotAvailableError } from "../../src/errors.js";
import type * as Commands from "../../src/cli/commands/index.js";
import { runCli } from "./run.js";

vi.mock("../../src/cli/commands/index.js", async (importOriginal) => {
  const original = await importOriginal<typeof Commands>();
  const registerLater = (program: Command): void => {
    program
      .command("later")
      .description("a capability that is not built yet")
      .action(() => {
        throw new NotAvailableError("kiln later", "issue 99");
      });
  };
  return { ...original, COMMANDS: [...original.COMMANDS, registerLater] };
});

describe("commands that are not available yet", () => {
  it("exit 8 with the reason and where to follow progress, without a stack trace", async () => {
    const { code, stdout, stderr } = await runCli(["later"]);
    expect(code).toBe(EXIT_CODES.notAvailable);
    expect(stdout).toBe("");
    expect(stderr).toBe(
      "error: kiln later is not available yet in this version of kiln.\nhint: Follow progress in issue 99.\n",
    );
  });

  it("--debug adds the stack trace", async () => {
    const { code, stderr } = await runCli(["--debug", "later"]);
    expect(code).toBe(EXIT_CODES.notAvailable);
    expect(stderr).toMatch(/\n\s+at /);
  });
});
