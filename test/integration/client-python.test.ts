/**
 * Generated Python clients (standard library only) against `kiln serve --no-docker`: run() with typed
 * output (a dataclass, files with read()), bytes and paths as file inputs, defaults, input checks
 * before sending, create + webhook + verify_webhook, stream() of text and files (failure raises, early
 * stop cancels), and retries through a fault-injecting proxy.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runKiln } from "../helpers/cli.js";
import { runPython, scratchProject } from "../client-gen/helpers.js";
import { faultyProxy, modelsCopy, serve, type Served } from "./client-helpers.js";
import { kiln } from "./predict-cli.js";

const NAMES = ["everything", "tokens", "pictures", "single"] as const;
type Name = (typeof NAMES)[number];
const servers = new Map<Name, Served>();
let scratch: { dir: string; cleanup: () => Promise<void> };
let models: { dir: string; cleanup: () => Promise<void> };
const url = (n: Name): string => (servers.get(n) as Served).url;

beforeAll(async () => {
  models = await modelsCopy();
  scratch = await scratchProject("py-serve");
  for (const name of NAMES) {
    servers.set(name, await serve(models.dir, name === "everything" ? "cog.yaml" : `cog.${name}.yaml`));
    const r = await runKiln(
      ["client", url(name), "--model", `acme/${name}`, "-o", join(scratch.dir, `${name}_client.py`)],
      scratch.dir,
    );
    expect(r.code, r.stderr).toBe(0);
  }
});

afterAll(async () => {
  for (const s of servers.values()) await s.stop();
  await scratch?.cleanup();
  await models?.cleanup();
});

const py = (lines: string[]): Promise<unknown> =>
  runPython(scratch.dir, ["import json", ...lines].join("\n") + "\n");

describe("generated Python client against kiln serve", () => {
  it("compiles, and the module's types are what the schema says", async () => {
    const got = await py([
      "import typing, everything_client as e, tokens_client as t",
      "print(json.dumps({",
      "  'required': sorted(e.Input.__required_keys__), 'optional': len(e.Input.__optional_keys__),",
      "  'scheduler': list(typing.get_args(e.Scheduler)), 'output': [f.name for f in __import__('dataclasses').fields(e.Output)],",
      "  'chunk': t.OutputChunk.__name__, 'stream': hasattr(e.Client, 'stream'), 'tstream': hasattr(t.Client, 'stream'),",
      "  'version': e.VERSION, 'defaults': e.MODEL_DEFAULTS['steps'] }))",
    ]);
    const version = (
      (await (await fetch(`${url("everything")}/v1/models/acme/everything`)).json()) as {
        latest_version: { id: string };
      }
    ).latest_version.id;
    expect(got).toEqual({
      required: ["prompt"],
      optional: 15,
      scheduler: ["ddim", "euler", "pndm"],
      output: ["text", "steps", "echo", "report", "copies", "maybe"],
      chunk: "str",
      stream: false,
      tstream: true,
      version,
      defaults: 20,
    });
  });

  it("run(): dataclass output with files, bytes and Path inputs, client defaults", async () => {
    await writeFile(join(scratch.dir, "pic.png"), Buffer.from([137, 80, 78, 71]));
    const got = await py([
      "import pathlib, everything_client as e",
      "c = e.Client(defaults={'steps': 2})",
      "out = c.run({'prompt': 'hey', 'words': ['one', 'two'], 'token': 's3cret', 'image': b'\\x01\\x02', 'files': [pathlib.Path('pic.png')]})",
      "print(json.dumps({'type': type(out).__name__, 'text': out.text, 'steps': out.steps, 'echo': out.echo,",
      "  'report': out.report.read().decode(), 'copies': [f.read().decode() for f in out.copies], 'maybe': out.maybe}))",
    ]);
    expect(got).toMatchObject({
      type: "Output",
      text: "hey hey",
      steps: 2,
      report: "hey x2\n",
      copies: ["one", "two"],
      maybe: null,
      echo: { token: "s3cret", image: "<file>", files: 1 },
    });
  });

  it("refuses bad input before sending, with the server's messages", async () => {
    const got = await py([
      "import everything_client as e",
      "c = e.Client(base_url='http://127.0.0.1:47999/v1', retries=0)  # nothing listens: a request would fail differently",
      "try:",
      "    c.run({'prompt': '', 'steps': 99, 'scheduler': 'nope', 'seed': True})",
      "except e.InputError as err:",
      "    print(json.dumps({'message': str(err), 'types': [i['type'] for i in err.issues]}))",
    ]);
    expect(got).toEqual({
      message: [
        "invalid input for acme/everything:",
        "- input.prompt: String should have at least 1 character",
        "- input.steps: Input should be less than or equal to 50",
        "- input.scheduler: Input should be 'ddim', 'euler' or 'pndm'",
        "- input.seed: Input should be 1, 2 or 3",
      ].join("\n"),
      types: ["string_too_short", "less_than_equal", "enum", "enum"],
    });
  });

  it("create() with a webhook; verify_webhook accepts the signed body and rejects a forged one", async () => {
    const got = await py([
      "import threading, urllib.request, http.server, everything_client as e",
      "got = []",
      "done = threading.Event()",
      "class H(http.server.BaseHTTPRequestHandler):",
      "    def do_POST(self):",
      "        body = self.rfile.read(int(self.headers['content-length']))",
      "        got.append((dict(self.headers), body))",
      "        self.send_response(204); self.end_headers()",
      "        if b'succeeded' in body: done.set()",
      "    def log_message(self, *a): pass",
      "srv = http.server.HTTPServer(('127.0.0.1', 0), H)",
      "threading.Thread(target=srv.serve_forever, daemon=True).start()",
      "c = e.Client()",
      `secret = json.load(urllib.request.urlopen(${JSON.stringify(url("everything"))} + '/v1/webhooks/default/secret'))['key']`,
      "p = c.create({'prompt': 'hook'}, webhook='http://127.0.0.1:%d/hook' % srv.server_port, webhook_events_filter=['completed'])",
      "assert done.wait(30), 'no webhook'",
      "headers, body = [g for g in got if b'succeeded' in g[1]][0]",
      "pred = e.verify_webhook(headers, body, secret)",
      "try:",
      "    e.verify_webhook(headers, body.replace(b'hook hook', b'evil hook'), secret); forged = 'accepted'",
      "except e.WebhookVerificationError as err:",
      "    forged = str(err)",
      "try:",
      "    e.verify_webhook(headers, body, secret, now=int(headers['webhook-timestamp']) + 3600); stale = 'accepted'",
      "except e.WebhookVerificationError as err:",
      "    stale = str(err)",
      "print(json.dumps({'same': pred['id'] == p['id'], 'text': c.output(pred).text, 'forged': forged, 'stale': stale}))",
      "srv.shutdown()",
    ]);
    expect(got).toEqual({
      same: true,
      text: "hook hook hook",
      forged: "no webhook-signature matches the body and the secret",
      stale: "webhook-timestamp is 3600 s away from now (tolerance 300 s)",
    });
  });

  it("stream(): text chunks, a failure raises PredictionError, closing early (or a run timeout) cancels", async () => {
    const got = await py([
      "import time, tokens_client as t",
      "c = t.Client()",
      "chunks = list(c.stream({'text': 'the quick brown fox'}))",
      "seen = []",
      "try:",
      "    for ch in c.stream({'text': 'a b c', 'fail_at': 2}): seen.append(ch)",
      "    failed = 'no error'",
      "except t.PredictionError as err:",
      "    failed = str(err)",
      "created = []",
      "orig = c.create",
      "c.create = lambda *a, **k: created.append(orig(*a, **k)) or created[-1]",
      "gen = c.stream({'text': ' '.join(['w'] * 200), 'delay_ms': 50})",
      "first = next(gen)",
      "gen.close()",
      "status = ''",
      "for _ in range(100):",
      "    status = c.get(created[0]['id'])['status']",
      "    if status == 'canceled': break",
      "    time.sleep(0.05)",
      "created.clear()",
      "try:",
      "    c.run({'text': ' '.join(['w'] * 200), 'delay_ms': 50}, timeout=0.5); timed = 'finished'",
      "except TimeoutError as err:",
      "    timed = str(err)",
      "late = ''",
      "for _ in range(100):",
      "    late = c.get(created[0]['id'])['status']",
      "    if late == 'canceled': break",
      "    time.sleep(0.05)",
      "print(json.dumps({'chunks': chunks, 'run': c.run({'text': 'x y'}), 'failed': failed, 'seen': seen, 'first': first, 'status': status, 'timed': timed, 'late': late}))",
    ]);
    expect(got).toEqual({
      chunks: ["the", " quick", " brown", " fox"],
      run: ["x", " y"],
      failed: expect.stringContaining("failed at word 2"),
      seen: ["a", " b"],
      first: "w",
      status: "canceled",
      timed: expect.stringMatching(/^prediction \S+ did not finish in 0.5 s$/),
      late: "canceled",
    });
  });

  it("stream() of files and run() of a single file", async () => {
    const got = await py([
      "import pictures_client as p, single_client as s",
      "files = [f.read().decode() for f in p.Client().stream({'count': 3})]",
      "one = s.Client().run({'text': 'solo'})",
      "print(json.dumps({'files': files, 'single': one.read().decode(), 'kind': type(one).__name__}))",
    ]);
    expect(got).toEqual({
      files: ["picture 0", "picture 1", "picture 2"],
      single: "solo",
      kind: "OutputFile",
    });
  });

  it("retries 429/503 with backoff, not a 500 on create, and gives up after `retries`", async () => {
    const proxy = await faultyProxy(url("single"));
    try {
      proxy.plan("POST", "/v1/predictions", [429, 503]);
      proxy.plan("GET", "/v1/predictions/", [502]);
      const ok = await py([
        "import single_client as s",
        `c = s.Client(base_url=${JSON.stringify(`${proxy.url}/v1`)}, base_delay=0.01)`,
        "print(json.dumps(c.run({'text': 'again'}).read().decode()))",
      ]);
      expect(ok).toBe("again");
      expect(proxy.hits.get("POST /v1/predictions")).toBe(3);
      proxy.plan("POST", "/v1/predictions", [500, 429, 429, 429, 429]);
      const failures = await py([
        "import single_client as s",
        `c = s.Client(base_url=${JSON.stringify(`${proxy.url}/v1`)}, base_delay=0.01, retries=2)`,
        "out = []",
        "for _ in range(2):",
        "    try:",
        "        c.run({'text': 'x'}); out.append('ok')",
        "    except s.ApiError as err:",
        "        out.append(err.status)",
        "print(json.dumps(out))",
      ]);
      expect(failures).toEqual([500, 429]);
      expect(proxy.hits.get("POST /v1/predictions")).toBe(3 + 1 + 3);
    } finally {
      await proxy.close();
    }
  });

  it("generates from the project itself with --no-docker (no image: no version pinned)", async () => {
    const r = await kiln(
      [
        "client",
        "--no-docker",
        "-f",
        "cog.tokens.yaml",
        "--model",
        "acme/tokens",
        "-o",
        join(scratch.dir, "proj_client.py"),
      ],
      { cwd: models.dir },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("--no-docker: no image, so no version pinned");
    const got = await py([
      "import proj_client as p",
      `c = p.Client(base_url=${JSON.stringify(`${url("tokens")}/v1`)})`,
      "print(json.dumps([p.VERSION, list(c.stream({'text': 'a b'}))]))",
    ]);
    expect(got).toEqual([null, ["a", " b"]]);
  });
});
