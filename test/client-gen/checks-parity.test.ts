/**
 * The generated clients refuse exactly what the server refuses, with the same loc/msg/type: every case
 * goes through src/schema's validateInput, the generated TypeScript checkInput and the generated Python
 * check_input, and the three answers must be equal.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generatePython } from "../../src/client-gen/python.js";
import { generateTs } from "../../src/client-gen/ts.js";
import type { JsonSchema } from "../../src/schema/types.js";
import { validateInput } from "../../src/schema/validate.js";
import { fixtureDoc, fixtureModel, importGeneratedTs, runPython, scratchProject } from "./helpers.js";

const OPTS = { kilnVersion: "0.0.0-test", command: "kiln client x" };
const long = (n: number, ch = "x"): string => ch.repeat(n);

const CASES: unknown[] = [
  {},
  { prompt: "hi" },
  { prompt: "" },
  { prompt: long(41) },
  { prompt: long(40, "😀") },
  { prompt: long(41, "😀") },
  { prompt: 5 },
  { prompt: null },
  { prompt: "a", steps: 0 },
  { prompt: "a", steps: 51 },
  { prompt: "a", steps: 2.5 },
  { prompt: "a", steps: "3" },
  { prompt: "a", steps: true },
  { prompt: "a", steps: null },
  { prompt: "a", guidance: 0 },
  { prompt: "a", guidance: 10 },
  { prompt: "a", guidance: 9.99 },
  { prompt: "a", upscale: "yes" },
  { prompt: "a", scheduler: "foo" },
  { prompt: "a", scheduler: "ddim" },
  { prompt: "a", seed: 4 },
  { prompt: "a", seed: "1" },
  { prompt: "a", seed: true },
  { prompt: "a", seed: 2 },
  { prompt: "a", tag: "A" },
  { prompt: "a", tag: "abcde" },
  { prompt: "a", tag: "ab1" },
  { prompt: "a", image: "not a url" },
  { prompt: "a", image: "ftp://example.com/y" },
  { prompt: "a", image: "data:abc" },
  { prompt: "a", image: "data:,x" },
  { prompt: "a", image: "https://example.com/a.png" },
  { prompt: "a", image: null },
  { prompt: "a", image: 3 },
  { prompt: "a", files: ["https://a.example/b", "nope"] },
  { prompt: "a", files: ["https://a/1", "https://a/2", "https://a/3", "https://a/4"] },
  { prompt: "a", files: "https://a/1" },
  { prompt: "a", words: [1, "b"] },
  { prompt: "a", sizes: [0, 2, 1.5] },
  { prompt: "a", extra: [] },
  { prompt: "a", extra: "x" },
  { prompt: "a", extra: { a: 1 } },
  { prompt: "a", anything: [1, { b: null }] },
  { prompt: "a", token: 5 },
  { prompt: "a", token: "s3cret" },
  { prompt: "a", note: null },
  { prompt: "a", note: 3 },
  { prompt: "a", old_flag: 1 },
  { prompt: "a", not_an_input: 1 },
  { prompt: 1, steps: 0, seed: 9, tag: "", files: [1] },
  "not an object",
  [1, 2],
];

function serverIssues(doc: Record<string, unknown>, input: unknown): unknown[] {
  const schemas = (doc.components as { schemas: Record<string, JsonSchema> }).schemas;
  const { Input: input0, Output: output, ...components } = schemas;
  const r = validateInput({ input: input0 as JsonSchema, output: output as JsonSchema, components }, input);
  return r.ok ? [] : r.errors;
}

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await scratchProject("parity")));
afterAll(() => cleanup());

describe("input checks: generated clients agree with the server", () => {
  it("TypeScript checkInput gives the server's issues for every case", async () => {
    const doc = await fixtureDoc();
    const mod = await importGeneratedTs(dir, generateTs(await fixtureModel(), OPTS));
    const checkInput = mod.checkInput as (input: unknown) => unknown[];
    for (const input of CASES) {
      expect({ input, issues: checkInput(input) }).toEqual({ input, issues: serverIssues(doc, input) });
    }
    // The cases are worth something only if most of them are refusals, of many kinds.
    const refused = CASES.map((c) => serverIssues(doc, c)).filter((i) => i.length > 0);
    expect(refused.length).toBeGreaterThan(35);
    const types = new Set(refused.flat().map((i) => (i as { type: string }).type));
    expect(types.size).toBeGreaterThan(15);
  });

  it("Python check_input gives the server's issues for every case", async () => {
    const doc = await fixtureDoc();
    await writeFile(join(dir, "everything_client.py"), generatePython(await fixtureModel(), OPTS));
    await writeFile(join(dir, "cases.json"), JSON.stringify(CASES));
    const got = (await runPython(
      dir,
      "import json, everything_client as c\nprint(json.dumps([c.check_input(i) for i in json.load(open('cases.json'))]))\n",
    )) as unknown[];
    CASES.forEach((input, i) => {
      expect({ input, issues: got[i] }).toEqual({ input, issues: serverIssues(doc, input) });
    });
  });
});
