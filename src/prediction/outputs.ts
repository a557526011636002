/**
 * What `kiln predict` does with a prediction's output: file outputs (data URIs) are written to
 * `output.<ext>` (or `-o PATH`), lists of files to `output.0.<ext>`, `output.1.<ext>` ...; strings are
 * printed raw; other values as JSON with written files replaced by their paths. `-o PATH` also takes a
 * non-file output (the text or JSON goes to PATH instead of stdout). Iterator outputs are printed chunk
 * by chunk as they arrive on a terminal; when stdout is not one, the collected output is printed once at
 * the end as JSON (concatenate iterators: the joined text), as `cog predict` does, so scripts can parse
 * it. `--json` prints the whole prediction instead (to PATH with -o).
 */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, extname, relative, resolve } from "node:path";
import type { JsonSchema } from "../schema/types.js";
import { decodeDataUri, extensionFor } from "../schema/media-types.js";

export interface Prediction {
  id?: string;
  status?: string;
  input?: unknown;
  output?: unknown;
  error?: unknown;
  logs?: string;
  metrics?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface OutputSink {
  /** Results (stdout). */
  stdout: NodeJS.WritableStream;
  /** Notes such as "wrote output.png" (stderr); suppressed in --json mode by the caller's choice. */
  note: (line: string) => void;
}

export interface OutputOptions {
  cwd: string;
  /** -o PATH. */
  outputPath?: string | undefined;
  /** --json: print the whole prediction at the end, nothing else on stdout. */
  json: boolean;
  /** The model's Output schema component (iterator/concatenate display). */
  outputSchema: JsonSchema;
  /** Print iterator chunks as they arrive (stdout is a terminal); else print the collected output at the end. */
  streamChunks?: boolean | undefined;
  /** --json: fields the document carries besides the prediction's (the manifest's `warnings`). */
  documentExtra?: Record<string, unknown> | undefined;
}

export class OutputWriter {
  private streamed = 0;
  private endsWithNewline = true;
  private readonly written: string[] = [];

  constructor(
    private readonly sink: OutputSink,
    private opts: OutputOptions,
  ) {}

  get isIterator(): boolean {
    return (
      this.opts.outputSchema["type"] === "array" && this.opts.outputSchema["x-cog-array-type"] === "iterator"
    );
  }

  private get concatenate(): boolean {
    return this.opts.outputSchema["x-cog-array-display"] === "concatenate";
  }

  /** Files written so far (absolute paths). */
  get files(): readonly string[] {
    return this.written;
  }

  /** One streamed output item (SSE `output` event), handled as soon as it arrives. */
  async chunk(chunk: unknown, index: number): Promise<void> {
    if (index < this.streamed) return; // a re-sent chunk (e.g. after re-attaching)
    if (this.opts.json || this.opts.streamChunks === false) return; // handled whole in finish()
    this.streamed = index + 1;
    await this.emitItem(chunk, [String(index)], true);
  }

  /** Handles the terminal prediction; returns the exit status (0 succeeded, 1 failed/canceled). */
  async finish(prediction: Prediction): Promise<number> {
    const output = prediction.output;
    if (this.opts.json) {
      // With -o, the prediction JSON goes to that file; file outputs keep their output.<ext> names.
      const target = this.opts.outputPath;
      const replaced = await this.filesByDefaultName(() =>
        this.replaceFiles(output, this.isIterator || isFileList(output) ? null : []),
      );
      const text = `${JSON.stringify({ ...prediction, output: replaced, ...this.opts.documentExtra }, null, 2)}\n`;
      if (target !== undefined) await this.writeText(target, text);
      else this.write(text);
    } else if (this.isIterator && this.opts.streamChunks === false && Array.isArray(output)) {
      if (prediction.status === "succeeded" || output.length > 0) await this.emitCollected(output);
    } else if (Array.isArray(output) && (this.isIterator || this.streamed > 0)) {
      for (const [i, item] of output.entries())
        if (i >= this.streamed) await this.emitItem(item, [String(i)], true);
      if (!this.endsWithNewline) this.write("\n");
    } else if (output !== null && output !== undefined && prediction.status === "succeeded") {
      await this.emitWhole(output);
    }
    return prediction.status === "succeeded" ? 0 : 1;
  }

