import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWebhookReceiver, type WebhookReceiver } from "../../src/playground/receiver.js";

let rx: WebhookReceiver;
beforeAll(async () => {
  rx = await startWebhookReceiver({ limits: { perBin: 3, bins: 2, maxBodyBytes: 1000 } });
});
afterAll(() => rx.close());

const post = (bin: string, body: string, headers: Record<string, string> = {}) =>
  fetch(`${rx.url}/hooks/${bin}`, {
    method: "POST",
    body,
    headers: { "content-type": "application/json", ...headers },
  });

/** Reads SSE `delivery` events until `count` arrived. */
async function events(
  bin: string,
  count: number,
  after?: () => Promise<unknown>,
): Promise<{ seq: number; body: string }[]> {
  const res = await fetch(`${rx.url}/hooks/${bin}/events`);
  expect(res.headers.get("content-type")).toBe("text/event-stream");
  expect(res.headers.get("access-control-allow-origin")).toBe("*");
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = "";
  const found: { seq: number; body: string }[] = [];
  void after?.();
  while (found.length < count) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
    let i;
    while ((i = text.indexOf("\n\n")) >= 0) {
      const frame = text.slice(0, i);
      text = text.slice(i + 2);
      const data = /^data: (.*)$/m.exec(frame);
      if (data) found.push(JSON.parse(data[1]!) as { seq: number; body: string });
    }
  }
  await reader.cancel();
  return found;
}

describe("webhook receiver", () => {
  it("records deliveries with their headers and replays then streams them", async () => {
    await post("bin-aaaaaaaa", '{"status":"starting"}', { "webhook-id": "msg_1" });
    const got = await events("bin-aaaaaaaa", 2, () => post("bin-aaaaaaaa", '{"status":"succeeded"}'));
    expect(got.map((d) => d.seq)).toEqual([1, 2]);
    expect(got.map((d) => JSON.parse(d.body).status)).toEqual(["starting", "succeeded"]);
    const list = (await (await fetch(`${rx.url}/hooks/bin-aaaaaaaa`)).json()) as {
      deliveries: { headers: Record<string, string> }[];
    };
    expect(list.deliveries[0]!.headers["webhook-id"]).toBe("msg_1");
  });

  it("keeps memory bounded: deliveries per bin, bins, body size", async () => {
    for (let i = 0; i < 5; i++) await post("bin-bbbbbbbb", `{"n":${i}}`);
    expect(rx.deliveries("bin-bbbbbbbb").map((d) => JSON.parse(d.body).n)).toEqual([2, 3, 4]);
    await post("bin-cccccccc", "{}");
    expect(rx.deliveries("bin-aaaaaaaa")).toEqual([]); // oldest bin forgotten
    const big = await post("bin-cccccccc", "x".repeat(2000));
    expect(big.status).toBe(413);
  });

  it("refuses bad bins and methods", async () => {
    expect((await post("x", "{}")).status).toBe(404);
    expect((await fetch(`${rx.url}/hooks/bin-dddddddd`, { method: "DELETE" })).status).toBe(405);
  });
});
