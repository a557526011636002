/**
 * Big payloads between server and worker (issue 15): files cross as paths in both directions, never as
 * their contents in the JSON channel; big outputs cross as attachments the server splices into the
 * container API, /v1, SSE and webhook answers unchanged. Checked by counting protocol bytes, both workers.
 */
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { validateWebhook } from "replicate";
import type { RunningServer } from "../../src/runtime/server.js";
import { JsonStringBytes } from "../../src/runtime/raw-json.js";
import { startPythonServer } from "../helpers/python-server.js";
import { NODE_WORKER_MODES, parseSse, request, startFixture, startReceiver } from "./helpers.js";

const PY_FIXTURES = fileURLToPath(new URL("./fixtures/python/", import.meta.url));
const MB = 1024 * 1024;

function dataUri(text: string): string {
  return `data:text/plain;base64,${Buffer.from(text).toString("base64")}`;
}
function decodeDataUri(uri: string): string {
  return Buffer.from(uri.slice(uri.indexOf(",") + 1), "base64").toString("utf8");
}

/** Protocol bytes the request moved, beyond what the counters said before. */
async function measured<T>(server: RunningServer, run: () => Promise<T>) {
  const before = server.worker.frameBytes;
  const result = await run();
  const after = server.worker.frameBytes;
  return {
    result,
    sent: after.sent - before.sent,
    scanned: after.scanned - before.scanned,
    attached: after.attached - before.attached,
  };
}

const python = (name: string) => () => startPythonServer(PY_FIXTURES, { name });

describe("files cross as paths, both directions", () => {
  const servers: RunningServer[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });

  it("node worker: a 3 MB data URI in, a 3 MB file out: a few hundred protocol bytes", async () => {
    const server = await startFixture("files");
    servers.push(server);
    const text = "a".repeat(3 * MB);
    const m = await measured(server, () =>
      request(server.url, "/predictions", { body: { input: { image: dataUri(text) } } }),
    );
    expect(m.result.body.status).toBe("succeeded");
    expect(decodeDataUri(m.result.body.output[0]) === text.toUpperCase()).toBe(true);
    expect(m.sent).toBeLessThan(4096);
    expect(m.scanned).toBeLessThan(4096);
    expect(m.attached).toBe(0);
  });

  it("python worker: a 3 MB data URI in, a file out: a few hundred protocol bytes", async () => {
    const server = await python("Files")();
    servers.push(server);
    await server.ready;
    const text = "b".repeat(3 * MB);
    const m = await measured(server, () =>
      request(server.url, "/predictions", { body: { input: { image: dataUri(text), size: 5 } } }),
    );
    expect(m.result.body.status).toBe("succeeded");
    expect(decodeDataUri(m.result.body.output) === `${text}zzzzz`).toBe(true);
    expect(m.sent).toBeLessThan(4096);
    expect(m.scanned).toBeLessThan(4096);
    expect(m.attached).toBe(0);
  });
});

describe("files cross as paths on every API", () => {
  it("node worker: a 1 MB data URI in and a file out by /v1, SSE and webhooks: a few hundred protocol bytes each", async () => {
    const server = await startFixture("files");
    const receiver = await startReceiver();
    try {
      const text = "c".repeat(MB);
      const input = { image: dataUri(text) };
      const want = text.toUpperCase();
      const check = (m: { sent: number; scanned: number; attached: number }): void => {
        expect(m.sent).toBeLessThan(4096);
        expect(m.scanned).toBeLessThan(4096);
        expect(m.attached).toBe(0);
      };
      const v1 = await measured(server, () =>
        request(server.url, "/v1/models/acme/files/predictions", {
          headers: { prefer: "wait" },
          body: { input },
        }),
      );
      expect(v1.result.body.status).toBe("succeeded");
      expect(decodeDataUri(v1.result.body.output[0]) === want).toBe(true);
      check(v1);

      const sse = await measured(server, async () => {
        const r = await fetch(`${server.url}/predictions`, {
          method: "POST",
          headers: { "content-type": "application/json", accept: "text/event-stream" },
          body: JSON.stringify({ input }),
        });
        return parseSse(await r.text());
      });
      expect(sse.result.at(-1)?.event).toBe("completed");
      expect(decodeDataUri(sse.result.at(-1)?.data.output[0]) === want).toBe(true);
      check(sse);

      const hook = await measured(server, async () => {
        const r = await request(server.url, "/predictions", {
          headers: { prefer: "respond-async" },
          body: { input, webhook: `${receiver.url}/hook`, webhook_events_filter: ["completed"] },
        });
        expect(r.status).toBe(202);
        await receiver.waitFor(1);
        return JSON.parse(receiver.received[0]!.body);
      });
      expect(hook.result.status).toBe("succeeded");
      expect(decodeDataUri(hook.result.output[0]) === want).toBe(true);
      check(hook);
    } finally {
      await receiver.close();
      await server.close();
    }
  });
});

