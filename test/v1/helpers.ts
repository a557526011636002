import { cpSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import Replicate from "replicate";
import { startServer, type RunningServer, type ServerOptions } from "../../src/runtime/server.js";
import { compileTsPredictor } from "../../src/build/ts-predictor.js";
import { workerBundle } from "../workers/node/harness.js";

const FIXTURE = fileURLToPath(new URL("./fixtures/predict.ts", import.meta.url));

let compiled: Promise<{ root: string; file: string }> | null = null;

/** Compiles fixtures/predict.ts with the SDK into a temp project once per test file. */
export function compiledFixture(): Promise<{ root: string; file: string }> {
  compiled ??= (async () => {
    const root = mkdtempSync(join(tmpdir(), "kiln-v1-project-"));
    cpSync(FIXTURE, join(root, "predict.ts"));
    const { outFile } = await compileTsPredictor(root, {
      raw: "predict.ts:noop",
      file: "predict.ts",
      name: "noop",
      language: "typescript",
    });
    return { root, file: relative(root, outFile) };
  })();
  return compiled;
}

export interface V1Server {
  server: RunningServer;
  base: string;
  replicate: Replicate;
  version: string;
  close(): Promise<void>;
}

/** A kiln server on 127.0.0.1:0 running one fixture predictor (real node worker), plus a replicate client. */
export async function startV1(
  name: string,
  extra: Partial<ServerOptions> = {},
  auth = "any-token",
  waitReady = true,
): Promise<V1Server> {
  const { root, file } = await compiledFixture();
  const server = await startServer({
    root,
    predictor: { language: "node", file, name },
    host: "127.0.0.1",
    port: 0,
    logLevel: "silent",
    nodeWorkerEntry: await workerBundle(),
    webhookRetryDelaysMs: [10, 20, 40, 80, 100],
    throttleMs: 0,
    ...extra,
  });
  if (waitReady) await server.ready;
  const replicate = new Replicate({ auth, baseUrl: `${server.url}/v1` });
  return { server, base: server.url, replicate, version: server.hosted.version, close: () => server.close() };
}
