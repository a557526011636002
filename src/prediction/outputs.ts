/**
 * What `kiln predict` does with a prediction's output: file outputs (data URIs) are written to
 * `output.<ext>` (or `-o PATH`), lists of files to `output.0.<ext>`, `output.1.<ext>` ...; strings are
 * printed raw; other values as JSON with written files replaced by their paths. Iterator outputs are
 * printed/written chunk by chunk as they arrive. `--json` prints the whole prediction instead.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, extname, relative, resolve } from "node:path";
import type { JsonSchema } from "../schema/types.js";
import { decodeDataUri, extensionOf } from "../schema/media-types.js";

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
}

export class OutputWriter {
  private streamed = 0;
  private endsWithNewline = true;
  private readonly written: string[] = [];

  constructor(
    private readonly sink: OutputSink,
    private readonly opts: OutputOptions,
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
    this.streamed = index + 1;
    if (this.opts.json) return;
    await this.emitItem(chunk, [String(index)], true);
  }

  /** Handles the terminal prediction; returns the exit status (0 succeeded, 1 failed/canceled). */
  async finish(prediction: Prediction): Promise<number> {
    const output = prediction.output;
    if (this.opts.json) {
      const replaced = await this.replaceFiles(output, this.isIterator || isFileList(output) ? null : []);
      this.write(`${JSON.stringify({ ...prediction, output: replaced }, null, 2)}\n`);
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
      else this.write(output.endsWith("\n") ? output : `${output}\n`);
      return;
    }
    if (isFileList(output)) {
      for (const [i, item] of output.entries()) await this.writeFile(item, [String(i)]);
      return;
    }
    this.write(`${JSON.stringify(await this.replaceFiles(output, []), null, 2)}\n`);
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
    const file = this.pathFor(parts, named || extensionOf(decoded.mimeType));
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
