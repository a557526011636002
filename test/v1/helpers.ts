import { fileURLToPath } from "node:url";
import Replicate from "replicate";
import { startServer, type RunningServer, type ServerOptions } from "../../src/runtime/server.js";
import { TEST_WORKER } from "../runtime/helpers.js";

export const V1_FIXTURES = fileURLToPath(new URL("./fixtures/", import.meta.url));

export interface V1Server {
  server: RunningServer;
  base: string;
  replicate: Replicate;
  version: string;
  close(): Promise<void>;
}

/** A kiln server on 127.0.0.1:0 running one fixture predictor, plus a real replicate client for it. */
export async function startV1(name: string, extra: Partial<ServerOptions> = {}, auth = "any-token"): Promise<V1Server> {
  const server = await startServer({
    root: V1_FIXTURES,
    predictor: { language: "node", file: "predictors.mjs", name },
    host: "127.0.0.1",
    port: 0,
    logLevel: "silent",
    nodeWorkerEntry: TEST_WORKER,
    webhookRetryDelaysMs: [10, 20, 40, 80, 100],
    throttleMs: 0,
    ...extra,
  });
  await server.ready;
  const replicate = new Replicate({ auth, baseUrl: `${server.url}/v1` });
  return { server, base: server.url, replicate, version: server.hosted.version, close: () => server.close() };
}