  private async emitWhole(output: unknown): Promise<void> {
    if (typeof output === "string") {
      if (decodeDataUri(output)) await this.writeFile(output, []);
      else await this.emitText(output.endsWith("\n") ? output : `${output}\n`);
      return;
    }
    if (isFileList(output)) {
      for (const [i, item] of output.entries()) await this.writeFile(item, [String(i)]);
      return;
    }
    const replaced = await this.filesByDefaultName(() => this.replaceFiles(output, []));
    await this.emitText(`${JSON.stringify(replaced, null, 2)}\n`);
  }

  /** Files inside a JSON output keep their output.<ext> names: -o PATH names the JSON itself. */
  private async filesByDefaultName<T>(fn: () => Promise<T>): Promise<T> {
    const saved = this.opts;
    this.opts = { ...saved, outputPath: undefined };
    try {
      return await fn();
    } finally {
      this.opts = saved;
    }
  }

  /** An iterator's whole output, printed once (stdout is not a terminal). */
  private async emitCollected(output: unknown[]): Promise<void> {
    if (this.concatenate && output.every((c) => typeof c === "string")) {
      const text = output.join("");
      await this.emitText(text.endsWith("\n") ? text : `${text}\n`);
      return;
    }
    const replaced = await this.filesByDefaultName(() => this.replaceFiles(output, null));
    await this.emitText(`${JSON.stringify(replaced, null, 2)}\n`);
  }

  /** Text output goes to stdout, or to -o PATH when given. */
  private async emitText(text: string): Promise<void> {
    if (this.opts.outputPath === undefined) return this.write(text);
    await this.writeText(this.opts.outputPath, text);
  }

  private async writeText(path: string, text: string): Promise<void> {
    const file = resolve(this.opts.cwd, path);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, text);
    this.written.push(file);
    this.sink.note(`Written output to ${this.display(file)}`);
  }

  private async emitItem(item: unknown, parts: string[], stream: boolean): Promise<void> {
    if (typeof item === "string" && decodeDataUri(item)) {
      await this.writeFile(item, parts);
      return;
    }
    if (typeof item === "string") {
      this.write(stream && this.concatenate ? item : `${item}\n`);
      return;
    }
    this.write(`${JSON.stringify(await this.replaceFiles(item, parts))}\n`);
  }

  /** Writes every data URI inside `value` to a file and returns `value` with paths in their place. */
  private async replaceFiles(value: unknown, parts: string[] | null): Promise<unknown> {
    const at = parts ?? [];
    if (typeof value === "string")
      return decodeDataUri(value) ? this.display(await this.writeFile(value, at)) : value;
    if (Array.isArray(value)) {
      const out: unknown[] = [];
      for (const [i, item] of value.entries()) out.push(await this.replaceFiles(item, [...at, String(i)]));
      return out;
    }
    if (typeof value === "object" && value !== null) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = await this.replaceFiles(v, [...at, safePart(k)]);
      return out;
    }
    return value;
  }

  private async writeFile(dataUri: string, parts: string[]): Promise<string> {
    const decoded = decodeDataUri(dataUri);
    if (!decoded) throw new Error("not a data URI");
    const named = decoded.name ? extname(decoded.name) : "";
    const file = this.pathFor(parts, named || (extensionFor(decoded.mimeType) ?? ".bin"));
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, decoded.bytes);
    this.written.push(file);
    this.sink.note(`Written output to ${this.display(file)}`);
    return file;
  }

  /** output.<ext> / output.0.<ext>; with -o PATH: PATH itself, or PATH's stem with the parts inserted. */
  private pathFor(parts: string[], ext: string): string {
    if (this.opts.outputPath === undefined)
      return resolve(this.opts.cwd, ["output", ...parts].join(".") + ext);
    const target = resolve(this.opts.cwd, this.opts.outputPath);
    if (parts.length === 0) return target;
    const own = extname(target);
    const stem = own ? target.slice(0, -own.length) : target;
    return `${[stem, ...parts].join(".")}${own || ext}`;
  }

  private display(file: string): string {
    const rel = relative(this.opts.cwd, file);
    return rel.startsWith("..") ? file : rel;
  }

  private write(text: string): void {
    if (text.length === 0) return;
    this.sink.stdout.write(text);
    this.endsWithNewline = text.endsWith("\n");
  }
}

function isFileList(value: unknown): value is string[] {
  return (
    Array.isArray(value) &&
    value.length > 0 &&
    value.every((v) => typeof v === "string" && decodeDataUri(v) !== undefined)
  );
}

function safePart(key: string): string {
  return key.replace(/[^A-Za-z0-9_-]/g, "_") || "_";
}
