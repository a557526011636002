/**
 * The Python worker loads what a predictor needs and no more (an idle worker's memory is mostly the
 * modules it imported), and the outputs whose encoders are loaded on first use still encode.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { FIXTURES, type PythonWorker, readyWorker } from "./harness.js";

const workers: PythonWorker[] = [];
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.close()));
});

function project(source: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), "kiln-py-lean-"));
  writeFileSync(path.join(dir, "predict.py"), source);
  return dir;
}

async function ready(source: string): Promise<PythonWorker> {
  const w = await readyWorker({ root: project(source) });
  workers.push(w);
  return w;
}

// Which of these heavy modules the worker has imported when predict() runs (the predictor imports none).
const LOADED = `
import sys
from cog import BasePredictor

HEAVY = ("asyncio", "ssl", "argparse", "dataclasses", "queue")


class Predictor(BasePredictor):
    DEF predict(self) -> str:
        return ",".join(m for m in HEAVY if m in sys.modules)
`;

describe("an idle worker's imports", () => {
  test("a sync predictor's worker has not loaded asyncio (nor ssl, argparse, dataclasses, queue)", async () => {
    const w = await ready(LOADED.replace("DEF", "def"));
    expect((await w.predict("p")).terminal).toEqual({ type: "done", id: "p", output: "" });
  });

  test("an async predictor's worker loads asyncio, and only for itself", async () => {
    const w = await ready(LOADED.replace("DEF", "async def"));
    const r = await w.predict("p");
    expect(r.terminal).toMatchObject({ type: "done" });
    const loaded = String((r.terminal as { output: unknown }).output).split(",");
    expect(loaded).toContain("asyncio");
    expect(loaded).not.toContain("argparse");
    expect(loaded).not.toContain("dataclasses");
  });
});

describe("ssl, loaded on first use (cog/server/lazy_ssl.py)", () => {
  test("an idle async worker has not loaded ssl, also when the predictor imports asyncio itself", async () => {
    for (const source of [
      LOADED.replace("DEF", "async def"),
      `import asyncio\n${LOADED.replace("DEF", "async def")}`,
    ]) {
      const w = await ready(source);
      const r = await w.predict("p");
      const loaded = String((r.terminal as { output: unknown }).output).split(",");
      expect(loaded).toContain("asyncio");
      expect(loaded).not.toContain("ssl");
    }
  });

  test("TLS through asyncio still works: a handshake and an echo on loopback, and verification", async () => {
    const tls = path.join(FIXTURES, "tls");
    const w = await ready(`
import asyncio
from cog import BasePredictor

CERT = ${JSON.stringify(path.join(tls, "cert.pem"))}
KEY = ${JSON.stringify(path.join(tls, "key.pem"))}


class Predictor(BasePredictor):
    async def predict(self, kind: str) -> str:
        import ssl  # the predictor's own import: the real module, as asyncio's will be

        server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server_ctx.load_cert_chain(CERT, KEY)

        async def echo(reader, writer):
            writer.write(await reader.readline())
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(echo, "127.0.0.1", 0, ssl=server_ctx)
        port = server.sockets[0].getsockname()[1]
        try:
            if kind == "trusted":
                client_ctx = ssl.create_default_context(cafile=CERT)
                reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=client_ctx, server_hostname="localhost")
                writer.write(b"hello over tls\\n")
                line = await reader.readline()
                version = writer.get_extra_info("ssl_object").version()
                writer.close()
                return f"{line.decode().strip()} ({version.startswith('TLS')})"
            try:
                # ssl=True: asyncio makes the default context itself (the system's CAs do not trust ours).
                await asyncio.open_connection("127.0.0.1", port, ssl=True, server_hostname="localhost")
            except ssl.SSLCertVerificationError:
                return "refused an untrusted certificate"
            return "connected"
        finally:
            server.close()
            await server.wait_closed()
`);
    expect((await w.predict("a", { kind: "trusted" })).terminal).toEqual({
      type: "done",
      id: "a",
      output: "hello over tls (True)",
    });
    expect((await w.predict("b", { kind: "default" })).terminal).toEqual({
      type: "done",
      id: "b",
      output: "refused an untrusted certificate",
    });
  });

  test("asyncio's own ssl=True works when the predictor never imports ssl", async () => {
    const w = await ready(`
import asyncio
import sys
from cog import BasePredictor


class Predictor(BasePredictor):
    async def predict(self) -> str:
        before = "ssl" in sys.modules
        server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            await asyncio.open_connection("127.0.0.1", port, ssl=True, server_hostname="localhost")
            outcome = "connected"
        except Exception as err:  # the plain server hangs up: a TLS error, not "no ssl module"
            outcome = type(err).__name__
        finally:
            server.close()
        return f"{before} {outcome} {'ssl' in sys.modules}"
`);
    const out = String(((await w.predict("p")).terminal as { output: unknown }).output);
    expect(out).toMatch(/^False (SSLError|SSLEOFError|ConnectionResetError|SSLZeroReturnError) True$/);
  });
});

describe("async predictions started in the reader's callback (no event-loop pass first)", () => {
  test("each runs in a context of its own, finishing at once or after real waits", async () => {
    const w = await ready(`
import asyncio
import contextvars
from cog import BasePredictor, current_scope

last = contextvars.ContextVar("last", default="none")


class Predictor(BasePredictor):
    async def predict(self, wait: float) -> str:
        seen = last.get()
        last.set(current_scope().prediction_id)
        if wait:
            await asyncio.sleep(wait)
            await asyncio.sleep(0)
        current_scope().record_metric("seen", seen)
        return f"{seen}->{last.get()}"
`);
    // A value one prediction sets never leaks into the next, whether it finished in its first step or not.
    for (const [id, wait] of [
      ["a", 0],
      ["b", 0.01],
      ["c", 0],
    ] as const) {
      const r = await w.predict(id, { wait });
      expect(r.terminal).toEqual({ type: "done", id, output: `none->${id}` });
      expect(r.metrics).toEqual([{ type: "metric", id, name: "seen", value: "none", mode: "replace" }]);
    }
  });
});

describe("an async prediction's task", () => {
  test("asyncio.current_task() is the prediction's task from its first line (asyncio.timeout works)", async () => {
    const w = await ready(`
import asyncio
from cog import BasePredictor


class Predictor(BasePredictor):
    async def predict(self, wait: float) -> str:
        first = asyncio.current_task()
        timeout = getattr(asyncio, "timeout", None)  # Python 3.11+: needs a current task
        if timeout is not None:
            async with timeout(5):
                await asyncio.sleep(wait)
        else:
            await asyncio.sleep(wait)
        same = first is not None and first is asyncio.current_task()
        return "one task" if same else f"first={first!r} now={asyncio.current_task()!r}"
`);
    for (const [id, wait] of [
      ["a", 0],
      ["b", 0.01],
    ] as const) {
      expect((await w.predict(id, { wait })).terminal).toEqual({ type: "done", id, output: "one task" });
    }
  });
});

describe("frames from the server", () => {
  test("a malformed frame is reported and skipped, sync and async; the next one is served", async () => {
    for (const DEF of ["def", "async def"]) {
      const w = await ready(LOADED.replace("DEF", DEF));
      w.sendRaw('{"type": "predict", "id": "x"\n'); // cut short
      w.sendRaw('{"type": "predict", "id": "y"} {"extra": 1}\n'); // trailing data
      w.sendRaw(Buffer.from([0x7b, 0xff, 0xfe, 0x7d, 0x0a])); // not UTF-8
      w.sendRaw("\n  \n"); // blank lines are no frames at all
      expect((await w.predict("ok")).terminal).toMatchObject({ type: "done", id: "ok" });
      await w.waitStderr(/ignoring a malformed frame/, 3);
      expect(w.stderr.match(/ignoring a malformed frame/g)).toHaveLength(3);
      expect(w.messages.some((m) => "id" in m && (m.id === "x" || m.id === "y"))).toBe(false);
    }
  });
});

describe("outputs whose encoders load on first use", () => {
  test("a dataclass output becomes an object; an open file without a name becomes a file", async () => {
    const w = await ready(`
import dataclasses
import io
from typing import Any
from cog import BasePredictor


@dataclasses.dataclass
class Box:
    label: str
    size: int


class Predictor(BasePredictor):
    def predict(self, kind: str) -> Any:
        if kind == "dataclass":
            return {"box": Box("a", 3)}
        return io.BytesIO(b"bytes from memory")
`);
    expect((await w.predict("d", { kind: "dataclass" })).terminal).toEqual({
      type: "done",
      id: "d",
      output: { box: { label: "a", size: 3 } },
    });
    const file = (await w.predict("f", { kind: "file" })).terminal as { output: { $file: string } };
    expect(file.output.$file).toMatch(/kiln-output-.*\/output$/);
    expect(readFileSync(file.output.$file, "utf8")).toBe("bytes from memory");
  });
});
