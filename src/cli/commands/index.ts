import type { Command } from "commander";
import type { CommandContext } from "../context.js";
import { registerInit } from "./init.js";
import { registerBuild } from "./build.js";
import { registerDockerfile } from "./dockerfile.js";
import { registerPredict } from "./predict.js";
import { registerTrain } from "./train.js";
import { registerServe } from "./serve.js";
import { registerPlayground } from "./playground.js";
import { registerExec } from "./exec.js";
import { registerPush } from "./push.js";
import { registerLogin } from "./login.js";
import { registerInspect } from "./inspect.js";
import { registerGateway } from "./gateway.js";
import { registerClient } from "./client.js";
import { registerDeploy } from "./deploy.js";

export type RegisterCommand = (program: Command, context: () => CommandContext) => void;

/** A command by the name (and aliases) it registers, so a run can register only the one it runs. */
export interface CommandEntry {
  name: string;
  aliases?: readonly string[];
  register: RegisterCommand;
}

/** Every command, in the order `kiln --help` lists them. */
export const COMMANDS: readonly CommandEntry[] = [
  { name: "init", register: registerInit },
  { name: "build", register: registerBuild },
  { name: "dockerfile", register: registerDockerfile },
  { name: "predict", aliases: ["run"], register: registerPredict },
  { name: "train", register: registerTrain },
  { name: "serve", register: registerServe },
  { name: "playground", register: registerPlayground },
  { name: "exec", register: registerExec },
  { name: "push", register: registerPush },
  { name: "login", register: registerLogin },
  { name: "inspect", register: registerInspect },
  { name: "gateway", register: registerGateway },
  { name: "client", register: registerClient },
  { name: "deploy", register: registerDeploy },
];

/**
 * The command `args` (argv without node and the script) runs: its first word that is neither a global
 * option nor the value of `-f/--file`. Undefined when there is none or it names no command (help,
 * a typo: then every command is registered, for the listing and the suggestion), or when the root's
 * --help/--version comes first.
 */
export function commandFor(args: readonly string[]): CommandEntry | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? "";
    if (arg === "-f" || arg === "--file") i++;
    else if (["-h", "--help", "-v", "--version", "--"].includes(arg)) return undefined;
    else if (!arg.startsWith("-"))
      return COMMANDS.find((c) => c.name === arg || (c.aliases ?? []).includes(arg));
  }
  return undefined;
}
