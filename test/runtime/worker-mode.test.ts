/**
 * The pure parts of the node worker's thread mode: KILN_NODE_WORKER_MODE, the working-directory rule,
 * heap flags as thread limits, which load errors hand a predictor over to a process, and the thread
 * framing (small frames as JSON text, big outputs as moved bytes kept raw).
 */
import { mkdtempSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, configFromEnv, nodeWorkerModeFromEnv } from "../../src/runtime/config.js";
import { FrameDecoder, detachInputs, encodePredictFrame } from "../../src/runtime/protocol.js";
import {
  JsonStringBytes,
  RAW_ATTACHMENT_MIN_BYTES,
  RawJson,
  stringifyJson,
} from "../../src/runtime/raw-json.js";
import {
  decodeFromThread,
  eachFrame,
  encodeFromThread,
  encodeToThread,
  THREAD_SLICE_BYTES,
  threadFrameBytes,
} from "../../src/runtime/thread-frames.js";
import { nodeWorkerModeFor, threadResourceLimits } from "../../src/runtime/worker-command.js";
import { threadUnsupportedReason } from "../../src/runtime/workers/node/thread-support.js";

describe("KILN_NODE_WORKER_MODE", () => {
  it("is thread by default, thread or process when set, in any case", () => {
    expect(nodeWorkerModeFromEnv({})).toBeUndefined();
    expect(nodeWorkerModeFromEnv({ KILN_NODE_WORKER_MODE: "" })).toBeUndefined();
    expect(nodeWorkerModeFromEnv({ KILN_NODE_WORKER_MODE: "Process" })).toBe("process");
    expect(nodeWorkerModeFromEnv({ KILN_NODE_WORKER_MODE: "thread" })).toBe("thread");
    expect(
      configFromEnv([], { KILN_PREDICTOR: "p.mjs:p", KILN_NODE_WORKER_MODE: "process" }).nodeWorkerMode,
    ).toBe("process");
  });

  it("refuses anything else at start-up, naming both values", () => {
    expect(() => configFromEnv([], { KILN_PREDICTOR: "p.mjs:p", KILN_NODE_WORKER_MODE: "threads" })).toThrow(
      ConfigError,
    );
    expect(() => nodeWorkerModeFromEnv({ KILN_NODE_WORKER_MODE: "fork" })).toThrow(
      /KILN_NODE_WORKER_MODE must be "thread" .* or "process" .*, got "fork"/,
    );
  });
});

describe("nodeWorkerModeFor", () => {
  it("uses a thread only where the working directory is the project root (symlinks resolved)", () => {
    const root = mkdtempSync(join(tmpdir(), "kiln-mode-"));
    const link = `${root}-link`;
    symlinkSync(root, link);
    expect(nodeWorkerModeFor(undefined, { cwd: root, root })).toEqual({ mode: "thread" });
    expect(nodeWorkerModeFor("thread", { cwd: link, root: `${root}/` })).toEqual({ mode: "thread" });
    const other = nodeWorkerModeFor(undefined, { cwd: tmpdir(), root });
    expect(other.mode).toBe("process");
    expect(other.notice).toContain(`not the project root (${root})`);
    expect(nodeWorkerModeFor("process", { cwd: root, root })).toEqual({ mode: "process" });
  });
});

describe("threadResourceLimits", () => {
  it("turns the worker's heap flags into a thread's limits; explicit limits win", () => {
    // The default young generation of a process worker (--max-semi-space-size=1) is three semi-spaces.
    expect(threadResourceLimits([], undefined)).toEqual({ maxYoungGenerationSizeMb: 3 });
    expect(threadResourceLimits(["--max-semi-space-size=4", "--max-old-space-size=512"], undefined)).toEqual({
      maxYoungGenerationSizeMb: 12,
      maxOldGenerationSizeMb: 512,
    });
    expect(threadResourceLimits(["--inspect"], { maxOldGenerationSizeMb: 64 })).toEqual({
      maxYoungGenerationSizeMb: 3,
      maxOldGenerationSizeMb: 64,
    });
  });
});

describe("threadUnsupportedReason", () => {
  const dlopen = (message: string, code = "ERR_DLOPEN_FAILED"): Error =>
    Object.assign(new Error(message), { code });
  it("names a native addon that cannot register twice (directly or as a cause)", () => {
    const err = dlopen("Module did not self-register: '/p/x.node'.");
    expect(threadUnsupportedReason(err)).toBe("Module did not self-register: '/p/x.node'.");
    expect(threadUnsupportedReason(new Error("load failed", { cause: err }))).toMatch(/self-register/);
    expect(
      threadUnsupportedReason(
        dlopen("Loading non-context-aware native addons has been disabled", "ERR_NON_CONTEXT_AWARE_DISABLED"),
      ),
    ).toMatch(/non-context-aware/);
  });
  it("leaves every other load error to be reported as it is", () => {
    expect(threadUnsupportedReason(dlopen("libfoo.so: cannot open shared object file"))).toBeNull();
    expect(threadUnsupportedReason(new Error("Module did not self-register"))).toBeNull();
    expect(threadUnsupportedReason("Module did not self-register")).toBeNull();
  });
});

