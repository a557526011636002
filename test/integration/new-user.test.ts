/**
 * The new user's path, from the packed tarball and nothing of this checkout: npm pack -> global install
 * into a fresh prefix with dev dependencies omitted -> kiln --version -> kiln init (ts) -> the project
 * installs kiln from the tarball -> tsc --noEmit is clean -> a seeded type error fails kiln build naming
 * predict.ts:LINE -> fixed -> kiln build and kiln predict print the expected output. The same for the
 * Python scaffold, and for a project that uses `npm link`. Projects live in a temp directory, outside
 * the repository, so nothing resolves from its node_modules. Needs `npm run build` first (npm test does).
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BASE_IMAGES } from "../helpers/docker.js";
import { cleanup, requireBuildEnv, uniqueTag } from "./build-helpers.js";

const REPO = join(import.meta.dirname, "../..");
const VERSION = (JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { version: string }).version;
const work = mkdtempSync(join(tmpdir(), "kiln-new-user-"));
const prefix = join(work, "prefix");
const kilnBin = join(prefix, "bin/kiln");
let tarball = "";

// Only what a user's shell has: no KILN_* defaults from the developer's environment.
const env: Record<string, string | undefined> = {
  ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("KILN_"))),
  PATH: `${join(prefix, "bin")}:${process.env.PATH ?? ""}`,
  npm_config_update_notifier: "false",
  NO_COLOR: "1",
};
const NPM_FLAGS = ["--no-audit", "--no-fund", "--prefer-offline"];

async function run(cmd: string, args: string[], cwd: string, extraEnv: Record<string, string> = {}) {
  const r = await execa(cmd, args, { cwd, env: { ...env, ...extraEnv }, reject: false, all: true });
  return { code: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr), all: String(r.all) };
}
const kiln = (args: string[], cwd: string) => run(kilnBin, args, cwd);
/** `kiln build` on the offline base images (no image can be pulled here), progress as plain lines. */
const buildArgs = (tag: string, base: string, nodeImage: string, ...extra: string[]): string[] => [
  "build",
  "-t",
  tag,
  "--base-image",
  base,
  "--node-image",
  nodeImage,
  "--progress",
  "plain",
  ...extra,
];

/** What an editor shows for the project: the hover doc of definePredictor and the type of an input. */
function editorView(project: string): { doc: string; promptType: string } {
  const config = ts.getParsedCommandLineOfConfigFile(
    join(project, "tsconfig.json"),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n"));
      },
    },
  );
  if (!config) throw new Error("tsconfig.json did not parse");
  const file = join(project, "predict.ts");
  const program = ts.createProgram([file], config.options);
  const checker = program.getTypeChecker();
  let doc = "";
  let promptType = "";
  const visit = (node: ts.Node): void => {
    if (ts.isImportSpecifier(node) && node.name.text === "definePredictor") {
      const symbol = checker.getSymbolAtLocation(node.name);
      if (symbol)
        doc = ts.displayPartsToString(checker.getAliasedSymbol(symbol).getDocumentationComment(checker));
    }
    if (ts.isBindingElement(node) && ts.isIdentifier(node.name) && node.name.text === "prompt")
      promptType = checker.typeToString(checker.getTypeAtLocation(node.name));
    ts.forEachChild(node, visit);
  };
  const source = program.getSourceFile(file);
  if (source) visit(source);
  return { doc, promptType };
}

beforeAll(async () => {
  await requireBuildEnv();
  expect(existsSync(join(REPO, "dist/sdk/index.d.ts")), "run `npm run build` first").toBe(true);
});
afterAll(async () => {
  await cleanup([work]);
});

