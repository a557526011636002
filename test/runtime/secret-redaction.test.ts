/**
 * Defect 2: a secret the model writes is redacted on the logical stream, so one that straddles a
 * 64 KiB pipe read never comes back in clear: not in logs, errors, SSE, webhooks or /v1 lists.
 */
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StreamRedactor, makeRedactor, REDACTED } from "../../src/runtime/redact.js";
import type { RunningServer } from "../../src/runtime/server.js";
import { startPythonServer } from "../helpers/python-server.js";
import { request, startFixture, startReceiver } from "./helpers.js";

const SECRET = "sk-live-0123456789abcdefXYZ";
const PIPE_READ = 65_536;
// Pads that put the secret's start from a few bytes before a read boundary to just after it.
const PADS = Array.from({ length: SECRET.length + 4 }, (_, i) => PIPE_READ - SECRET.length - 1 + i);

describe("stream redactor", () => {
  it("catches a secret split at every position across two pieces, and holds back only a possible prefix", () => {
    const redact = makeRedactor([SECRET]);
    const text = `before ${SECRET} after`;
    for (let cut = 0; cut <= text.length; cut++) {
      const r = new StreamRedactor(redact);
      const out = r.push(text.slice(0, cut)) + r.push(text.slice(cut)) + r.flush();
      expect(out).toBe(`before ${REDACTED} after`);
    }
    const r = new StreamRedactor(redact);
    expect(r.push("plain text sk-")).toBe("plain text ");
    expect(r.push("not a secret")).toBe("sk-not a secret");
  });

  it("catches a secret split into one-character pieces", () => {
    const r = new StreamRedactor(makeRedactor([SECRET, "other-secret"]));
    let out = "";
    for (const c of `x${SECRET}y other-secret z`) out += r.push(c);
    out += r.flush();
    expect(out).toBe(`x${REDACTED}y ${REDACTED} z`);
  });
});

const PY_FIXTURES = fileURLToPath(new URL("./fixtures/python/", import.meta.url));

describe.each([
  ["typescript", () => startFixture("leaky")],
  ["python", () => startPythonServer(PY_FIXTURES, { name: "Leaky" }, { webhookRetryDelaysMs: [10, 20] })],
] as const)("%s predictor writing a secret across a pipe read", (_lang, start) => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await start();
    await server.ready;
  });
  afterAll(() => server.close());

  it("redacts it at every offset around the read boundary, on stdout and stderr, in logs and errors", async () => {
    for (const fd of [1, 2]) {
      for (const pad of PADS) {
        const res = await request(server.url, "/predictions", {
          body: { input: { token: SECRET, pad, fd } },
        });
        expect(res.status).toBe(200);
        expect(res.body.status).toBe("failed");
        expect(res.text).not.toContain(SECRET);
        expect(res.body.logs).toContain(`${"p".repeat(pad)}${REDACTED} tail`);
        expect(res.body.error).toContain(`bad token ${REDACTED}`);
      }
    }
  });

  it("redacts it in SSE events, webhooks and /v1 get and list", async () => {
    const receiver = await startReceiver();
    try {
      const pad = PIPE_READ - 10;
      const sse = await fetch(`${server.url}/predictions`, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "text/event-stream" },
        body: JSON.stringify({ input: { token: SECRET, pad } }),
      });
      const sseText = await sse.text();
      expect(sseText).toContain("completed");
      expect(sseText).not.toContain(SECRET);

      const created = await request(server.url, "/v1/predictions", {
        body: { version: "any", input: { token: SECRET, pad }, webhook: `${receiver.url}/hook` },
        headers: { prefer: "wait" },
      });
      expect(created.body.status).toBe("failed");
      const stream = await fetch(created.body.urls.stream);
      const streamText = await stream.text();
      expect(streamText).toContain("event: done");
      await receiver.waitFor(1);
      const [got, list] = await Promise.all([
        request(server.url, `/v1/predictions/${created.body.id}`),
        request(server.url, "/v1/predictions"),
      ]);
      for (const text of [
        created.text,
        streamText,
        got.text,
        list.text,
        ...receiver.received.map((r) => r.body),
      ])
        expect(text).not.toContain(SECRET);
      expect(got.body.logs).toContain(REDACTED);
    } finally {
      await receiver.close();
    }
  });
});
