/**
 * Generated clients through `kiln gateway`: replicas (`kiln serve --no-docker --queue`) register their
 * model and version in Redis, `kiln client http://GATEWAY --model owner/name` reads the schema and the
 * version from the gateway, and the TS and Python clients run, stream and get signed webhooks there.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { copyFile, mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runKiln } from "../helpers/cli.js";
import { importGeneratedTs, runPython, scratchProject } from "../client-gen/helpers.js";
import { modelsCopy, served, webhookReceiver, type Served } from "./client-helpers.js";

let redis: { url: string; stop: () => Promise<void> } | undefined;
let gateway: Served | undefined;
const replicas: Served[] = [];
let models: { dir: string; cleanup: () => Promise<void> };
let tokensDir: { dir: string; cleanup: () => Promise<void> };
let scratch: { dir: string; cleanup: () => Promise<void> };

async function freePortInRange(): Promise<number> {
  for (let port = 47100 + (process.pid % 400); port < 47900; port++) {
    const free = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once("error", () => resolve(false));
      s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error("no free port in 47100-47899");
}

/** Our own redis-server (Debian's, installed by scripts/test-env.sh); fails, never skips, without it. */
async function startRedis(): Promise<{ url: string; stop: () => Promise<void> }> {
  const port = await freePortInRange();
  const dir = await mkdtemp(join(tmpdir(), "kiln-client-redis-"));
  const child: ChildProcess = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "no"],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
  await new Promise<void>((resolve, reject) => {
    child.once("error", (err) => reject(new Error(`redis-server: ${err.message} (run scripts/test-env.sh)`)));
    child.once("exit", () => reject(new Error(`redis-server exited:\n${out}`)));
    const poll = setInterval(() => {
      if (/Ready to accept connections/.test(out)) {
        clearInterval(poll);
        resolve();
      }
    }, 20);
  });
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: async () => {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

beforeAll(async () => {
  redis = await startRedis();
  models = await modelsCopy();
  tokensDir = await modelsCopy();
  scratch = await scratchProject("gateway");
  // One project directory per model: a served version id hashes the predictor module and ./cog.yaml,
  // so two models of one directory (-f other.yaml) would register the same version on the gateway.
  await copyFile(join(tokensDir.dir, "cog.tokens.yaml"), join(tokensDir.dir, "cog.yaml"));
  for (const [dir, model] of [
    [models.dir, "acme/everything"],
    [tokensDir.dir, "acme/tokens"],
  ] as const) {
    replicas.push(
      await served(["serve", "--no-docker", "-p", "0", "--queue", redis.url, "--model", model], dir),
    );
  }
  gateway = await served(
    ["gateway", "--redis", redis.url, "-p", "0"],
    models.dir,
    /Gateway ready: (http:\/\/127\.0\.0\.1:\d+)/,
  );
});

afterAll(async () => {
  await gateway?.stop();
  for (const r of replicas) await r.stop();
  await redis?.stop();
  await scratch?.cleanup();
  await models?.cleanup();
  await tokensDir?.cleanup();
});

describe("generated clients through kiln gateway", () => {
  it("TS: schema and version from the gateway; run with files, stream, signed webhook", async () => {
    const g = (gateway as Served).url;
    for (const name of ["everything", "tokens"]) {
      const r = await runKiln(["client", g, "--model", `acme/${name}`, "-o", `${name}.ts`], scratch.dir);
      expect(r.code, r.stderr).toBe(0);
    }
    const versions = (await (await fetch(`${g}/v1/models/acme/tokens`)).json()) as {
      latest_version: { id: string };
    };
    const tokensCode = await readFile(join(scratch.dir, "tokens.ts"), "utf8");
    expect(tokensCode).toContain(`export const VERSION: string | null = "${versions.latest_version.id}";`);
    type Mod = {
      Client: new () => {
        run(i: Record<string, unknown>): Promise<unknown>;
        stream(i: Record<string, unknown>): AsyncGenerator<unknown>;
        create(i: Record<string, unknown>, o: Record<string, unknown>): Promise<{ id: string }>;
        output(p: unknown): unknown;
      };
      verifyWebhook(r: unknown, s: string): Promise<{ id: string; status: string }>;
    };
    const everything = (await importGeneratedTs(
      scratch.dir,
      await readFile(join(scratch.dir, "everything.ts"), "utf8"),
      "everything",
    )) as unknown as Mod;
    const tokens = (await importGeneratedTs(scratch.dir, tokensCode, "tokens")) as unknown as Mod;
    const out = (await new everything.Client().run({ prompt: "gw", words: ["w"] })) as {
      text: string;
      report: { bytes(): Promise<Uint8Array> };
      copies: { bytes(): Promise<Uint8Array> }[];
    };
    expect(out.text).toBe("gw gw gw");
    expect(new TextDecoder().decode(await out.report.bytes())).toBe("gw x20\n");
    expect(out.copies).toHaveLength(1);
    const chunks: unknown[] = [];
    for await (const c of new tokens.Client().stream({ text: "through the gateway" })) chunks.push(c);
    expect(chunks).toEqual(["through", " the", " gateway"]);
    const hooks = await webhookReceiver();
    try {
      const secret = ((await (await fetch(`${g}/v1/webhooks/default/secret`)).json()) as { key: string }).key;
      const client = new everything.Client();
      const created = await client.create(
        { prompt: "hook" },
        { webhook: `${hooks.url}/h`, webhookEventsFilter: ["completed"] },
      );
      const got = await hooks.next((r) => r.body.includes(created.id) && r.body.includes('"succeeded"'));
      const p = await everything.verifyWebhook({ headers: got.headers, body: got.body }, secret);
      expect(p.id).toBe(created.id);
      expect((client.output(p) as { text: string }).text).toBe("hook hook hook");
    } finally {
      await hooks.close();
    }
  });

  it("Python: run and stream through the gateway", async () => {
    const g = (gateway as Served).url;
    for (const name of ["everything", "tokens"]) {
      const r = await runKiln(["client", g, "--model", `acme/${name}`, "-o", `${name}_gw.py`], scratch.dir);
      expect(r.code, r.stderr).toBe(0);
    }
    const got = await runPython(
      scratch.dir,
      [
        "import json, everything_gw as e, tokens_gw as t",
        "out = e.Client().run({'prompt': 'py', 'steps': 1})",
        "print(json.dumps([out.text, out.report.read().decode(), list(t.Client().stream({'text': 'a b c'}))]))",
      ].join("\n") + "\n",
    );
    expect(got).toEqual(["py", "py x1\n", ["a", " b", " c"]]);
  });
});
