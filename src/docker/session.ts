/** The engine for running models, or undefined when none answers (predict/serve then run locally). */
import Docker from "dockerode";

export type Engine = Docker;

export async function connectEngine(timeoutMs = 2000): Promise<Docker | undefined> {
  const docker = new Docker();
  try {
    await Promise.race([
      docker.ping(),
      new Promise((_, reject) => setTimeout(() => reject(new Error("timeout")), timeoutMs).unref()),
    ]);
    return docker;
  } catch {
    return undefined;
  }
}
