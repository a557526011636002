// Builds the browser playground (src/playground/page) into dist/runtime-bundle/playground/ (or the
// directory given as the first argument): app.js and app.css minified by esbuild, index.html. Nothing
// is loaded from a CDN. Fails when a file or the gzipped total exceeds src/playground/budget.json.
import { build } from "esbuild";
import { copyFileSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../", import.meta.url));
const page = `${root}src/playground/page/`;
const out = process.argv[2]
  ? `${process.argv[2].replace(/\/+$/, "")}/`
  : `${root}dist/runtime-bundle/playground/`;
const budget = JSON.parse(readFileSync(`${root}src/playground/budget.json`, "utf8"));
// Tests shrink the budget to see the build refuse; nobody else should need this.
const scale = Number(process.env.KILN_PLAYGROUND_BUDGET_SCALE ?? 1);

mkdirSync(out, { recursive: true });
const common = { bundle: true, minify: true, legalComments: "none", logLevel: "warning", sourcemap: false };
await build({
  ...common,
  entryPoints: [`${page}main.ts`],
  outfile: `${out}app.js`,
  format: "esm",
  platform: "browser",
  target: ["chrome109", "firefox115", "safari16"],
  tsconfig: `${page}tsconfig.json`,
});
await build({
  ...common,
  entryPoints: [`${page}style.css`],
  outfile: `${out}app.css`,
  target: ["chrome109", "firefox115", "safari16"],
});
copyFileSync(`${page}index.html`, `${out}index.html`);

let gzipTotal = 0;
const over = [];
const report = [];
for (const [name, full] of Object.entries(budget.files)) {
  const limit = Math.floor(full * scale);
  const bytes = statSync(`${out}${name}`).size;
  const gz = gzipSync(readFileSync(`${out}${name}`)).length;
  gzipTotal += gz;
  report.push(`${name} ${bytes} B (gzip ${gz} B, budget ${limit} B)`);
  if (bytes > limit) over.push(`${name} is ${bytes} B, over its ${limit} B budget`);
}
if (gzipTotal > budget.totalGzip)
  over.push(`gzipped total ${gzipTotal} B is over the ${budget.totalGzip} B budget`);
if (over.length > 0) {
  console.error(`build-playground: ${over.join("; ")} (src/playground/budget.json)`);
  process.exit(1);
}
console.log(
  `build-playground: wrote ${out}: ${report.join(", ")}; gzip total ${gzipTotal} B of ${budget.totalGzip} B`,
);