describe("thread framing", () => {
  it("a small message is its JSON text, with JSON's semantics (undefined fields dropped)", () => {
    const { data, transfer } = encodeFromThread({ type: "done", id: "a", output: { x: 1, y: undefined } });
    expect(transfer).toEqual([]);
    expect(data).toBe('{"type":"done","id":"a","output":{"x":1}}');
    expect(JSON.parse(data as string)).toEqual({ type: "done", id: "a", output: { x: 1 } });
  });

  it("the small frames of one turn cross as one string, split back into each frame", () => {
    const seen: string[] = [];
    eachFrame('{"a":1}\n{"b":2}\n\n{"c":"x"}\n', (f) => void seen.push(f));
    expect(seen).toEqual(['{"a":1}', '{"b":2}', '{"c":"x"}']);
    seen.length = 0;
    eachFrame('{"a":1}', (f) => void seen.push(f));
    eachFrame("", (f) => void seen.push(f));
    expect(seen).toEqual(['{"a":1}']);
    seen.length = 0;
    eachFrame("1\n2\n3\n", (f) => (seen.push(f), f !== "2"));
    expect(seen).toEqual(["1", "2"]);
  });

  it("a big output moves its bytes: the server keeps them raw and splices them unparsed", () => {
    const ascii = "a".repeat(RAW_ATTACHMENT_MIN_BYTES);
    const text = `"é\n${"b".repeat(RAW_ATTACHMENT_MIN_BYTES)}`;
    for (const output of [ascii, text, { list: [text] }]) {
      const { data, transfer } = encodeFromThread({ type: "done", id: "big", output });
      expect(transfer).toHaveLength(1);
      expect(Array.isArray(data)).toBe(true);
      const { message, attached } = decodeFromThread(data as [string, string, Uint8Array]);
      const raw = (message as { output: unknown }).output;
      expect(raw).toBeInstanceOf(RawJson);
      expect(attached).toBe(Buffer.byteLength(JSON.stringify(output)));
      expect((raw as RawJson).value()).toEqual(output);
      const spliced = stringifyJson({ output: raw });
      expect(
        JSON.parse(Buffer.concat((spliced as (string | Buffer)[]).map((p) => Buffer.from(p))).toString()),
      ).toEqual({
        output,
      });
    }
  });

  it("a chunk travels the same way; other messages never attach", () => {
    const big = "c".repeat(RAW_ATTACHMENT_MIN_BYTES * 2);
    expect(Array.isArray(encodeFromThread({ type: "output", id: "s", chunk: big }).data)).toBe(true);
    expect(typeof encodeFromThread({ type: "log", id: "s", source: "stdout", data: big }).data).toBe(
      "string",
    );
  });

  it("server frames: text as it is, pieces with bytes as owned copies the caller keeps its own of", () => {
    expect([...encodeToThread('{"type":"shutdown"}\n')]).toEqual([
      { data: '{"type":"shutdown"}\n', transfer: [] },
    ]);
    expect([...encodeToThread(["a", "b"])]).toEqual([{ data: "ab", transfer: [] }]);
    const input = Buffer.from('{"text":"ü"}');
    const slices = [...encodeToThread(['{"type":"predict","input":', input, "}\n"])];
    expect(slices).toHaveLength(1);
    expect(slices[0]!.transfer).toHaveLength(1);
    expect(JSON.parse(threadFrameBytes(slices[0]!.data as Uint8Array).toString())).toEqual({
      type: "predict",
      input: { text: "ü" },
    });
    expect(input.toString()).toBe('{"text":"ü"}');
  });

  it("a 10 MB input crosses in slices of at most THREAD_SLICE_BYTES that decode as one frame", () => {
    const text = "s".repeat(10 * 1024 * 1024);
    const literal = Buffer.from(JSON.stringify(text));
    const input = { text: new JsonStringBytes([literal], literal.length, text.length, false) };
    const { input: inline, attachments } = detachInputs(input);
    const frame = encodePredictFrame(
      { type: "predict", id: "p", kind: "predict", input, context: {} },
      JSON.stringify(inline),
      attachments,
    ) as (string | Buffer)[];
    const slices = [...encodeToThread(frame)];
    expect(slices.length).toBe(Math.ceil((literal.length + 100) / THREAD_SLICE_BYTES));
    const got: { input: { text: string } }[] = [];
    const decoder = new FrameDecoder<{ input: { text: string } }>(
      (m) => got.push(m),
      (e) => {
        throw e;
      },
    );
    for (const { data, transfer } of slices) {
      const bytes = data as Uint8Array;
      expect(bytes.length).toBeLessThanOrEqual(THREAD_SLICE_BYTES);
      expect(transfer).toEqual([bytes.buffer]);
      decoder.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    }
    expect(got).toHaveLength(1);
    expect(got[0]!.input.text === text).toBe(true);
    expect(decoder.bytesScanned).toBeLessThan(200);
  });
});
