/**
 * Generated TypeScript clients against `kiln serve --no-docker`: generated from each server's URL,
 * type-checked with tsc (with typed usage), then run: typed outputs with files, defaults, input
 * checks before sending, create + signed webhook + verifyWebhook, stream() for text and file
 * iterators (failure, early stop cancels), and retries on 429/5xx through a fault-injecting proxy.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runKiln } from "../helpers/cli.js";
import { importGeneratedTs, scratchProject, STRICT_TSCONFIG, tsc } from "../client-gen/helpers.js";
import { faultyProxy, modelsCopy, serve, webhookReceiver, type Served } from "./client-helpers.js";

interface OutputFile {
  url: string;
  bytes(): Promise<Uint8Array>;
}
interface Prediction {
  id: string;
  status: string;
  output: unknown;
  urls: { stream: string };
}
interface GenClient {
  run(input: Record<string, unknown>, opts?: { signal?: AbortSignal }): Promise<unknown>;
  create(input: Record<string, unknown>, opts?: Record<string, unknown>): Promise<Prediction>;
  wait(p: Prediction): Promise<Prediction>;
  get(id: string): Promise<Prediction>;
  output(p: Prediction): unknown;
  stream(input: Record<string, unknown>, opts?: { signal?: AbortSignal }): AsyncGenerator<unknown>;
}
interface GenModule {
  Client: new (opts?: Record<string, unknown>) => GenClient;
  InputError: new (...args: unknown[]) => Error;
  PredictionError: new (...args: unknown[]) => Error & { status: string };
  WebhookVerificationError: new (...args: unknown[]) => Error;
  verifyWebhook(req: unknown, secret: string): Promise<Prediction>;
  VERSION: string | null;
}

const NAMES = ["everything", "tokens", "pictures", "single"] as const;
type Name = (typeof NAMES)[number];
const servers = new Map<Name, Served>();
const mods = new Map<Name, GenModule>();
let scratch: { dir: string; cleanup: () => Promise<void> };
let models: { dir: string; cleanup: () => Promise<void> };
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

/** The status a prediction ends with, as the client's own wait() sees it (it rejects unless succeeded). */
async function endStatus(client: GenClient, id: string): Promise<string> {
  const ended = await client
    .wait(await client.get(id))
    .catch((e: { prediction?: Prediction }) => e.prediction);
  return ended?.status ?? "(no prediction)";
}

