/**
 * Defect 1, end to end: multi-byte text crosses every pipe (server -> worker input frames, worker ->
 * server output frames, user stdout) intact, for both workers, at sizes around the 64 KiB pipe chunk.
 */
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/runtime/server.js";
import { request, startFixture } from "./helpers.js";
import { startPythonServer } from "../helpers/python-server.js";

const PY_FIXTURES = fileURLToPath(new URL("./fixtures/python/", import.meta.url));

// Lengths around one and several pipe reads (64 KiB), in characters of 2- and 3-byte text.
const TEXTS = [
  "é中".repeat(100_000) + "é", // the 200,001 characters
  ...[21_844, 21_845, 21_846, 32_767, 32_768].map((n) => "é中😀".slice(0, 3).repeat(n)),
  "x" + "中".repeat(65_536 / 3),
];

function replacementCount(s: string): number {
  return s.split("\uFFFD").length - 1;
}

describe.each([
  ["node (thread)", () => startFixture("echo")],
  ["node (process)", () => startFixture("echo", { nodeWorkerMode: "process" })],
  ["python", () => startPythonServer(PY_FIXTURES, { name: "Echo" })],
] as const)("%s worker", (_name, start) => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await start();
    await server.ready;
  });
  afterAll(() => server.close());

  it("returns multi-byte text of every size around the pipe chunk unchanged, in output and logs", async () => {
    for (const text of TEXTS) {
      const res = await request(server.url, "/predictions", { body: { input: { text } } });
      expect(res.status).toBe(200);
      expect(res.body.status).toBe("succeeded");
      expect(replacementCount(res.body.output)).toBe(0);
      expect(res.body.output.length).toBe(text.length);
      expect(res.body.output).toBe(text);
      expect(replacementCount(res.body.logs)).toBe(0);
      expect(res.body.logs).toContain(text);
    }
  });
});
