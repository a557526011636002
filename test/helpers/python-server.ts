/** The kiln server (in this process, port 0) with a Python predictor behind the real Python worker. */
import { startServer, type RunningServer, type ServerOptions } from "../../src/runtime/server.js";
import { PYTHON, WORKER_DIR } from "../workers/python/harness.js";

/** Starts it quietly and resolves once setup() has ended; `predictor` defaults to predict.py:Predictor. */
export async function startPythonServer(
  root: string,
  predictor: { file?: string; name?: string } = {},
  extra: Partial<ServerOptions> = {},
): Promise<RunningServer> {
  const server = await startServer({
    root,
    predictor: {
      language: "python",
      file: predictor.file ?? "predict.py",
      name: predictor.name ?? "Predictor",
    },
    host: "127.0.0.1",
    port: 0,
    logLevel: "silent",
    python: PYTHON,
    pythonWorkerDir: WORKER_DIR,
    env: { PYTHONDONTWRITEBYTECODE: "1" },
    ...extra,
  });
  await server.ready;
  return server;
}
