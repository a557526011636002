import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InputError, parseInputArgs, resolveInputs } from "../../src/prediction/inputs.js";
import { schemaView, type SchemaView } from "../../src/schema/view.js";

let dir: string;
let view: SchemaView;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "kiln-inputs-"));
  await writeFile(join(dir, "cat.png"), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 255]));
  await writeFile(join(dir, "inputs.json"), JSON.stringify({ prompt: "from file", steps: 3 }));
  view = schemaView(
    JSON.parse(await readFile(new URL("./fixtures/openapi-inputs.json", import.meta.url), "utf8")),
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function inputs(flags: string[], json?: string, stdin?: string): Promise<Record<string, unknown>> {
  const raw = await parseInputArgs(flags, json, { cwd: dir, readStdin: async () => stdin ?? "" });
  return resolveInputs(raw, view, { cwd: dir });
}

async function problems(flags: string[], json?: string): Promise<string[]> {
  try {
    await inputs(flags, json);
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return (err as InputError).details;
  }
  throw new Error("expected an InputError");
}

describe("coercion by schema", () => {
  it("coerces integers, numbers, booleans and choices", async () => {
    expect(
      await inputs(["prompt=a cat", "steps=30", "guidance=2.5", "upscale=true", "scheduler=euler", "seed=2"]),
    ).toEqual({
      prompt: "a cat",
      steps: 30,
      guidance: 2.5,
      upscale: true,
      scheduler: "euler",
      seed: 2,
    });
  });

  it("keeps everything after the first = as the value", async () => {
    expect(await inputs(["prompt=a=b=c"])).toEqual({ prompt: "a=b=c" });
  });

  it("builds lists by repetition and coerces each item", async () => {
    expect(await inputs(["prompt=x", "words=a", "words=b", "sizes=1", "sizes=2"])).toEqual({
      prompt: "x",
      words: ["a", "b"],
      sizes: [1, 2],
    });
    expect(await inputs(["prompt=x", "words=solo"])).toEqual({ prompt: "x", words: ["solo"] });
    expect(await inputs(["prompt=x", "sizes=[3,4]"])).toEqual({ prompt: "x", sizes: [3, 4] });
  });

  it("parses JSON for object inputs", async () => {
    expect(await inputs(["prompt=x", 'extra={"a":[1,2]}'])).toEqual({ prompt: "x", extra: { a: [1, 2] } });
  });

  it("reads @path files into data URIs with a media type from the extension", async () => {
    const got = await inputs(["prompt=x", "image=@cat.png", "files=@cat.png", "files=@inputs.json"]);
    expect(got["image"]).toBe(
      `data:image/png;base64,${Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 255]).toString("base64")}`,
    );
    expect((got["files"] as string[])[1]).toMatch(/^data:application\/json;base64,/);
  });

  it("passes URLs to file inputs through", async () => {
    expect(await inputs(["prompt=x", "image=https://example.com/a.png"])).toMatchObject({
      image: "https://example.com/a.png",
    });
  });

  it("takes --json inline, from @file and from stdin, with -i overriding", async () => {
    expect(await inputs([], '{"prompt":"j","steps":4}')).toEqual({ prompt: "j", steps: 4 });
    expect(await inputs(["steps=5"], "@inputs.json")).toEqual({ prompt: "from file", steps: 5 });
    expect(await inputs([], "-", '{"input":{"prompt":"stdin"}}')).toEqual({ prompt: "stdin" });
    expect(await inputs([], '{"prompt":"j","image":"@cat.png"}')).toMatchObject({
      image: expect.stringMatching(/^data:image\/png/),
    });
  });
});

describe("input errors name the field, the expectation and what was given", () => {
  it("unknown field, with a suggestion and the list of inputs", async () => {
    const [msg] = await problems(["prompt=x", "stpes=3"]);
    expect(msg).toContain("stpes: unknown input");
    expect(msg).toContain('did you mean "steps"?');
    expect(msg).toContain("prompt, steps, guidance");
  });

  it("missing required field", async () => {
    expect(await problems(["steps=3"])).toEqual(["prompt: required input is missing: expected a string"]);
  });

  it("wrong type", async () => {
    expect(await problems(["prompt=x", "steps=many"])).toEqual([
      'steps: expected an integer from 1 to 50, got "many"',
    ]);
    expect(await problems(["prompt=x", "upscale=maybe"])).toEqual([
      'upscale: expected a boolean (true or false), got "maybe"',
    ]);
    expect(await problems(["prompt=x", "guidance=fast"])).toEqual([
      'guidance: expected a number >= 0, got "fast"',
    ]);
    expect(await problems([], '{"prompt": 3}')).toEqual(["prompt: expected a string, got 3"]);
    expect((await problems(["prompt=x", "extra=[1]"]))[0]).toContain("expected a JSON object");
    expect((await problems(["prompt=x", "image=cat.png"]))[0]).toContain("write -i image=@cat.png");
  });

  it("out of range", async () => {
    expect(await problems(["prompt=x", "steps=100"])).toEqual([
      "steps: 100 is too large: expected an integer from 1 to 50",
    ]);
    expect(await problems(["prompt=x", "sizes=0"])).toEqual([
      "sizes: item 0: 0 is too small: expected an integer >= 1",
    ]);
    expect((await problems(["prompt=x", "tag=abcdef"]))[0]).toContain("too long (6 characters)");
    expect((await problems(["prompt=x", "tag=AB"]))[0]).toContain("matching /^[a-z]+$/");
  });

  it("bad choice lists the allowed choices", async () => {
    expect(await problems(["prompt=x", "scheduler=lms"])).toEqual([
      'scheduler: got "lms", expected one of: "ddim", "euler", "pndm"',
    ]);
    expect(await problems(["prompt=x", "seed=7"])).toEqual(["seed: got 7, expected one of: 1, 2, 3"]);
  });

  it("checks values with src/schema's validator, the server's own (exclusive bounds)", async () => {
    expect(await problems(["prompt=x", "ratio=0"])).toEqual(["ratio: 0 is too small: expected a number > 0"]);
  });

  it("reports syntax, unknown-name and validator problems in one pass", async () => {
    // Before one validator, the exclusive bound only showed once the other two were fixed.
    expect(await problems(["stpes=3", "steps=many", "ratio=0"])).toEqual([
      'stpes: unknown input (did you mean "steps"?); this model\'s inputs are: prompt, steps, guidance, upscale, scheduler, image, words, sizes, extra, token, tag, seed, files, ratio',
      'steps: expected an integer from 1 to 50, got "many"',
      "prompt: required input is missing: expected a string",
      "ratio: 0 is too small: expected a number > 0",
    ]);
  });

  it("refuses inputs over the server's request limit before starting, pointing at URLs", async () => {
    const big = join(dir, "big.bin");
    await writeFile(big, Buffer.alloc(76 * 2 ** 20));
    try {
      const [msg] = await problems(["prompt=x", "image=@big.bin"]);
      expect(msg).toContain("over the server's 100 MiB request limit: pass large files as http(s) URLs");
    } finally {
      await rm(big);
    }
  });

  it("repeating a non-list field", async () => {
    expect((await problems(["prompt=x", "prompt=y"]))[0]).toContain("given 2 times, but it is not a list");
  });

  it("reports every problem at once, with a hint listing the model's inputs", async () => {
    try {
      await inputs(["stpes=3", "scheduler=lms"]);
      throw new Error("unreachable");
    } catch (err) {
      const e = err as InputError;
      expect(e.message).toBe("3 problems with the inputs");
      expect(e.exitCode).toBe(2);
      expect(e.hint).toContain("-i prompt=... a string (required)");
      expect(e.hint).toContain("-i scheduler=... one of:");
    }
  });

  it("syntax problems surface before any schema is known", async () => {
    const run = (flags: string[], json?: string) => parseInputArgs(flags, json, { cwd: dir });
    await expect(run(["novalue"])).rejects.toThrow(InputError);
    await expect(run(["image=@missing.png"])).rejects.toMatchObject({
      details: [expect.stringContaining("file not found: @missing.png")],
    });
    await expect(run([], "{bad")).rejects.toMatchObject({
      details: [expect.stringContaining("--json is not valid JSON")],
    });
    await expect(run([], "[1]")).rejects.toMatchObject({
      details: [expect.stringContaining("must be a JSON object")],
    });
    await expect(run([], "@nope.json")).rejects.toMatchObject({
      details: [expect.stringContaining("cannot read")],
    });
  });
});
