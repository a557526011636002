import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/runtime/logger.js";
import { workerCommand } from "../../src/runtime/worker-command.js";
import { WorkerSupervisor } from "../../src/runtime/worker-supervisor.js";
import type { ServerOptions } from "../../src/runtime/server.js";
import { eventually } from "./helpers.js";

const quiet = createLogger({ level: "error", write: () => undefined });

describe("a worker started before its listeners (start({ hold: true }))", () => {
  it("keeps everything it said, in order, until release()", async () => {
    // Writes a frame on fd 4 and a line on stdout, then exits: all before anyone listens.
    const script =
      'require("fs").writeSync(4, JSON.stringify({type:"log",level:"info",message:"m"})+"\\n");' +
      'process.stdout.write("hello\\n"); process.exit(3);';
    const worker = new WorkerSupervisor(
      { command: process.execPath, args: ["-e", script], cwd: process.cwd(), env: process.env },
      quiet,
    );
    worker.start({ hold: true });
    await eventually(() => expect(worker.alive).toBe(false), 10_000);
    const seen: string[] = [];
    worker.on("message", (m) => seen.push(`message:${m.type}`));
    worker.on("userOutput", (source, text) => seen.push(`${source}:${text.trim()}`));
    worker.on("exit", (e) => seen.push(`exit:${e.code}`));
    expect(seen).toEqual([]);
    worker.release();
    expect(seen).toContain("message:log");
    expect(seen).toContain("stdout:hello");
    expect(seen.at(-1)).toBe("exit:3");
    // After release, events flow directly (a restart is heard at once).
    const again = new Promise((r) => worker.once("exit", r));
    worker.start();
    await again;
    expect(seen.filter((s) => s === "exit:3")).toHaveLength(2);
  });
});

describe("workerCommand", () => {
  const base: ServerOptions = {
    root: "/src",
    host: "127.0.0.1",
    port: 0,
    predictor: { language: "node", file: "p.mjs", name: "predictor" },
    nodeWorkerEntry: process.execPath, // any existing file stands in for the worker entry
  };

  it("gives a node worker a 1 MB young generation, before its entry", () => {
    const { args } = workerCommand(base);
    expect(args.indexOf("--max-semi-space-size=1")).toBeGreaterThanOrEqual(0);
    expect(args.indexOf("--max-semi-space-size=1")).toBeLessThan(args.indexOf(process.execPath));
  });

  it("leaves a Python worker's command line alone", () => {
    const { args } = workerCommand({
      ...base,
      predictor: { language: "python", file: "predict.py", name: "Predictor" },
      pythonWorkerDir: process.cwd(),
    });
    expect(args.some((a) => a.startsWith("--max-semi-space-size"))).toBe(false);
    expect(args[0]).toBe("-u");
  });
});
