/** The engine for running models, or undefined when none answers (predict/serve then run locally). */
import { EngineApi } from "./api.js";

export type Engine = EngineApi;

export async function connectEngine(timeoutMs = 2000): Promise<Engine | undefined> {
  try {
    const engine = new EngineApi();
    await engine.ping(timeoutMs);
    return engine;
  } catch {
    return undefined;
  }
}