describe("the new user's path, from the packed tarball", () => {
  it("packs a tarball with the CLI, the runtime bundle, the SDK declarations and the templates only", async () => {
    const pack = await run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", work], REPO);
    expect(pack.code, pack.stderr).toBe(0);
    const [info] = JSON.parse(pack.stdout) as { name: string; filename: string; files: { path: string }[] }[];
    expect(info?.name).toBe("kiln-ml");
    tarball = join(work, info?.filename ?? "");
    const files = (info?.files ?? []).map((f) => f.path);
    expect(files).toEqual(
      expect.arrayContaining([
        "bin/kiln.js",
        "dist/cli/main.js",
        "dist/sdk/index.js",
        "dist/sdk/index.d.ts",
        "dist/runtime-bundle/server.mjs",
        "dist/runtime-bundle/node-worker.mjs",
        "templates/ts/tsconfig.json",
        "schema/cog.schema.json",
      ]),
    );
    expect(files.filter((f) => f.startsWith("src/") || f.startsWith("test/") || f.endsWith(".map"))).toEqual(
      [],
    );
  });

  it("installs globally into a fresh prefix without dev dependencies, and runs", async () => {
    const install = await run(
      "npm",
      ["install", "--global", "--prefix", prefix, "--omit=dev", ...NPM_FLAGS, tarball],
      work,
    );
    expect(install.code, install.all).toBe(0);
    const version = await kiln(["--version"], work);
    expect(version).toMatchObject({ code: 0, stdout: VERSION });
    // Nothing of the development set-up came along: kiln works without typescript, vitest, eslint.
    const installed = createRequire(join(prefix, "lib/node_modules/kiln-ml/package.json"));
    for (const dev of ["typescript", "vitest", "eslint"]) expect(() => installed.resolve(dev)).toThrow();
    expect(installed.resolve("esbuild")).toContain(join(prefix, "lib/node_modules"));
  });

  const app = join(work, "app");
  const tag = uniqueTag("new-user-ts");

  it("kiln init writes a TypeScript project that installs kiln from the tarball and type-checks clean", async () => {
    const init = await kiln(["init", "app"], work);
    expect(init.code, init.all).toBe(0);
    const install = await run("npm", ["install", "--save-dev", ...NPM_FLAGS, tarball], app);
    expect(install.code, install.all).toBe(0);
    expect(existsSync(join(app, "package-lock.json"))).toBe(true);
    const tsc = await run(join(app, "node_modules/.bin/tsc"), ["--noEmit"], app);
    expect(tsc, tsc.all).toMatchObject({ code: 0 });
    // "kiln-ml" resolves through the package's exports to typed, documented declarations.
    const view = editorView(app);
    expect(view.doc).toMatch(/^Declares a predictor/);
    expect(view.promptType).toBe("string");
  });

  it("a seeded type error fails kiln build naming predict.ts:LINE:COL; --no-typecheck builds anyway", async () => {
    const file = join(app, "predict.ts");
    const good = readFileSync(file, "utf8");
    const lines = good.split("\n");
    const at = lines.findIndex((l) => l.includes("ctx.log(`repeating ${repeat} time(s)`);"));
    expect(at).toBeGreaterThan(0);
    writeFileSync(file, good.replace("${repeat} time(s)", "${repeat.toUpperCase()} time(s)"));
    const column = (lines[at] ?? "").indexOf("${repeat}") + 2 + "repeat.".length + 1;

    const failed = await kiln(buildArgs(tag, BASE_IMAGES.node, BASE_IMAGES.nodeNpm), app);
    expect(failed.code, failed.all).toBe(5);
    expect(failed.stderr).toContain(
      `error: type error: predict.ts:${at + 1}:${column}: Property 'toUpperCase' does not exist on type 'number'.`,
    );
    expect(failed.stderr).toContain("--no-typecheck");

    const unchecked = await kiln(
      buildArgs(tag, BASE_IMAGES.node, BASE_IMAGES.nodeNpm, "--no-typecheck"),
      app,
    );
    expect(unchecked.code, unchecked.all).toBe(0);
    expect(unchecked.all).not.toContain("type-checking");
    // The lock file's packages are installed in the image by the node image's npm, offline.
    expect(unchecked.all).toContain("npm ci --omit=dev");
    writeFileSync(file, good);
  });

  it("fixed, kiln build checks and builds on the offline base images, and kiln predict answers", async () => {
    const built = await kiln(buildArgs(tag, BASE_IMAGES.node, BASE_IMAGES.nodeNpm), app);
    expect(built.code, built.all).toBe(0);
    expect(built.all).toContain("type-checking the predictor");
    expect(built.stdout).toMatch(new RegExp(`^Built ${tag} `, "m"));

    // Unchanged: the type check is reused, not run again.
    const again = await kiln(buildArgs(tag, BASE_IMAGES.node, BASE_IMAGES.nodeNpm), app);
    expect(again.code, again.all).toBe(0);
    expect(again.all).toContain("type check: sources unchanged since the last pass");

    const predict = await kiln(
      ["predict", tag, "-i", "prompt=hi", "-i", "repeat=2", "-i", "shout=true"],
      app,
    );
    expect(predict.code, predict.all).toBe(0);
    expect(predict.stdout).toBe("HI HI");
  });

  it("a node image without npm fails the lock-file install with the fix", async () => {
    const r = await kiln(buildArgs(tag, BASE_IMAGES.node, BASE_IMAGES.node), app);
    expect(r.code, r.all).toBe(5);
    expect(r.stderr).toContain(
      `kiln: ${BASE_IMAGES.node} has no npm to install package-lock.json: pass --node-image with an image that has npm`,
    );
  });

  it("kiln init --lang python: build and predict", async () => {
    const py = join(work, "py");
    const pyTag = uniqueTag("new-user-py");
    expect((await kiln(["init", "py", "--lang", "python"], work)).code).toBe(0);
    const built = await kiln(buildArgs(pyTag, BASE_IMAGES.python, BASE_IMAGES.node), py);
    expect(built.code, built.all).toBe(0);
    const predict = await kiln(["predict", pyTag, "-i", "prompt=hello", "-i", "repeat=2"], py);
    expect(predict.code, predict.all).toBe(0);
    expect(predict.stdout).toBe("hello hello");
  });

  it("a project that uses the global kiln through `npm link kiln-ml` builds and predicts", async () => {
    const linked = join(work, "linked");
    const linkedTag = uniqueTag("new-user-link");
    expect((await kiln(["init", "linked"], work)).code).toBe(0);
    const link = await run("npm", ["link", ...NPM_FLAGS, "kiln-ml"], linked, { npm_config_prefix: prefix });
    expect(link.code, link.all).toBe(0);
    expect(existsSync(join(linked, "node_modules/kiln-ml/dist/sdk/index.d.ts"))).toBe(true);
    const tsc = await run(join(linked, "node_modules/.bin/tsc"), ["--noEmit"], linked);
    expect(tsc, tsc.all).toMatchObject({ code: 0 });
    // The link points out of the project: kiln sends none of node_modules (there is no lock file and
    // package.json lists only devDependencies), so the build neither refuses it nor needs npm.
    const built = await kiln(buildArgs(linkedTag, BASE_IMAGES.node, BASE_IMAGES.node), linked);
    expect(built.code, built.all).toBe(0);
    const predict = await kiln(["predict", linkedTag, "-i", "prompt=linked"], linked);
    expect(predict.code, predict.all).toBe(0);
    expect(predict.stdout).toBe("linked");
  });
});
