#!/usr/bin/env node
// Peak memory per request: the bundled server's RSS while it reads one large JSON body (a single big
// string input, refused by validation after parsing, so only the body handling is measured), for a few
// body sizes, against the RSS before each request in the same run. Needs `npm run build`.
// Usage: node bench/request-memory.mjs [--sizes 10,40,80] [--out bench/results/request-memory.md]
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { cpus, loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { rssKb, startBundledModel } from "./lib.mjs";

const REPO = join(dirname(fileURLToPath(import.meta.url)), "..");
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const SIZES = arg("sizes", "10,40,80").split(",").map(Number);
const OUT = arg("out", join(REPO, "bench/results/request-memory.md"));

const { server, root, port } = await startBundledModel(
  REPO,
  "request-memory",
  'import { definePredictor, z } from "kiln-ml";\nexport const predictor = definePredictor({ inputs: { n: z.int() }, output: z.string(), predict: () => "ok" });\n',
  { COG_LOG_LEVEL: "error" },
);

function post(body) {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        method: "POST",
        path: "/predictions",
        headers: { "content-type": "application/json", "content-length": body.length },
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

const rows = [];
try {
  for (let i = 0; i < 100; i++) {
    try {
      if ((await post(Buffer.from('{"input":{"n":1}}'))) === 200) break;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  for (const mib of SIZES) {
    const body = Buffer.from(`{"input":{"n":"${"a".repeat(mib * 1024 * 1024)}"}}`);
    await new Promise((r) => setTimeout(r, 1500)); // let the previous request's garbage go
    const before = rssKb(server.pid);
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rssKb(server.pid))), 5);
    const status = await post(body);
    clearInterval(sampler);
    rows.push({ mib, status, before, peak });
  }
} finally {
  server.kill("SIGTERM");
  await new Promise((r) => server.once("exit", r));
  rmSync(root, { recursive: true, force: true });
}
const lines = [
  "# Peak server memory per request body",
  "",
  `Run: ${new Date().toISOString()} · node ${process.version} · ${cpus().length} CPU(s) · load ${loadavg()
    .map((l) => l.toFixed(1))
    .join(" / ")}`,
  "",
  "One JSON body with a single large string (ASCII), POST /predictions, refused with 422 after parsing;",
  "RSS of the bundled server sampled every 5 ms during the request, against its RSS just before it.",
  "",
  "| body | status | RSS before | RSS peak | peak - before | ÷ body |",
  "|---|---|---|---|---|---|",
  ...rows.map(
    (r) =>
      `| ${r.mib} MiB | ${r.status} | ${(r.before / 1024).toFixed(0)} MiB | ${(r.peak / 1024).toFixed(0)} MiB | ${((r.peak - r.before) / 1024).toFixed(0)} MiB | ${((r.peak - r.before) / 1024 / r.mib).toFixed(1)}x |`,
  ),
  "",
  "Reproduce: `npm run build && node bench/request-memory.mjs` (options: --sizes, --out).",
  "",
];
mkdirSync(dirname(OUT), { recursive: true });
writeFileSync(OUT, lines.join("\n"));
console.log(lines.join("\n"));
