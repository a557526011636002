/**
 * The build context: the list of tar entries (layout in dockerfile.ts) and a tar stream of them made with
 * tar-stream. Files are streamed from disk one at a time, so weights never sit in memory. Weights entries
 * get fixed metadata (mtime, uid/gid 0, 0644/0755) so their layers have the same digest on every build.
 */
import { createReadStream } from "node:fs";
import { opendir, stat } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { PassThrough, Transform, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { pack as tarPack } from "tar-stream";
import type { BuildPlan } from "./plan.js";

/** 1980-01-01T00:00:00Z: the fixed mtime of weights entries (the ZIP epoch many reproducible tools use). */
export const FIXED_MTIME = new Date(315532800 * 1000);

export interface ContextEntry {
  /** Name in the tar, forward slashes, no leading slash. */
  name: string;
  type: "file" | "directory" | "symlink";
  size: number;
  mode: number;
  /** Fixed for weights and generated entries; real for code. */
  mtime?: Date;
  /** File to stream from, or inline content. */
  source?: string;
  content?: Buffer;
  linkname?: string;
}

const ENTRYPOINT_SH = `#!/bin/sh
# kiln: tini is PID 1 when the image has it (reaps zombies, forwards signals); otherwise the kiln
# server is PID 1 itself and handles SIGTERM/SIGINT.
if command -v tini >/dev/null 2>&1; then exec tini -- "$@"; fi
exec "$@"
`;

export interface ContextInputs {
  root: string;
  plan: BuildPlan;
  dockerfile: string;
  /** dist/runtime-bundle directory (null: list without it, for `kiln dockerfile --context`). */
  runtimeBundle: string | null;
  caCertFile?: string | undefined;
  /**
   * all: one context for the whole Dockerfile (`kiln dockerfile --context`).
   * deps: generated files, runtime, weights and the dependency lists the dependencies stage copies.
   * code: the Dockerfile and the project code only.
   */
  part?: "all" | "deps" | "code" | undefined;
}

const file = (name: string, content: string | Buffer, mode = 0o644): ContextEntry => {
  const buf = Buffer.isBuffer(content) ? content : Buffer.from(content);
  return { name, type: "file", size: buf.length, mode, mtime: FIXED_MTIME, content: buf };
};
const dir = (name: string): ContextEntry => ({
  name,
  type: "directory",
  size: 0,
  mode: 0o755,
  mtime: FIXED_MTIME,
});

/** Every directory above `path` (exclusive), outermost first: "a/b/c" -> ["a", "a/b"]. */
function parents(path: string): string[] {
  const parts = path.split("/");
  return parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join("/"));
}

async function walkFiles(dirPath: string, out: string[] = []): Promise<string[]> {
  for await (const e of await opendir(dirPath)) {
    const abs = join(dirPath, e.name);
    if (e.isDirectory()) await walkFiles(abs, out);
    else if (e.isFile()) out.push(abs);
  }
  return out;
}

