/**
 * The generated TypeScript compiles under the strictest options a user may have, for every fixture,
 * and its types are real: misuse (a wrong input type, a missing required input, stream() on a model
 * that does not stream) fails the type check.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateTs } from "../../src/client-gen/ts.js";
import { fixtureModel, scratchProject, STRICT_TSCONFIG, tsc } from "./helpers.js";

const OPTS = {
  kilnVersion: "0.0.0-test",
  command: "kiln client acme/everything:latest --lang ts -o client.ts",
};
let dir: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  ({ dir, cleanup } = await scratchProject("tsc"));
  await writeFile(join(dir, "tsconfig.json"), JSON.stringify(STRICT_TSCONFIG));
});
afterAll(() => cleanup());

describe("generated TypeScript", () => {
  it("type-checks with the strictest options and typed usage compiles", async () => {
    await writeFile(join(dir, "client.ts"), generateTs(await fixtureModel(), OPTS));
    await writeFile(
      join(dir, "usage.ts"),
      [
        'import { Client, MODEL_DEFAULTS, verifyWebhook, type Output, type Scheduler } from "./client.js";',
        'const client = new Client({ baseUrl: "http://127.0.0.1:1/v1", defaults: { steps: 3 } });',
        'const scheduler: Scheduler = "ddim";',
        "export async function use(): Promise<void> {",
        '  const out: Output = await client.run({ prompt: "hi", scheduler, seed: 2, files: ["https://x/y.png"], image: new Uint8Array([1]) });',
        "  const text: string = out.text;",
        "  const bytes: Uint8Array = await out.report.bytes();",
        "  const urls: string[] = out.copies.map((f) => f.url);",
        "  const p = await client.create({ prompt: 'x' }, { webhook: 'https://example.com/hook', webhookEventsFilter: ['completed'] });",
        "  const again = await verifyWebhook({ headers: {}, body: '' }, 'whsec_x');",
        "  console.log(text, bytes.length, urls, p.id, again.status, MODEL_DEFAULTS.steps);",
        "}",
      ].join("\n"),
    );
    const r = await tsc(dir, ["--noEmit"]);
    expect(r.output).toBe("");
    expect(r.code).toBe(0);
  });
});

describe("unusual schemas", () => {
  it("quoted names, keywords, unions, nullable anyOf, float choices and a stream of objects compile in both languages", async () => {
    const model = await fixtureModel("odd");
    await writeFile(join(dir, "odd.ts"), generateTs(model, OPTS));
    await writeFile(
      join(dir, "odd-usage.ts"),
      [
        'import { Client, type OutputChunk, type Ratio, type Input2 } from "./odd.js";',
        'const r: Ratio = 1.5; const c: Input2 = "b";',
        "export async function use(): Promise<number> {",
        "  let total = 0;",
        '  for await (const chunk of new Client().stream({ "my-input": "x", class: 1, either: 2, maybe: null, ratio: r, Input: c, flags: [0.5] })) {',
        "    const k: OutputChunk = chunk;",
        "    total += k.score + (k.mask ? (await k.mask.bytes()).length : 0) + (k['label-name']?.length ?? 0);",
        "  }",
        "  return total;",
        "}",
      ].join("\n"),
    );
    const r = await tsc(dir, ["--noEmit"]);
    expect(r.output).toBe("");
    const { generatePython } = await import("../../src/client-gen/python.js");
    const { runPython } = await import("./helpers.js");
    await writeFile(join(dir, "odd_client.py"), generatePython(model, OPTS));
    const got = await runPython(
      dir,
      [
        "import json, typing, odd_client as o",
        "print(json.dumps({'required': sorted(o.Input.__required_keys__), 'optional': sorted(o.Input.__optional_keys__),",
        "  'ratio': str(o.Ratio), 'issues': [i['type'] for i in o.check_input({'my-input': 1, 'ratio': 2, 'flags': [0.5, 3]})],",
        "  'doc': o.__doc__.splitlines()[0]}))",
      ].join("\n"),
    );
    expect(got).toEqual({
      required: ["my-input"],
      optional: ["Input", "class", "either", "flags", "maybe", "ratio"],
      ratio: "typing.Any",
      issues: ["string_type", "enum", "enum"],
      doc: expect.stringContaining("Typed client for the model acme/everything"),
    });
  });
});

describe("deterministic output", () => {
  it("the same schema gives the same bytes, whatever the key order of the document", async () => {
    const { clientModel } = await import("../../src/client-gen/model.js");
    const { generatePython } = await import("../../src/client-gen/python.js");
    const { fixtureDoc, FACTS } = await import("./helpers.js");
    const doc = await fixtureDoc();
    // Reverse the key order of every schema object (but not of `properties`: that order is the model's).
    const shuffle = (v: unknown, key = ""): unknown => {
      if (Array.isArray(v)) return v.map((x) => shuffle(x));
      if (typeof v !== "object" || v === null) return v;
      const entries = Object.entries(v).map(([k, x]) => [k, shuffle(x, k)] as const);
      return Object.fromEntries(key === "properties" ? entries : entries.reverse());
    };
    const a = clientModel(doc, FACTS);
    const b = clientModel(shuffle(doc), FACTS);
    expect(generateTs(b, OPTS)).toBe(generateTs(a, OPTS));
    expect(generatePython(b, OPTS)).toBe(generatePython(a, OPTS));
    expect(generateTs(a, OPTS)).not.toMatch(/20\d\d-\d\d-\d\d/); // no timestamps
  });
});
