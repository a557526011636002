/**
 * `kiln client` end to end on saved schema files: writing, deterministic regeneration, the change
 * report, a breaking change refused with exit code 9 (file kept), --accept-breaking, --check, and
 * never overwriting a file kiln did not write.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runKiln } from "../helpers/cli.js";
import { fixtureDoc } from "./helpers.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "kiln-client-cli-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

type Doc = {
  components: {
    schemas: Record<string, { properties?: Record<string, Record<string, unknown>>; required?: string[] }>;
  };
};

async function writeDoc(name: string, edit: (doc: Doc) => void = () => undefined): Promise<string> {
  const doc = (await fixtureDoc()) as unknown as Doc;
  edit(doc);
  await writeFile(join(dir, name), JSON.stringify(doc));
  return name;
}

const input = (doc: Doc): Record<string, Record<string, unknown>> =>
  doc.components.schemas.Input!.properties!;

describe("kiln client", () => {
  it("writes a TS client, and regenerating the same schema changes nothing (byte for byte)", async () => {
    await writeDoc("model.json");
    const first = await runKiln(
      ["client", "model.json", "--model", "acme/everything", "--pin", "v1", "-o", "client.ts"],
      dir,
    );
    expect(first.stderr).toContain("Wrote client.ts: TypeScript client for acme/everything pinned to v1.");
    expect(first.code).toBe(0);
    const text = await readFile(join(dir, "client.ts"), "utf8");
    expect(text).toContain('export const VERSION: string | null = "v1";');
    expect(text).toContain("kiln client model.json --lang ts --model acme/everything --pin v1 -o client.ts");
    const again = await runKiln(
      ["client", "model.json", "--model", "acme/everything", "--pin", "v1", "-o", "client.ts"],
      dir,
    );
    expect(again.code).toBe(0);
    expect(again.stderr).toContain("already up to date");
    expect(await readFile(join(dir, "client.ts"), "utf8")).toBe(text);
  });

  it("prints the module to stdout without -o, choosing the language from --lang", async () => {
    await writeDoc("model.json");
    const r = await runKiln(["client", "model.json", "--lang", "python"], dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("class Input(_InputRequired, total=False):");
    expect(r.stdout).toContain('MODEL = "local/model"');
  });

  it("reports compatible changes and writes the new client", async () => {
    await writeDoc("v1.json");
    expect((await runKiln(["client", "v1.json", "-o", "c.py"], dir)).code).toBe(0);
    await writeDoc("v2.json", (doc) => {
      input(doc).seed_text = { type: "string", title: "Seed Text", default: "x", "x-order": 20 };
      input(doc).steps!.maximum = 100;
      input(doc).steps!.default = 30;
    });
    const r = await runKiln(["client", "v2.json", "--model", "local/v1", "-o", "c.py"], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('compatible  input `seed_text`: added, optional (default "x")');
    expect(r.stderr).toContain("compatible  input `steps`: maximum <= 50 -> <= 100");
    expect(r.stderr).toContain("note        input `steps`: default 20 -> 30");
    expect(await readFile(join(dir, "c.py"), "utf8")).toContain('"seed_text"');
  });

  it("refuses a breaking change with exit code 9 and keeps the old file; --accept-breaking writes it", async () => {
    await writeDoc("v1.json");
    expect((await runKiln(["client", "v1.json", "-o", "client.ts"], dir)).code).toBe(0);
    const before = await readFile(join(dir, "client.ts"), "utf8");
    await writeDoc("v1.json", (doc) => {
      delete input(doc).words;
      input(doc).steps!.maximum = 20;
      input(doc).width = { type: "integer", title: "Width", "x-order": 21 };
      doc.components.schemas.Input!.required = ["prompt", "width"];
      const scheduler = doc.components.schemas.scheduler as unknown as { enum: string[] };
      scheduler.enum = ["ddim", "euler"];
      const out = doc.components.schemas.Output!.properties!;
      delete out.copies;
    });
    const r = await runKiln(["client", "v1.json", "-o", "client.ts"], dir);
    expect(r.code).toBe(9);
    for (const line of [
      "BREAKING    input `words`: removed",
      "BREAKING    input `width`: added, required",
      "BREAKING    input `steps`: maximum <= 50 -> <= 20",
      'BREAKING    input `scheduler`: choices removed: "pndm"',
      "BREAKING    output field `copies`: removed",
    ]) {
      expect(r.stderr).toContain(line);
    }
    expect(r.stderr).toContain("was not rewritten");
    expect(r.stderr).toContain("--accept-breaking");
    expect(await readFile(join(dir, "client.ts"), "utf8")).toBe(before);
    const check = await runKiln(["client", "v1.json", "-o", "client.ts", "--check"], dir);
    expect(check.code).toBe(9);
    expect(check.stderr).toContain("client.ts is out of date (with breaking changes)");
    const accepted = await runKiln(["client", "v1.json", "-o", "client.ts", "--accept-breaking"], dir);
    expect(accepted.code).toBe(0);
    expect(await readFile(join(dir, "client.ts"), "utf8")).not.toBe(before);
    expect((await runKiln(["client", "v1.json", "-o", "client.ts", "--check"], dir)).code).toBe(0);
  });

  it("never overwrites a file kiln did not generate (unless --force)", async () => {
    await writeDoc("model.json");
    await writeFile(join(dir, "client.ts"), "// my own code\n");
    const r = await runKiln(["client", "model.json", "-o", "client.ts"], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("client.ts exists and was not generated by kiln client");
    expect(await readFile(join(dir, "client.ts"), "utf8")).toBe("// my own code\n");
    expect((await runKiln(["client", "model.json", "-o", "client.ts", "--force"], dir)).code).toBe(0);
  });

  it("explains bad sources and flags", async () => {
    await writeFile(join(dir, "bad.json"), "{");
    const bad = await runKiln(["client", "bad.json", "-o", "x.ts"], dir);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("bad.json is not JSON");
    await writeFile(join(dir, "empty.json"), "{}");
    const empty = await runKiln(["client", "empty.json", "-o", "x.ts"], dir);
    expect(empty.stderr).toContain(
      "does not describe a model: the OpenAPI document has no components.schemas.Input",
    );
    await writeDoc("model.json");
    const lang = await runKiln(["client", "model.json", "-o", "x.txt"], dir);
    expect(lang.code).toBe(2);
    expect(lang.stderr).toContain("pass --lang ts or --lang python");
    const unreachable = await runKiln(["client", "http://127.0.0.1:47999", "-o", "x.ts"], dir);
    expect(unreachable.code).toBe(2);
    expect(unreachable.stderr).toContain(
      "cannot reach http://127.0.0.1:47999/v1/models/local/model: ECONNREFUSED",
    );
  });
});