/** Lists the context entries in the order they are written (small generated files first). */
export async function listContext(inputs: ContextInputs): Promise<ContextEntry[]> {
  const { plan, root } = inputs;
  const part = inputs.part ?? "all";
  const entries: ContextEntry[] = [file("Dockerfile", inputs.dockerfile)];
  if (part === "code") {
    entries.push(...codeEntries(root, plan.code));
    return entries;
  }
  if (inputs.caCertFile) {
    const st = await stat(inputs.caCertFile);
    entries.push({
      name: "kiln/ca.crt",
      type: "file",
      size: st.size,
      mode: 0o644,
      mtime: FIXED_MTIME,
      source: inputs.caCertFile,
    });
  }
  // Rooted at / like the weights, so /kiln gets fixed metadata and the layer a stable digest.
  entries.push(
    dir("kiln"),
    dir("kiln/runtime"),
    dir("kiln/runtime/kiln"),
    file("kiln/runtime/kiln/entrypoint.sh", ENTRYPOINT_SH, 0o755),
  );
  const bundleDir = inputs.runtimeBundle;
  const bundleFiles = bundleDir ? (await walkFiles(bundleDir)).sort() : [];
  const bundleDirs = new Set<string>();
  for (const abs of bundleFiles) {
    const rel = relative(bundleDir ?? "", abs)
      .split(sep)
      .join("/");
    for (const p of parents(rel)) {
      if (!bundleDirs.has(p)) entries.push(dir(`kiln/runtime/kiln/${p}`));
      bundleDirs.add(p);
    }
    const st = await stat(abs);
    entries.push({
      name: `kiln/runtime/kiln/${rel}`,
      type: "file",
      size: st.size,
      mode: st.mode & 0o111 ? 0o755 : 0o644,
      mtime: FIXED_MTIME,
      source: abs,
    });
  }
  for (const g of plan.weights) {
    const base = `kiln/weights/${g.index}`;
    const seen = new Set<string>();
    entries.push(dir("kiln/weights"), dir(base));
    for (const f of g.files) {
      for (const p of parents(`src/${f.path}`)) {
        if (!seen.has(p)) entries.push(dir(`${base}/${p}`));
        seen.add(p);
      }
      entries.push({
        name: `${base}/src/${f.path}`,
        type: "file",
        size: f.size,
        mode: 0o644,
        mtime: FIXED_MTIME,
        source: join(root, f.path),
      });
    }
  }
  const trained = plan.trainedWeights;
  if (trained) {
    // kiln/trained/ is rooted at / too: kiln/trained/kiln/weights/<name> -> /kiln/weights/<name>.
    const base = `kiln/trained${trained.target}`;
    entries.push(...["kiln/trained", ...parents(base).filter((p) => p.startsWith("kiln/trained/"))].map(dir));
    if (trained.files.length === 1 && trained.files[0]?.path === "") {
      const f = trained.files[0];
      entries.push({
        name: base,
        type: "file",
        size: f.size,
        mode: 0o644,
        mtime: FIXED_MTIME,
        source: trained.source,
      });
    } else {
      const seen = new Set<string>();
      entries.push(dir(base));
      for (const f of trained.files) {
        for (const p of parents(f.path)) {
          if (!seen.has(p)) entries.push(dir(`${base}/${p}`));
          seen.add(p);
        }
        entries.push({
          name: `${base}/${f.path}`,
          type: "file",
          size: f.size,
          mode: 0o644,
          mtime: FIXED_MTIME,
          source: join(trained.source, f.path),
        });
      }
    }
  }
  // The dependencies stage copies these few project files before anything else.
  const depsFiles = new Set(
    [plan.requirements, plan.npm ? "package.json" : null, plan.npm?.lockFile].filter(Boolean),
  );
  entries.push(
    ...codeEntries(root, part === "deps" ? plan.code.filter((f) => depsFiles.has(f.path)) : plan.code),
  );
  // Duplicate directory entries (kiln/weights per group) are harmless in tar but noisy: drop them.
  const names = new Set<string>();
  return entries.filter((e) => (names.has(e.name) ? false : (names.add(e.name), true)));
}

function codeEntries(root: string, files: BuildPlan["code"]): ContextEntry[] {
  const out: ContextEntry[] = [dir("src")];
  for (const f of files) {
    if (f.type === "symlink") {
      out.push({
        name: `src/${f.path}`,
        type: "symlink",
        size: 0,
        mode: 0o777,
        linkname: f.linkTarget ?? "",
        mtime: FIXED_MTIME,
      });
    } else {
      out.push({
        name: `src/${f.path}`,
        type: "file",
        size: f.size,
        mode: f.mode & 0o111 ? 0o755 : 0o644,
        source: join(root, f.path),
      });
    }
  }
  return out;
}

export interface ContextStream {
  stream: Readable;
  /** Resolves with the number of tar bytes once the whole context has been produced. */
  done: Promise<{ bytes: number; files: number }>;
}

/** Produces the context as a tar stream; errors (file changed size, vanished) reject `done` and the stream. */
export function streamContext(entries: readonly ContextEntry[]): ContextStream {
  const pack = tarPack();
  let bytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      bytes += chunk.length;
      cb(null, chunk);
    },
  });
  const out = new PassThrough();
  const piped = pipeline(pack, counter, out);
  const write = async (): Promise<number> => {
    let files = 0;
    for (const e of entries) {
      const header = {
        name: e.name,
        type: e.type,
        mode: e.mode,
        mtime: e.mtime ?? new Date(),
        uid: 0,
        gid: 0,
        uname: "",
        gname: "",
      };
      if (e.type === "directory") await addEntry(pack, { ...header, size: 0 }, null);
      else if (e.type === "symlink")
        await addEntry(pack, { ...header, size: 0, linkname: e.linkname ?? "" }, null);
      else {
        files++;
        if (e.content) await addEntry(pack, { ...header, size: e.content.length }, e.content);
        else if (e.source) {
          const st = await stat(e.source);
          const h = { ...header, size: st.size, mtime: e.mtime ?? st.mtime };
          await pipeline(createReadStream(e.source, { highWaterMark: 1024 * 1024 }), pack.entry(h));
        }
      }
    }
    pack.finalize();
    return files;
  };
  const done = Promise.all([write(), piped]).then(([files]) => ({ bytes, files }));
  done.catch((err: unknown) => {
    out.destroy(err instanceof Error ? err : new Error(String(err)));
  });
  return { stream: out, done };
}

function addEntry(
  pack: ReturnType<typeof tarPack>,
  header: Parameters<ReturnType<typeof tarPack>["entry"]>[0],
  content: Buffer | null,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const cb = (err?: Error | null): void => (err ? reject(err) : resolve());
    if (content) pack.entry(header, content, cb);
    else pack.entry(header, cb);
  });
}
