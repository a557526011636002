/** Loads the compatibility corpus: one directory per case under test/compat/cases, each with expect.json. */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startServer, type RunningServer, type ServerOptions } from "../../src/runtime/server.js";

export const CASES_DIR = fileURLToPath(new URL("./cases/", import.meta.url));
export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const WORKER_DIR = join(REPO_ROOT, "src/runtime/workers/python");

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export interface SseExpectation {
  event: string;
  data?: Json;
}

export interface RequestCase {
  method?: "POST" | "PUT" | "GET";
  path?: string;
  body?: Json;
  headers?: Record<string, string>;
  status: number;
  response?: Json;
  errorContains?: string;
  sse?: SseExpectation[];
}

export interface CliCase {
  args: string[];
  stdin?: string;
  code: number;
  stdout?: string;
  stdoutJson?: Json;
  stderrContains?: string[];
  /** Files the run must leave in the project: name -> exact text, or {json: subset}. */
  files?: Record<string, string | { json: Json }>;
}

export interface CaseExpect {
  point: string;
  setup?: "READY" | "SETUP_FAILED";
  setupError?: string;
  schema?: Record<string, Json>;
  openapi?: Json;
  health?: Json;
  requests?: RequestCase[];
  cli?: CliCase[];
  manifest?: { errors?: string[]; warnings?: string[]; noErrors?: boolean };
  env?: Record<string, string>;
  pythonPath?: "pydantic";
  predictor?: string;
}

export interface Case {
  name: string;
  dir: string;
  expect: CaseExpect;
  /** cog.yaml `predict:` split into file and name (when the case has one). */
  predictor: { file: string; name: string } | null;
}

function predictorOf(dir: string, override?: string): { file: string; name: string } | null {
  let ref = override;
  if (!ref && existsSync(join(dir, "cog.yaml"))) {
    const m = /^(?:predict|run):\s*["']?([^"'\n]+)["']?\s*$/m.exec(
      readFileSync(join(dir, "cog.yaml"), "utf8"),
    );
    ref = m?.[1];
  }
  if (!ref) return null;
  const i = ref.lastIndexOf(":");
  return { file: ref.slice(0, i), name: ref.slice(i + 1) };
}

/** cog.yaml `train:` split into file and name, when the case has a trainer. */
function trainerOf(dir: string): { file: string; name: string } | null {
  if (!existsSync(join(dir, "cog.yaml"))) return null;
  const m = /^train:\s*["']?([^"'\n]+)["']?\s*$/m.exec(readFileSync(join(dir, "cog.yaml"), "utf8"));
  if (!m?.[1]) return null;
  const i = m[1].lastIndexOf(":");
  return { file: m[1].slice(0, i), name: m[1].slice(i + 1) };
}

export function loadCases(): Case[] {
  return readdirSync(CASES_DIR, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => {
      const dir = join(CASES_DIR, e.name);
      const expect = JSON.parse(readFileSync(join(dir, "expect.json"), "utf8")) as CaseExpect;
      return { name: e.name, dir, expect, predictor: predictorOf(dir, expect.predictor) };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Where scripts/test-env.sh unpacks Debian's python3-pydantic (never installed system-wide). */
export const PYDANTIC_DIR =
  process.env.KILN_TEST_PYDANTIC_DIR ?? "/var/cache/kiln-test/pydantic/usr/lib/python3/dist-packages";

/** `expected` is a subset of `actual` (objects: listed keys; arrays: same length, element-wise subset). */
export function subsetProblems(actual: Json, expected: Json, path = "$"): string[] {
  if (expected === null || typeof expected !== "object") {
    return Object.is(actual, expected)
      ? []
      : [`${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`];
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) {
      return [`${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`];
    }
    return expected.flatMap((e, i) => subsetProblems(actual[i], e, `${path}[${i}]`));
  }
  if (actual === null || typeof actual !== "object" || Array.isArray(actual)) {
    return [`${path}: expected an object like ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`];
  }
  return Object.keys(expected).flatMap((k) =>
    expected[k] === "$absent"
      ? k in actual
        ? [`${path}.${k}: expected no such key, got ${JSON.stringify(actual[k])}`]
        : []
      : subsetProblems(actual[k], expected[k], `${path}.${k}`),
  );
}

export function parseSse(text: string): { event: string; data: Json }[] {
  return text
    .split("\n\n")
    .filter((block) => block.includes("event:"))
    .map((block) => {
      const lines = block.split("\n");
      const event = lines
        .find((l) => l.startsWith("event:"))!
        .slice(6)
        .trim();
      const data = lines
        .filter((l) => l.startsWith("data:"))
        .map((l) => l.slice(5).trim())
        .join("\n");
      return { event, data: data ? JSON.parse(data) : null };
    });
}

/** The real kiln server (port 0) running one Python class of a corpus case, with the real worker. */
export async function startCaseServer(
  dir: string,
  name: string,
  extra: Partial<ServerOptions> = {},
): Promise<RunningServer> {
  const train = trainerOf(dir);
  const server = await startServer({
    root: dir,
    predictor: { language: "python", file: "predict.py", name },
    ...(train ? { train: { language: "python", ...train } } : {}),
    host: "127.0.0.1",
    port: 0,
    logLevel: "silent",
    python: process.env.KILN_TEST_PYTHON ?? "python3",
    pythonWorkerDir: WORKER_DIR,
    ...extra,
    env: { PYTHONDONTWRITEBYTECODE: "1", ...extra.env },
  });
  await server.ready;
  return server;
}
