/**
 * --no-docker: the model's server and worker run directly on this machine (node, or python3 from
 * --python), through the same runtime code the image runs. TypeScript predictors are compiled first.
 */
import { NotAvailableError } from "../errors.js";
import type { ResolvedManifest } from "../manifest/types.js";

export interface LocalModelOptions {
  python: string;
  env: Record<string, string>;
  setupTimeoutMs: number;
  host?: string;
  port?: number;
  uploadUrl?: string | undefined;
}

export interface LocalModel {
  url: string;
  close(): Promise<void>;
}

export async function startLocalModel(_project: ResolvedManifest, _opts: LocalModelOptions): Promise<LocalModel> {
  // Wired to src/runtime's startServer once the server lands on main (issue 3).
  throw new NotAvailableError("kiln predict --no-docker");
}