describe("big outputs cross as attachments", () => {
  let py: RunningServer;
  beforeAll(async () => {
    py = await python("Big")();
    await py.ready;
  });
  afterAll(async () => {
    await py.close();
  });

  // A worker thread moves the chunk's bytes (transferred, never scanned); a process attaches them.
  it.each(NODE_WORKER_MODES)(
    "node worker (%s): 400 KB iterator chunks are attached, not scanned, and arrive whole",
    async (mode) => {
      const node = await startFixture("bigStream", { nodeWorkerMode: mode });
      try {
        expect(node.worker.mode).toBe(mode);
        const m = await measured(node, () =>
          request(node.url, "/predictions", { body: { input: { n: 3, kb: 400 } } }),
        );
        expect(m.result.body.status).toBe("succeeded");
        const want = [0, 1, 2].map((i) => `${i}:${"y".repeat(400 * 1024)}`);
        expect((m.result.body.output as string[]).every((c, i) => c === want[i])).toBe(true);
        expect(m.result.body.output).toHaveLength(3);
        expect(m.attached).toBeGreaterThan(3 * 400 * 1024);
        expect(m.scanned).toBeLessThan(4096);
      } finally {
        await node.close();
      }
    },
  );

  it("python worker: a 2 MB string output is attached and arrives whole", async () => {
    const m = await measured(py, () =>
      request(py.url, "/predictions", { body: { input: { size: 2 * MB } } }),
    );
    expect(m.result.body.status).toBe("succeeded");
    expect(m.result.body.output === "q".repeat(2 * MB)).toBe(true);
    expect(m.attached).toBe(2 * MB + 2);
    expect(m.scanned).toBeLessThan(4096);
  });

  it("the same big output reaches SSE, webhooks and /v1 unchanged", async () => {
    const want = "q".repeat(MB);
    const sse = await fetch(`${py.url}/predictions`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream" },
      body: JSON.stringify({ input: { size: MB } }),
    });
    const events = parseSse(await sse.text());
    expect(events.at(-1)?.event).toBe("completed");
    expect(events.at(-1)?.data.output === want).toBe(true);

    const receiver = await startReceiver();
    try {
      const res = await request(py.url, "/predictions", {
        headers: { prefer: "respond-async" },
        body: { input: { size: MB }, webhook: `${receiver.url}/hook`, webhook_events_filter: ["completed"] },
      });
      expect(res.status).toBe(202);
      await receiver.waitFor(1);
      const body = JSON.parse(receiver.received[0]!.body);
      expect(body.status).toBe("succeeded");
      expect(body.output === want).toBe(true);
    } finally {
      await receiver.close();
    }

    // /v1 webhooks are signed: the signature over the streamed pieces is the one over the whole body.
    const signed = await startReceiver();
    try {
      await request(py.url, "/v1/models/acme/big/predictions", {
        body: { input: { size: MB }, webhook: `${signed.url}/v1hook`, webhook_events_filter: ["completed"] },
      });
      await signed.waitFor(1);
      const got = signed.received[0]!;
      expect(JSON.parse(got.body).output === want).toBe(true);
      const req = new Request("http://127.0.0.1/v1hook", {
        method: "POST",
        headers: got.headers as Record<string, string>,
        body: got.body,
      });
      expect(await validateWebhook(req, py.hosted.webhookSecret)).toBe(true);
    } finally {
      await signed.close();
    }

    const v1 = await request(py.url, "/v1/models/acme/big/predictions", {
      headers: { prefer: "wait" },
      body: { input: { size: MB } },
    });
    expect(v1.status).toBe(201);
    expect(v1.body.output === want).toBe(true);
    const stream = await fetch(v1.body.urls.stream);
    const text = await stream.text();
    expect(text).toContain(`event: output\nid: `);
    expect(text.includes(`data: ${want}\n`)).toBe(true);
  });

  it("a 2 MB string input crosses to either worker as an attachment: its bytes sent once, never re-serialized", async () => {
    const [nodeEcho, pyEcho] = await Promise.all([startFixture("quietEcho"), python("QuietEcho")()]);
    try {
      await pyEcho.ready;
      // Escapes and multi-byte text: the bytes the client sent are the bytes the worker gets.
      const text = `${'line "one"\n\tpath\\é中😀 '.repeat(60_000)}end`;
      const body = JSON.stringify({ input: { text } });
      for (const server of [nodeEcho, pyEcho]) {
        const m = await measured(server, () =>
          request(server.url, "/predictions", { raw: body, headers: { "content-type": "application/json" } }),
        );
        expect([m.result.status, m.result.body.status ?? m.result.text.slice(0, 300)]).toEqual([
          200,
          "succeeded",
        ]);
        expect(m.result.body.input.text === text).toBe(true);
        expect(m.result.body.output === text).toBe(true);
        const literal = Buffer.byteLength(JSON.stringify(text));
        // The predict frame: a small line, then the literal exactly as sent (plus its newline).
        expect(m.sent).toBeGreaterThanOrEqual(literal);
        expect(m.sent).toBeLessThan(literal + 1024);
        // The echo comes back as an attachment too: the server scans only small frames.
        expect(m.attached).toBeGreaterThanOrEqual(Buffer.byteLength(text));
        expect(m.scanned).toBeLessThan(16 * 1024);
      }
    } finally {
      await Promise.all([nodeEcho.close(), pyEcho.close()]);
    }
  });

  it("a 3 MB array of numbers crosses to either worker as an attachment: never parsed by the server", async () => {
    const [nodeSum, pySum] = await Promise.all([startFixture("sumNumbers"), python("SumNumbers")()]);
    try {
      await pySum.ready;
      const count = 600_000;
      // Integers among the floats: the Python worker turns them into floats (list[float]).
      const xs = `[${Array.from({ length: count }, (_, i) => (i % 2 ? i % 7 : (i % 7) - 2.5)).join(", ")}]`;
      const flags = `[${"true, false, ".repeat(45_000)}true]`;
      const body = `{"input":{"xs":${xs},"flags":${flags}}}`;
      const sum = JSON.parse(xs).reduce((a: number, b: number) => a + b, 0) as number;
      for (const server of [nodeSum, pySum]) {
        const m = await measured(server, () =>
          request(server.url, "/predictions", { raw: body, headers: { "content-type": "application/json" } }),
        );
        expect([m.result.status, m.result.body.status ?? m.result.text.slice(0, 300)]).toEqual([
          200,
          "succeeded",
        ]);
        expect(m.result.body.output).toEqual({ count, sum, flags: 90_001, floats: true });
        // The input goes back out as the bytes it came in.
        expect(JSON.stringify(m.result.body.input)).toBe(JSON.stringify(JSON.parse(body).input));
        // The predict frame: a small line, then both arrays exactly as sent (each plus its newline).
        const arrays = Buffer.byteLength(xs) + Buffer.byteLength(flags);
        expect(m.sent).toBeGreaterThanOrEqual(arrays);
        expect(m.sent).toBeLessThan(arrays + 1024);
      }
      // A wrong kind of item is a 422 naming the first one, before any worker sees it.
      const bad = `{"input":{"xs":${xs.slice(0, -1)}, true, 1]}}`;
      const r = await request(nodeSum.url, "/predictions", {
        raw: bad,
        headers: { "content-type": "application/json" },
      });
      expect(r.status).toBe(422);
      expect(r.body.detail[0].loc).toEqual(["body", "input", "xs", count]);
    } finally {
      await Promise.all([nodeSum.close(), pySum.close()]);
    }
  });

  it("a cancel written right behind a 20 MB input reaches the predictor after it, in both node worker modes", async () => {
    const text = "c".repeat(20 * MB);
    const literal = Buffer.from(JSON.stringify(text));
    for (const mode of NODE_WORKER_MODES) {
      // A long grace: a cancel that overtook its predict frame would be ignored by the worker, and only
      // the kill at the end of the grace would end the prediction (the test times out first).
      const server = await startFixture("slowText", { nodeWorkerMode: mode, cancelGraceMs: 60_000 });
      try {
        await server.ready;
        // The input as the body scanner keeps it, so the predict frame carries a 20 MB attachment.
        const created = server.runner.create({
          kind: "predict",
          input: { text: new JsonStringBytes([literal], literal.length, text.length, false) },
        });
        if (!created.ok) throw new Error(JSON.stringify(created.errors));
        const p = created.prediction;
        // In the same turn of the event loop: the cancel is written while the input is still crossing.
        server.runner.start(p);
        expect(server.runner.cancel(p.id)).toBe(true);
        await p.finished;
        expect([mode, p.status]).toEqual([mode, "canceled"]);
      } finally {
        await server.close();
      }
    }
  });

  it.each(NODE_WORKER_MODES)(
    "a big input is echoed back as sent (serialized once for the worker and the answer; %s worker)",
    async (mode) => {
      const server = await startFixture("echo", { nodeWorkerMode: mode });
      try {
        const text = "é中".repeat(300_000);
        const res = await request(server.url, "/predictions", { body: { input: { text } } });
        expect(res.body.status).toBe("succeeded");
        // Compared as booleans: a failing diff of 600,000 characters helps nobody.
        expect(res.body.input.text === text).toBe(true);
        expect(res.body.input.times).toBe(1);
        expect(res.body.output === text).toBe(true);
      } finally {
        await server.close();
      }
    },
  );
});
