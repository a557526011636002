import { execFile } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { promisify } from "node:util";
import { transform } from "esbuild";
import { afterAll, describe, expect, it } from "vitest";
import { compileTsPredictor } from "../../../src/build/ts-predictor.js";
import { BuildError } from "../../../src/errors.js";
import type { PredictorRef } from "../../../src/manifest/types.js";
import type { LoadedMessage } from "../../../src/runtime/protocol.js";
import { startWorker, type WorkerHandle } from "./harness.js";

const REPO = resolve(import.meta.dirname, "../../..");
const ref = (raw: string): PredictorRef => {
  const [file = "", name = ""] = raw.split(":");
  return { raw, file, name, language: file.endsWith(".ts") ? "typescript" : "javascript" };
};
const cleanup: string[] = [];
const workers: WorkerHandle[] = [];
afterAll(() => {
  for (const w of workers) w.kill();
  for (const dir of cleanup) rmSync(dir, { recursive: true, force: true });
});

function project(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), "kiln-compile-"));
  cleanup.push(root);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, name)), { recursive: true });
    writeFileSync(join(root, name), text);
  }
  return root;
}

describe("compileTsPredictor", () => {
  it("compiles examples/hello-ts and the worker runs all three predictors", async () => {
    const root = mkdtempSync(join(tmpdir(), "kiln-hello-"));
    cleanup.push(root);
    cpSync(join(REPO, "examples/hello-ts"), root, { recursive: true });
    const { outFile } = await compileTsPredictor(root, ref("predict.ts:predictor"));
    expect(outFile).toBe(join(root, ".kiln/predict.mjs"));
    expect(readFileSync(outFile, "utf8")).toContain("//# sourceMappingURL=predict.mjs.map");
    const target = relative(root, outFile);

    const w = await startWorker(["--predictor", `${target}:predictor`, "--root", root]);
    workers.push(w);
    const loaded = (await w.waitFor((m) => m.type === "loaded")) as LoadedMessage;
    expect(Object.keys(loaded.schema.input.properties as object)).toEqual([
      "name",
      "times",
      "style",
      "signature",
    ]);
    w.send({ type: "setup", weights: null });
    await w.waitFor((m) => m.type === "ready");
    const sig = join(root, "sig.txt");
    writeFileSync(sig, "kiln\nignored");
    w.send({
      type: "predict",
      id: "h",
      kind: "predict",
      input: { name: "Ada", times: 2, style: "shout", signature: sig },
      context: {},
    });
    expect(await w.waitFor((m) => m.type === "done")).toEqual({
      type: "done",
      id: "h",
      output: "HELLO, ADA! HELLO, ADA! -- kiln",
    });

    /** One prediction of another predictor of the same module, in a fresh worker. */
    const predictWith = async (name: string, input: Record<string, unknown>) => {
      const worker = await startWorker(["--predictor", `${target}:${name}`, "--root", root]);
      workers.push(worker);
      worker.send({ type: "setup", weights: null });
      await worker.waitFor((m) => m.type === "ready");
      worker.send({ type: "predict", id: name, kind: "predict", input, context: {} });
      return { worker, done: await worker.waitFor((m) => m.type === "done") };
    };
    const stream = await predictWith("stream", { name: "Bob", times: 1, style: "plain", signature: null });
    const chunks = stream.worker.frames
      .filter((m) => m.type === "output")
      .map((m) => (m as { chunk: string }).chunk);
    expect(chunks).toEqual(["Hello,", " Bob!"]);

    const banner = await predictWith("banner", { name: "Cy", times: 1, style: "whisper", signature: null });
    const done = banner.done as { output: { $file: string } };
    expect(readFileSync(done.output.$file, "utf8")).toBe("hello, cy!\n");
    rmSync(done.output.$file);
  }, 60_000);

  it("reports a syntax error with file:line:col", async () => {
    const root = project({
      "predict.ts": 'import { z } from "kiln-ml";\nconst x: number = ;\nexport const p = z;\n',
    });
    const err = await compileTsPredictor(root, ref("predict.ts:p")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BuildError);
    expect((err as BuildError).message).toBe('cannot compile predict.ts: predict.ts:2:19: Unexpected ";"');
  });

  it("refuses the npm name \"kiln\" (someone else's package) and names the SDK's package", async () => {
    const root = project({
      "predict.ts": 'import { z } from "kiln";\nexport const p = z;\n',
    });
    const err = (await compileTsPredictor(root, ref("predict.ts:p")).catch((e: unknown) => e)) as BuildError;
    expect(err.message).toBe(
      'cannot compile predict.ts: predict.ts:1:19: import "kiln-ml", not "kiln" (kiln\'s SDK is the npm package kiln-ml)',
    );
  });

  it("names the file of an error in an imported module", async () => {
    const root = project({
      "predict.ts": 'export { p } from "./lib/model";\n',
      "lib/model.ts": "export const p = {;\n",
    });
    const err = (await compileTsPredictor(root, ref("predict.ts:p")).catch((e: unknown) => e)) as BuildError;
    expect(err.message).toMatch(/^cannot compile predict\.ts: lib\/model\.ts:1:\d+: /);
  });

  it("fails clearly when the predictor file is missing", async () => {
    const root = project({});
    await expect(compileTsPredictor(root, ref("predict.ts:p"))).rejects.toThrow("predict.ts not found in");
  });

  it("keeps packages external and bundles the project's own files", async () => {
    const root = project({
      "predict.mjs":
        'import pad from "left-pad";\nimport { helper } from "./helper.mjs";\nimport { definePredictor, z } from "kiln-ml";\nexport const p = definePredictor({ inputs: {}, output: z.string(), predict: () => helper(pad) });\n',
      "helper.mjs": "export const helper = (x) => String(typeof x);\n",
    });
    const { outFile } = await compileTsPredictor(root, ref("predict.mjs:p"));
    const code = readFileSync(outFile, "utf8");
    expect(code).toMatch(/from "left-pad"/);
    expect(code).toContain("String(typeof x)");
    expect(code).not.toMatch(/from "(kiln|zod)"/);
  });

  it("gives the user's own `zod` import the SDK's zod instance", async () => {
    const root = project({
      "predict.ts":
        'import { z } from "zod";\nimport { definePredictor } from "kiln-ml";\nexport const p = definePredictor({ inputs: z.object({ a: z.string().describe("from zod") }), output: z.string(), predict: ({ a }) => a });\n',
    });
    const { outFile } = await compileTsPredictor(root, ref("predict.ts:p"));
    const w = await startWorker([
      "--predictor",
      `${relative(root, outFile)}:p`,
      "--root",
      root,
      "--schema-only",
    ]);
    expect(await w.exited).toBe(0);
    const loaded = JSON.parse(w.stdout.join("")) as LoadedMessage;
    expect(loaded.schema.input.properties).toEqual({
      a: { type: "string", title: "A", description: "from zod", "x-order": 0 },
    });
  });

  it("keeps import.meta pointing at each source file, not at the bundle", async () => {
    const root = project({
      "predict.ts":
        'import { definePredictor, z } from "kiln-ml";\nimport { readData } from "./lib/data";\nexport const p = definePredictor({ inputs: {}, output: z.string(), predict: () => readData() + import.meta.filename });\n',
      "lib/data.ts":
        'import { readFileSync } from "node:fs";\nexport const readData = () => readFileSync(new URL("./data.txt", import.meta.url), "utf8") + import.meta.dirname;\n',
      "lib/data.txt": "DATA:",
    });
    const { outFile } = await compileTsPredictor(root, ref("predict.ts:p"));
    const w = await startWorker(["--predictor", `${relative(root, outFile)}:p`, "--root", root]);
    workers.push(w);
    w.send({ type: "setup", weights: null });
    await w.waitFor((m) => m.type === "ready");
    w.send({ type: "predict", id: "m", kind: "predict", input: {}, context: {} });
    expect(await w.waitFor((m) => m.type === "done" || m.type === "failed")).toEqual({
      type: "done",
      id: "m",
      output: `DATA:${join(root, "lib")}${join(root, "predict.ts")}`,
    });
  });

  it("load errors name the input at fault and the line, or the missing package", async () => {
    const root = project({
      "predict.ts":
        'import { definePredictor, z } from "kiln-ml";\n\nexport const p = definePredictor({\n  inputs: { when: z.date() },\n  output: z.string(),\n  predict: () => "",\n});\n',
      "deps.mjs": 'import pad from "left-pad";\nexport const p = pad;\n',
    });
    const { outFile } = await compileTsPredictor(root, ref("predict.ts:p"));
    const w = await startWorker([
      "--predictor",
      `${relative(root, outFile)}:p`,
      "--root",
      root,
      "--schema-only",
    ]);
    expect(await w.exited).toBe(1);
    expect(w.stderr.join("")).toBe(
      "predict.ts:3: PredictorSchemaError: input 'when': zod type 'date' is not supported (use string, number, int, boolean, enum, literal, array, object, file(), secret())\n",
    );
    const deps = await compileTsPredictor(root, ref("deps.mjs:p"));
    const d = await startWorker([
      "--predictor",
      `${relative(root, deps.outFile)}:p`,
      "--root",
      root,
      "--schema-only",
    ]);
    expect(await d.exited).toBe(1);
    expect(d.stderr.join("")).toMatch(
      /Cannot find package 'left-pad'.*\(add it to the project's package.json dependencies and run npm install\)/,
    );
  });

  it("works from compiled JavaScript (the dist layout), not only from sources", async () => {
    // Transpile the modules compileTsPredictor needs into a dist-like tree inside the repo, so that
    // esbuild and zod resolve from node_modules exactly as they do for an installed kiln.
    mkdirSync(join(REPO, ".kiln-cache"), { recursive: true });
    const dist = mkdtempSync(join(REPO, ".kiln-cache", "dist-test-"));
    cleanup.push(dist);
    for (const dir of ["build", "sdk", "schema"]) {
      for (const name of readdirSync(join(REPO, "src", dir))) {
        if (!name.endsWith(".ts") || (dir === "build" && name !== "ts-predictor.ts")) continue;
        const { code } = await transform(readFileSync(join(REPO, "src", dir, name), "utf8"), {
          loader: "ts",
          format: "esm",
        });
        mkdirSync(join(dist, dir), { recursive: true });
        writeFileSync(join(dist, dir, name.replace(/\.ts$/, ".js")), code);
      }
    }
    for (const file of ["errors.ts", "version.ts", "runtime/version.ts"]) {
      const { code } = await transform(readFileSync(join(REPO, "src", file), "utf8"), {
        loader: "ts",
        format: "esm",
      });
      mkdirSync(dirname(join(dist, file)), { recursive: true });
      writeFileSync(join(dist, file.replace(/\.ts$/, ".js")), code);
    }
    writeFileSync(join(dist, "package.json"), '{ "type": "module" }\n');
    const root = mkdtempSync(join(tmpdir(), "kiln-hello-dist-"));
    cleanup.push(root);
    cpSync(join(REPO, "examples/hello-ts"), root, { recursive: true });
    const script = `import { compileTsPredictor } from ${JSON.stringify(join(dist, "build/ts-predictor.js"))};
const r = await compileTsPredictor(${JSON.stringify(root)}, ${JSON.stringify(ref("predict.ts:predictor"))});
console.log(r.outFile);`;
    const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", script]);
    expect(stdout.trim()).toBe(join(root, ".kiln/predict.mjs"));
    const w = await startWorker([
      "--predictor",
      ".kiln/predict.mjs:predictor",
      "--root",
      root,
      "--schema-only",
    ]);
    expect(await w.exited).toBe(0);
  }, 60_000);
});
