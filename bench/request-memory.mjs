#!/usr/bin/env node
// Peak memory per request: the bundled server's RSS while it reads one large JSON body (a single big
// string input, refused by validation after parsing, so only the body handling is measured), for a few
// body sizes, against the RSS before each request in the same run. Needs `npm run build`.
// Usage: node bench/request-memory.mjs [--sizes 10,40,80] [--out bench/results/request-memory.md]
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, rssKb } from "./lib.mjs";

const REPO = join(dirname(fileURLToPath(import.meta.url)), "..");
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const SIZES = arg("sizes", "10,40,80").split(",").map(Number);
const OUT = arg("out", join(REPO, "bench/results/request-memory.md"));

const { compileTsPredictor } = await import(join(REPO, "dist/build/ts-predictor.js")).catch((err) => {
  console.error(`needs \`npm run build\` first (${err.message})`);
  process.exit(1);
});
const root = mkdtempSync(join(tmpdir(), "kiln-bench-reqmem-"));
writeFileSync(
  join(root, "predict.ts"),
  'import { definePredictor, z } from "kiln";\nexport const predictor = definePredictor({ inputs: { n: z.int() }, output: z.string(), predict: () => "ok" });\n',
);
const { outFile } = await compileTsPredictor(root, {
  raw: "predict.ts:predictor",
  file: "predict.ts",
  name: "predictor",
  language: "typescript",
});
const port = await freePort();
const server = spawn(
  process.execPath,
  [join(REPO, "dist/runtime-bundle/server.mjs"), "--host", "127.0.0.1", "--port", String(port)],
  {
    env: {
      ...process.env,
      KILN_ROOT: root,
      KILN_PREDICTOR: `${relative(root, outFile)}:predictor`,
      COG_LOG_LEVEL: "error",
    },
    stdio: ["ignore", "inherit", "inherit"],
  },
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
