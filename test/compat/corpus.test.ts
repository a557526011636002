/**
 * The compatibility corpus over HTTP: every case with a predictor runs in the real kiln server (port 0)
 * with the real Python worker, and what a Cog client sees is compared with the case's expect.json.
 */
import { existsSync } from "node:fs";
import { afterAll, describe, expect, test } from "vitest";
import type { RunningServer } from "../../src/runtime/server.js";
import {
  loadCases,
  parseSse,
  PYDANTIC_DIR,
  subsetProblems,
  startCaseServer,
  type Case,
  type Json,
} from "./corpus.js";

const servers: RunningServer[] = [];
afterAll(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(c: Case): Promise<RunningServer> {
  const env: Record<string, string> = { PYTHONDONTWRITEBYTECODE: "1", ...c.expect.env };
  if (c.expect.pythonPath === "pydantic") {
    if (!existsSync(PYDANTIC_DIR)) {
      throw new Error(
        `${c.name} needs python3-pydantic unpacked at ${PYDANTIC_DIR}: run scripts/test-env.sh`,
      );
    }
    env.PYTHONPATH = PYDANTIC_DIR;
  }
  const concurrency = env.COG_MAX_CONCURRENCY ? Number(env.COG_MAX_CONCURRENCY) : undefined;
  const server = await startCaseServer(c.dir, c.predictor!.name, { maxConcurrency: concurrency, env });
  servers.push(server);
  return server;
}

async function call(
  s: RunningServer,
  r: NonNullable<Case["expect"]["requests"]>[number],
): Promise<{
  status: number;
  text: string;
  contentType: string;
}> {
  const method = r.method ?? (r.body === undefined && r.path !== undefined ? "GET" : "POST");
  const res = await fetch(s.url + (r.path ?? "/predictions"), {
    method,
    headers: { ...(r.body !== undefined ? { "content-type": "application/json" } : {}), ...r.headers },
    body: r.body === undefined ? undefined : JSON.stringify(r.body),
  });
  return { status: res.status, text: await res.text(), contentType: res.headers.get("content-type") ?? "" };
}

const cases = loadCases().filter(
  (c) => c.predictor && c.predictor.file.endsWith(".py") && !c.expect.cli && !c.expect.manifest,
);

describe("Cog compatibility corpus (HTTP)", () => {
  test("the corpus is not empty", () => expect(cases.length).toBeGreaterThan(5));

  for (const c of cases) {
    test(`${c.name}: ${c.expect.point}`, async () => {
      const s = await serve(c);
      const health = (await (await fetch(`${s.url}/health-check`)).json()) as Json;
      const wanted = c.expect.setup ?? "READY";
      expect(health.status, JSON.stringify(health.setup)).toBe(wanted);
      if (c.expect.setupError)
        expect(health.setup.logs + String(s.health.setupError)).toContain(c.expect.setupError);
      if (c.expect.health) expect(subsetProblems(health, c.expect.health)).toEqual([]);
      if (c.expect.schema || c.expect.openapi) {
        const doc = (await (await fetch(`${s.url}/openapi.json`)).json()) as Json;
        if (c.expect.schema) expect(subsetProblems(doc.components.schemas, c.expect.schema)).toEqual([]);
        if (c.expect.openapi) expect(subsetProblems(doc, c.expect.openapi)).toEqual([]);
      }
      for (const [i, r] of (c.expect.requests ?? []).entries()) {
        const got = await call(s, r);
        const where = `request ${i} (${JSON.stringify(r.body ?? r.path)}): ${got.text.slice(0, 600)}`;
        expect(got.status, where).toBe(r.status);
        if (r.sse) {
          expect(got.contentType, where).toContain("text/event-stream");
          const events = parseSse(got.text).filter((e) => r.sse!.some((x) => x.event === e.event));
          expect(
            events.map((e) => e.event),
            where,
          ).toEqual(r.sse.map((e) => e.event));
          r.sse.forEach((e, j) => {
            if (e.data !== undefined) expect(subsetProblems(events[j]!.data, e.data), where).toEqual([]);
          });
          continue;
        }
        const body = got.text ? (JSON.parse(got.text) as Json) : null;
        if (r.response !== undefined) expect(subsetProblems(body, r.response), where).toEqual([]);
        if (r.errorContains)
          expect(String(body?.error ?? JSON.stringify(body)), where).toContain(r.errorContains);
      }
    });
  }
});
