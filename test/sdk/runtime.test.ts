import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { PredictorRuntime, RuntimePredictContext } from "../../src/sdk/contract.js";
import { definePredictor, file, fileOutput, Secret, secret, z } from "../../src/sdk/index.js";

const runtimeOf = (p: object): PredictorRuntime =>
  (p as Record<symbol, PredictorRuntime>)[Symbol.for("kiln.predictor")]!;

function ctx(logs: string[] = []): RuntimePredictContext {
  return {
    id: "p",
    signal: new AbortController().signal,
    context: {},
    log: (t) => logs.push(t),
    recordMetric: () => undefined,
  };
}

describe("predictor runtime", () => {
  it("types input from the zod schema and applies zod defaults for null optionals", async () => {
    const p = definePredictor({
      inputs: { n: z.int().default(2), label: z.string().optional(), tag: z.string().nullable() },
      output: z.string(),
      predict: (input) => {
        const n: number = input.n;
        const label: string | undefined = input.label;
        // @ts-expect-error n is a number, not a string
        const wrong: string = input.n;
        void wrong;
        return `${n}:${label}:${input.tag}`;
      },
    });
    const result = await runtimeOf(p).run({ n: null, label: null, tag: null }, ctx());
    // n: null is not what the server sends for a defaulted input, but zod's default still wins.
    expect(result).toEqual({ kind: "value", value: "2:undefined:null" });
  });

  it("checks return types against the output declaration at compile time", () => {
    definePredictor({
      inputs: { f: file(), s: secret() },
      output: z.object({ text: z.string(), image: file() }),
      predict: ({ f, s }) => {
        const path: string = f;
        const secretValue: Secret = s;
        void secretValue;
        return { text: path, image: fileOutput(path) };
      },
    });
    definePredictor({
      inputs: {},
      output: z.string(),
      // @ts-expect-error a number is not a string output
      predict: () => 42,
    });
    definePredictor({
      inputs: {},
      output: z.array(z.int()),
      // @ts-expect-error strings are not integers
      predict: () => ["a"],
    });
  });

  it("refuses binary outputs with a hint", () => {
    const p = definePredictor({ inputs: {}, output: z.any(), predict: () => Buffer.from("x") });
    expect(() => runtimeOf(p).encodeOutput(Buffer.from("x"))).toThrow(/return fileOutput\(path\)/);
  });

  it("rejects input that only zod can check", async () => {
    const p = definePredictor({
      inputs: { email: z.email() },
      output: z.string(),
      predict: ({ email }) => email,
    });
    await expect(runtimeOf(p).run({ email: "nope" }, ctx())).rejects.toThrow(/^Invalid input: email: /);
  });

  it("wraps secrets and redacts them when printed or serialized", async () => {
    let seen: Secret | undefined;
    const p = definePredictor({
      inputs: { token: secret() },
      output: z.string(),
      predict: ({ token }) => {
        seen = token;
        return token.get();
      },
    });
    await runtimeOf(p).run({ token: "abc" }, ctx());
    expect(seen).toBeInstanceOf(Secret);
    expect(`${seen}`).toBe("**********");
    expect(JSON.stringify({ seen })).toBe('{"seen":"**********"}');
    expect(seen?.getSecretValue()).toBe("abc");
  });

  it("encodes files in outputs: KilnFile anywhere, path strings where the schema says file()", () => {
    const dir = mkdtempSync(join(tmpdir(), "kiln-sdk-"));
    const p = definePredictor({
      inputs: {},
      output: z.object({ a: file(), b: z.array(file()), c: z.string(), d: z.any() }),
      predict: () => ({
        a: join(dir, "a"),
        b: [fileOutput(join(dir, "b"))],
        c: "plain",
        d: fileOutput(join(dir, "d")),
      }),
    });
    const rt = runtimeOf(p);
    expect(
      rt.encodeOutput({ a: join(dir, "a"), b: [join(dir, "b")], c: "plain", d: fileOutput(join(dir, "d")) }),
    ).toEqual({
      a: { $file: join(dir, "a") },
      b: [{ $file: join(dir, "b") }],
      c: "plain",
      d: { $file: join(dir, "d") },
    });
  });

  it("ctx.log formats like console.log and metrics default to replace", async () => {
    const logs: string[] = [];
    const metrics: unknown[] = [];
    const p = definePredictor({
      inputs: {},
      output: z.null(),
      predict: (_i, c) => {
        c.log("n=%d", 3, { a: 1 });
        c.recordMetric("m", 1);
        return null;
      },
    });
    await runtimeOf(p).run({}, { ...ctx(logs), recordMetric: (...a) => metrics.push(a) });
    expect(logs).toEqual(["n=3 { a: 1 }"]);
    expect(metrics).toEqual([["m", 1, "replace"]]);
  });

  it("healthcheck: false or a throw is unhealthy, no healthcheck is healthy", async () => {
    const base = { inputs: {}, output: z.string(), predict: () => "" };
    expect(await runtimeOf(definePredictor(base)).healthcheck()).toBe(true);
    expect(await runtimeOf(definePredictor({ ...base, healthcheck: () => false })).healthcheck()).toBe(false);
    await expect(
      runtimeOf(
        definePredictor({
          ...base,
          healthcheck: () => {
            throw new Error("sick");
          },
        }),
      ).healthcheck(),
    ).rejects.toThrow("sick");
  });
});

describe("a cancel that arrives while the input is parsed", () => {
  it("never starts predict() with an already aborted signal", async () => {
    let called = false;
    const p = definePredictor({
      inputs: { text: z.string() },
      output: z.string(),
      predict: () => {
        called = true;
        return "ran";
      },
    });
    const controller = new AbortController();
    const run = runtimeOf(p).run({ text: "x" }, { ...ctx(), signal: controller.signal });
    controller.abort(new Error("prediction canceled"));
    await expect(run).rejects.toThrow("prediction canceled");
    expect(called).toBe(false);
  });
});