/** Resolves at the prediction's first SSE `output` event (it is running); rejects if the stream ends first. */
async function firstOutput(p: Prediction): Promise<void> {
  const res = await fetch(p.urls.stream, { headers: { accept: "text/event-stream" } });
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  let seen = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the stream of ${p.id} ended before any output:\n${seen}`);
    seen += text(value);
    if (/^event: output$/m.test(seen)) return void (await reader.cancel());
  }
}
const mod = (n: Name): GenModule => mods.get(n) as GenModule;
const url = (n: Name): string => (servers.get(n) as Served).url;

beforeAll(async () => {
  models = await modelsCopy();
  scratch = await scratchProject("ts-serve");
  for (const name of NAMES) {
    servers.set(name, await serve(models.dir, name === "everything" ? "cog.yaml" : `cog.${name}.yaml`));
    const file = join(scratch.dir, `${name}.ts`);
    const r = await runKiln(["client", url(name), "--model", `acme/${name}`, "-o", file], scratch.dir);
    expect(r.code, r.stderr).toBe(0);
    mods.set(
      name,
      (await importGeneratedTs(scratch.dir, await readFile(file, "utf8"), name)) as unknown as GenModule,
    );
  }
});

afterAll(async () => {
  for (const s of servers.values()) await s.stop();
  await scratch?.cleanup();
  await models?.cleanup();
});

describe("generated TypeScript client against kiln serve", () => {
  it("type-checks (strictest options) together with typed calling code", async () => {
    await writeFile(
      join(scratch.dir, "tsconfig.json"),
      JSON.stringify({ ...STRICT_TSCONFIG, include: ["*.ts"] }),
    );
    await writeFile(
      join(scratch.dir, "usage.ts"),
      [
        'import * as everything from "./everything.js";',
        'import * as tokens from "./tokens.js";',
        'import * as pictures from "./pictures.js";',
        'import * as single from "./single.js";',
        "export async function use(): Promise<string> {",
        '  const out = await new everything.Client().run({ prompt: "hi", scheduler: "ddim" });',
        "  let s = out.text + (await out.report.bytes()).length + out.copies.length;",
        '  for await (const chunk of new tokens.Client().stream({ text: "a b" })) s += chunk;',
        "  for await (const f of new pictures.Client().stream({ count: 1 })) s += f.url;",
        '  const file: single.OutputFile = await new single.Client().run({ text: "x" });',
        "  return s + file.url;",
        "}",
      ].join("\n"),
    );
    const ok = await tsc(scratch.dir, ["--noEmit"]);
    expect(ok.output).toBe("");
    // Misuse does not compile: a wrong type, an unknown choice, stream() on a model that does not stream.
    await writeFile(
      join(scratch.dir, "misuse.ts"),
      [
        'import * as everything from "./everything.js";',
        "const c = new everything.Client();",
        'void c.run({ prompt: "hi", steps: "3" });',
        'void c.run({ prompt: "hi", scheduler: "nope" });',
        "void c.run({ steps: 3 });",
        'void (c as unknown as { stream: unknown }).stream; void (c as everything.Client).stream({ prompt: "x" });',
      ].join("\n"),
    );
    const bad = await tsc(scratch.dir, ["--noEmit"]);
    expect(bad.code).not.toBe(0);
    expect(bad.output).toContain("misuse.ts(3,");
    expect(bad.output).toContain("misuse.ts(4,");
    expect(bad.output).toContain("misuse.ts(5,");
    expect(bad.output).toContain("Property 'stream' does not exist on type 'Client'");
    await writeFile(join(scratch.dir, "misuse.ts"), "export {};\n");
  });

  it("pins the version the server reports", async () => {
    const res = await fetch(`${url("everything")}/v1/models/acme/everything`);
    const body = (await res.json()) as { latest_version: { id: string } };
    expect(mod("everything").VERSION).toBe(body.latest_version.id);
  });

  it("run(): typed output with file outputs as bytes, secrets and file inputs sent, defaults applied", async () => {
    const { Client } = mod("everything");
    const client = new Client({ defaults: { steps: 2 } });
    const out = (await client.run({
      prompt: "hey",
      words: ["one", "two"],
      token: "s3cret",
      image: new Uint8Array([1, 2, 3]),
      files: ["data:text/plain;base64,aGk="],
    })) as {
      text: string;
      steps: number;
      echo: Record<string, unknown>;
      report: OutputFile;
      copies: OutputFile[];
    };
    expect(out.text).toBe("hey hey");
    expect(out.steps).toBe(2);
    expect(out.echo).toMatchObject({ token: "s3cret", image: "<file>", files: 1, scheduler: "euler" });
    expect(text(await out.report.bytes())).toBe("hey x2\n");
    expect(out.report.url.startsWith("data:")).toBe(true);
    expect(await Promise.all(out.copies.map(async (f) => text(await f.bytes())))).toEqual(["one", "two"]);
  });

  it("refuses bad input before anything is sent, with the server's messages", async () => {
    const { Client, InputError } = mod("everything");
    let requests = 0;
    const client = new Client({
      fetch: (input: Parameters<typeof fetch>[0], init?: RequestInit) => {
        requests++;
        return fetch(input, init);
      },
    });
    const err = await client.run({ prompt: "", steps: 99, scheduler: "nope" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toBe(
      [
        "invalid input for acme/everything:",
        "- input.prompt: String should have at least 1 character",
        "- input.steps: Input should be less than or equal to 50",
        "- input.scheduler: Input should be 'ddim', 'euler' or 'pndm'",
      ].join("\n"),
    );
    expect(requests).toBe(0);
  });

  it("create() with a webhook: the server signs it and verifyWebhook accepts only the genuine body", async () => {
    const { Client, verifyWebhook, WebhookVerificationError } = mod("everything");
    const hooks = await webhookReceiver();
    try {
      const client = new Client();
      const secret = (
        (await (await fetch(`${url("everything")}/v1/webhooks/default/secret`)).json()) as { key: string }
      ).key;
      const created = await client.create(
        { prompt: "hook" },
        { webhook: `${hooks.url}/hook`, webhookEventsFilter: ["completed"] },
      );
      const got = await hooks.next((r) => r.body.includes(created.id) && r.body.includes('"succeeded"'));
      const prediction = await verifyWebhook(
        { headers: got.headers as Record<string, string>, body: got.body },
        secret,
      );
      expect(prediction.id).toBe(created.id);
      expect((client.output(prediction) as { text: string }).text).toBe("hook hook hook");
      const forged = await verifyWebhook(
        { headers: got.headers as Record<string, string>, body: got.body.replace("hook hook", "evil hook") },
        secret,
      ).catch((e: unknown) => e);
      expect(forged).toBeInstanceOf(WebhookVerificationError);
      const wrongKey = await verifyWebhook(
        { headers: got.headers as Record<string, string>, body: got.body },
        "whsec_" + Buffer.alloc(32, 7).toString("base64"),
      ).catch((e: unknown) => e);
      expect((wrongKey as Error).message).toBe("no webhook-signature matches the body and the secret");
    } finally {
      await hooks.close();
    }
  });

  it("stream(): text chunks as they come, a failure raises PredictionError", async () => {
    const { Client, PredictionError } = mod("tokens");
    const client = new Client();
    const chunks: unknown[] = [];
    for await (const chunk of client.stream({ text: "the quick brown fox" })) chunks.push(chunk);
    expect(chunks).toEqual(["the", " quick", " brown", " fox"]);
    expect(await client.run({ text: "a b" })).toEqual(["a", " b"]);
    const seen: unknown[] = [];
    const err = await (async () => {
      for await (const chunk of client.stream({ text: "a b c", fail_at: 2 })) seen.push(chunk);
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PredictionError);
    expect((err as Error).message).toContain("failed at word 2");
    expect(seen).toEqual(["a", " b"]);
  });

  it("stream(): leaving the loop early cancels the prediction on the server", async () => {
    const { Client } = mod("tokens");
    const client = new Client();
    let id = "";
    const original = client.create.bind(client);
    client.create = async (input, opts) => {
      const p = await original(input, opts);
      id = p.id;
      return p;
    };
    for await (const chunk of client.stream({ text: "w ".repeat(200).trim(), delay_ms: 50 })) {
      expect(chunk).toBe("w");
      break;
    }
    expect(await endStatus(client, id)).toBe("canceled");
  });

  it("stream() of files and run() of a single file output", async () => {
    const files: string[] = [];
    for await (const f of new (mod("pictures").Client)().stream({ count: 3 }))
      files.push(text(await (f as OutputFile).bytes()));
    expect(files).toEqual(["picture 0", "picture 1", "picture 2"]);
    const single = (await new (mod("single").Client)().run({ text: "solo" })) as OutputFile;
    expect(text(await single.bytes())).toBe("solo");
  });

  it("retries 429 and 503 with backoff; a 500 on create is not retried (it may have started)", async () => {
    const proxy = await faultyProxy(url("single"));
    try {
      const { Client } = mod("single");
      const client = new Client({ baseUrl: `${proxy.url}/v1`, retry: { baseDelayMs: 5 } });
      proxy.plan("POST", "/v1/predictions", [429, 503]);
      proxy.plan("GET", "/v1/predictions/", [502]);
      const out = (await client.run({ text: "again" })) as OutputFile;
      expect(text(await out.bytes())).toBe("again");
      expect(proxy.hits.get("POST /v1/predictions")).toBe(3);
      proxy.plan("POST", "/v1/predictions", [500]);
      const err = await client.run({ text: "x" }).catch((e: unknown) => e);
      expect(String(err)).toContain("500");
      expect(proxy.hits.get("POST /v1/predictions")).toBe(4);
      // Retries are bounded: a model that stays overloaded gets retries + 1 attempts, not more.
      const few = new Client({ baseUrl: `${proxy.url}/v1`, retry: { baseDelayMs: 1, retries: 2 } });
      proxy.plan("POST", "/v1/predictions", [429, 429, 429, 429, 429, 429, 429, 429]);
      const busy = await few.run({ text: "x" }).catch((e: unknown) => e);
      expect(String(busy)).toContain("429");
      expect(proxy.hits.get("POST /v1/predictions")).toBe(7);
    } finally {
      await proxy.close();
    }
  });

  it("run() with an AbortSignal: aborting cancels the prediction on the server", async () => {
    const { Client } = mod("tokens");
    const client = new Client({ pollIntervalMs: 50 });
    let id = "";
    const original = client.create.bind(client);
    let onCreated: (p: Prediction) => void = () => undefined;
    const created = new Promise<Prediction>((resolve) => (onCreated = resolve));
    client.create = async (input, opts) => {
      const p = await original(input, opts);
      id = p.id;
      onCreated(p);
      return p;
    };
    const ac = new AbortController();
    const running = client.run({ text: "w ".repeat(100).trim(), delay_ms: 50 }, { signal: ac.signal });
    await firstOutput(await created);
    ac.abort(new Error("stop it"));
    expect(String(await running.catch((e: unknown) => e))).toContain("stop it");
    expect(await endStatus(client, id)).toBe("canceled");
  });
});
