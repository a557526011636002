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

/** Every command, in the order `kiln --help` lists them. */
export const COMMANDS: RegisterCommand[] = [
  registerInit,
  registerBuild,
  registerDockerfile,
  registerPredict,
  registerTrain,
  registerServe,
  registerPlayground,
  registerExec,
  registerPush,
  registerLogin,
  registerInspect,
  registerGateway,
  registerClient,
  registerDeploy,
];
