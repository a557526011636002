/**
 * The webhook sender over node:http: retries on 429/5xx and network errors for terminal webhooks only,
 * no retry on other 4xx, a per-attempt timeout, credentials from the URL as Basic auth, a bearer token
 * otherwise, bodies in pieces delivered whole with their length, 307/308 followed with the same body,
 * other redirects refused, and never a call of fetch (whose first use stalls the server's loop).
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import { WebhookSender } from "../../src/runtime/webhooks.js";
import type { LogFields, Logger } from "../../src/runtime/logger.js";
import { startReceiver } from "./helpers.js";

interface Logged {
  level: string;
  msg: string;
  fields?: LogFields;
}

function recordingLogger(): Logger & { lines: Logged[] } {
  const lines: Logged[] = [];
  const log =
    (level: string) =>
    (msg: string, fields?: LogFields): void =>
      void lines.push({ level, msg, ...(fields ? { fields } : {}) });
  return { lines, debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") };
}

const failures = (logger: { lines: Logged[] }): string[] =>
  logger.lines.filter((l) => l.msg === "webhook failed").map((l) => String((l.fields?.err as Error).message));

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  while (closers.length > 0) await closers.pop()!();
});

async function receiver(respond: Parameters<typeof startReceiver>[0]) {
  const r = await startReceiver(respond);
  closers.push(r.close);
  return r;
}

describe("WebhookSender", () => {
  it("retries a terminal webhook on 5xx and 429 until it is taken, and never uses fetch", async () => {
    const fetchSpy = vi.spyOn(globalThis, "fetch");
    const hook = await receiver((_, n) => ({ status: n === 1 ? 503 : n === 2 ? 429 : 204 }));
    const logger = recordingLogger();
    const sender = new WebhookSender({ logger, retryDelaysMs: [1, 1, 1] });
    await sender.send(`${hook.url}/done`, { status: "succeeded", output: "é" }, true);
    expect(hook.received).toHaveLength(3);
    for (const r of hook.received) {
      expect(r.path).toBe("/done");
      expect(r.headers["content-type"]).toBe("application/json");
      expect(JSON.parse(r.body)).toEqual({ status: "succeeded", output: "é" });
      expect(r.headers["content-length"]).toBe(String(Buffer.byteLength(r.body)));
    }
    expect(failures(logger)).toEqual([]);
    expect(fetchSpy).not.toHaveBeenCalled();
  });

  it("does not retry a 4xx, nor a progress webhook, and says why it gave up", async () => {
    const hook = await receiver(() => ({ status: 400 }));
    const logger = recordingLogger();
    const sender = new WebhookSender({ logger, retryDelaysMs: [1, 1] });
    await sender.send(hook.url, { a: 1 }, true);
    expect(hook.received).toHaveLength(1);
    const busy = await receiver(() => ({ status: 500 }));
    await sender.send(busy.url, { a: 2 }, false);
    expect(busy.received).toHaveLength(1);
    expect(failures(logger)).toEqual(["receiver answered HTTP 400", "gave up after 1 attempt(s): HTTP 500"]);
  });

  it("retries after a refused connection and after a receiver that does not answer in time", async () => {
    // A port that was just free: the first attempt is refused.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const logger = recordingLogger();
    const refused = new WebhookSender({ logger, retryDelaysMs: [1] });
    await refused.send(`http://127.0.0.1:${port}/x`, {}, true);
    expect(failures(logger)[0]).toMatch(/^gave up after 2 attempt\(s\): connect ECONNREFUSED/);

    let seen = 0;
    const silent: Server = createServer((req) => {
      seen++;
      req.resume(); // never answered
    });
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    closers.push(
      () =>
        new Promise((r) => {
          silent.closeAllConnections();
          silent.close(() => r());
        }),
    );
    const slow = new WebhookSender({ logger, retryDelaysMs: [1], timeoutMs: 100 });
    await slow.send(`http://127.0.0.1:${(silent.address() as AddressInfo).port}/`, {}, true);
    expect(seen).toBe(2);
    expect(failures(logger)[1]).toBe("gave up after 2 attempt(s): no answer within 100 ms");
  });

  it("sends URL credentials as Basic auth on the bare URL, else the bearer token", async () => {
    const hook = await receiver(() => ({ status: 200 }));
    const sender = new WebhookSender({ logger: recordingLogger(), authToken: "tok" });
    const withCreds = hook.url.replace("http://", "http://us%40er:p%3Ass@");
    await sender.send(`${withCreds}/a?q=1`, {}, false);
    await sender.send(`${hook.url}/b`, {}, false);
    expect(hook.received[0]!.path).toBe("/a?q=1");
    expect(hook.received[0]!.headers.authorization).toBe(
      `Basic ${Buffer.from("us@er:p:ss").toString("base64")}`,
    );
    expect(hook.received[1]!.headers.authorization).toBe("Bearer tok");
  });

  it("delivers a body kept in pieces whole, with its length, and the signer's headers", async () => {
    const hook = await receiver(() => ({ status: 200 }));
    const big = "y".repeat(3 * 1024 * 1024);
    const sender = new WebhookSender({
      logger: recordingLogger(),
      headers: (body) => ({ "x-pieces": String(typeof body === "string" ? 0 : body.length) }),
    });
    // An output held as raw bytes (a RawJson) is serialized as pieces: the envelope around its bytes.
    const { RawJson } = await import("../../src/runtime/raw-json.js");
    const output = new RawJson(
      [Buffer.from(`"${big.slice(0, 1000)}`), Buffer.from(`${big.slice(1000)}"`)],
      big.length + 2,
    );
    await sender.send(hook.url, { id: "p1", output }, true);
    const r = hook.received[0]!;
    expect(Number(r.headers["x-pieces"])).toBeGreaterThan(1);
    expect(r.headers["content-length"]).toBe(String(Buffer.byteLength(r.body)));
    expect(JSON.parse(r.body)).toEqual({ id: "p1", output: big });
  });

  it("follows 307 and 308 with the same body (no Authorization to another origin), refuses 302", async () => {
    const target = await receiver(() => ({ status: 200 }));
    const sameOrigin = await receiver((r) =>
      r.path === "/first"
        ? { status: 307, headers: { location: "/second" } }
        : { status: 308, headers: { location: `${target.url}/third` } },
    );
    const sender = new WebhookSender({ logger: recordingLogger(), authToken: "tok" });
    await sender.send(`${sameOrigin.url}/first`, { n: 1 }, false);
    expect(sameOrigin.received.map((r) => [r.path, r.body, r.headers.authorization])).toEqual([
      ["/first", '{"n":1}', "Bearer tok"],
      ["/second", '{"n":1}', "Bearer tok"],
    ]);
    expect(target.received.map((r) => [r.path, r.body, r.headers.authorization])).toEqual([
      ["/third", '{"n":1}', undefined],
    ]);

    const moved = await receiver(() => ({ status: 302, headers: { location: target.url } }));
    const logger = recordingLogger();
    await new WebhookSender({ logger, retryDelaysMs: [1, 1] }).send(moved.url, {}, true);
    expect(moved.received).toHaveLength(1);
    expect(failures(logger)[0]).toMatch(/^receiver answered HTTP 302 \(a redirect that would drop the body/);

    const loop = await receiver(() => ({ status: 307, headers: { location: "/again" } }));
    await new WebhookSender({ logger, retryDelaysMs: [1] }).send(loop.url, {}, true);
    expect(loop.received).toHaveLength(6); // the first request and five hops, not retried
    expect(failures(logger)[1]).toBe("receiver redirected more than 5 times");
  });

  it("close() stops retrying: a receiver that keeps failing does not hold the shutdown", async () => {
    const hook = await receiver(() => ({ status: 500 }));
    const logger = recordingLogger();
    const sender = new WebhookSender({ logger, retryDelaysMs: [60_000, 60_000] });
    const job = sender.send(hook.url, {}, true);
    await hook.waitFor(1);
    await sender.close(10);
    await job;
    expect(hook.received.length).toBeLessThanOrEqual(2);
    expect(logger.lines.some((l) => l.msg.startsWith("shutting down: abandoning webhook"))).toBe(true);
  });
});
