/**
 * Defect 12 (the smaller ones, server side): outputs JSON cannot carry fail the prediction naming the
 * value's path; webhook URLs with `user:pass@` are delivered with Basic auth; invalid UTF-8 in a JSON
 * body is a 400.
 */
import { request as httpRequest } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/runtime/server.js";
import { eventually, request, startFixture, startReceiver } from "./helpers.js";

const servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
async function start(name: string): Promise<RunningServer> {
  const s = await startFixture(name);
  servers.push(s);
  return s;
}

describe("outputs JSON cannot carry", () => {
  it("NaN and a BigInt beyond 2^53 fail the prediction naming the value, instead of becoming null", async () => {
    const s = await start("notJsonNumber");
    const nan = await request(s.url, "/predictions", { body: { input: { kind: "nan" } } });
    expect(nan.body.status).toBe("failed");
    expect(nan.body.error).toMatch(/output is NaN/);
    const big = await request(s.url, "/predictions", { body: { input: { kind: "bigint" } } });
    expect(big.body.status).toBe("failed");
    expect(big.body.error).toMatch(/output is the BigInt 1180591620717411303424/);
    const ok = await request(s.url, "/predictions", { body: { input: { kind: "ok" } } });
    expect(ok.body).toMatchObject({ status: "succeeded", output: 1.5 });
  });

  it("names the path inside objects and iterator chunks", async () => {
    const nested = await start("notJsonNested");
    const r = await request(nested.url, "/predictions", { body: {} });
    expect(r.body.status).toBe("failed");
    expect(r.body.error).toMatch(/output\.values\[2\] is Infinity/);
    const stream = await start("notJsonStream");
    const st = await request(stream.url, "/predictions", { body: {} });
    expect(st.body.status).toBe("failed");
    expect(st.body.error).toMatch(/output\[1\] is NaN/);
    expect(st.body.output).toEqual([1]);
  });
});

describe("webhook URLs with credentials", () => {
  it("are delivered to the bare URL with Basic auth", async () => {
    const hook = await startReceiver();
    try {
      const s = await start("noop");
      const target = new URL(hook.url);
      const url = `http://hook-user:p%40ss@${target.host}/hook`;
      await request(s.url, "/predictions", {
        body: { webhook: url, webhook_events_filter: ["completed"] },
      });
      await eventually(() => expect(hook.received).toHaveLength(1));
      const got = hook.received[0]!;
      expect(got.path).toBe("/hook");
      expect(got.headers.authorization).toBe(`Basic ${Buffer.from("hook-user:p@ss").toString("base64")}`);
    } finally {
      await hook.close();
    }
  });
});

describe("invalid UTF-8 in a JSON body", () => {
  it("is refused with 400 (never silently replaced)", async () => {
    const s = await start("echo");
    const body = Buffer.concat([
      Buffer.from('{"input":{"text":"'),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('"}}'),
    ]);
    const res = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = httpRequest(
        {
          host: "127.0.0.1",
          port: s.port,
          method: "POST",
          path: "/predictions",
          headers: { "content-type": "application/json", "content-length": body.length },
        },
        (r) => {
          let text = "";
          r.on("data", (d: Buffer) => (text += d.toString()));
          r.on("end", () => resolve({ status: r.statusCode ?? 0, text }));
        },
      );
      req.on("error", reject);
      req.end(body);
    });
    expect(res.status).toBe(400);
    expect(res.text).toMatch(/not valid UTF-8/);
    const fine = await request(s.url, "/predictions", { body: { input: { text: "héllo 中" } } });
    expect(fine.body.output).toBe("héllo 中");
  });
});
