/** The engine for running models, or undefined when none answers (predict/serve then run locally). */
import { dockerClient, pingDocker, type DockerClient } from "./engine.js";

export type Engine = DockerClient;

export async function connectEngine(timeoutMs = 2000): Promise<Engine | undefined> {
  try {
    await pingDocker(timeoutMs);
    return dockerClient().client;
  } catch {
    return undefined;
  }
}
