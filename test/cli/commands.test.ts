/** Registering only the command a run names: the table must match what each command registers. */
import { describe, expect, it } from "vitest";
import { Command } from "commander";
import { COMMANDS, commandFor } from "../../src/cli/commands/index.js";
import { buildProgram } from "../../src/cli/main.js";
import type { CommandContext } from "../../src/cli/context.js";
import { runCli } from "./run.js";

const noContext = (): CommandContext => {
  throw new Error("no command runs in these tests");
};

describe("the command table", () => {
  it("names each command (and its aliases) as its register function creates it", () => {
    for (const entry of COMMANDS) {
      const program = new Command("kiln");
      entry.register(program, noContext);
      expect(program.commands.map((c) => c.name())).toEqual([entry.name]);
      expect(program.commands[0]?.aliases()).toEqual(entry.aliases ?? []);
    }
    expect(new Set(COMMANDS.map((c) => c.name)).size).toBe(COMMANDS.length);
  });

  it("finds the command past global options and the value of -f/--file", () => {
    const named = (args: string[]) => commandFor(args)?.name;
    expect(named(["predict", "img", "-i", "a=b"])).toBe("predict");
    expect(named(["run", "img"])).toBe("predict");
    expect(named(["--debug", "--no-color", "serve"])).toBe("serve");
    expect(named(["-f", "build", "push"])).toBe("push");
    expect(named(["--file", "x.yaml", "build"])).toBe("build");
    expect(named(["--file=x.yaml", "-fy.yaml", "build"])).toBe("build");
    expect(named(["build", "--help"])).toBe("build");
  });

  it("leaves every command registered for the root's help and version, `help`, typos and no command", () => {
    for (const args of [
      [],
      ["--help"],
      ["-h", "predict"],
      ["-v"],
      ["help", "predict"],
      ["biuld"],
      ["--", "x"],
    ])
      expect(commandFor(args), args.join(" ")).toBeUndefined();
    expect(buildProgram(noContext, ["biuld"]).commands).toHaveLength(COMMANDS.length);
    expect(buildProgram(noContext, ["predict", "img"]).commands.map((c) => c.name())).toEqual(["predict"]);
  });

  it("prints the same help for a command registered alone as among all the others", async () => {
    const all = buildProgram(noContext);
    for (const name of ["predict", "serve", "init"]) {
      const { code, stdout } = await runCli([name, "--help"]);
      expect(code).toBe(0);
      expect(stdout).toBe(all.commands.find((c) => c.name() === name)?.helpInformation());
    }
  });
});
