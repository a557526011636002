/**
 * Container log plumbing: Docker multiplexes stdout/stderr of a non-TTY container into frames
 * (8-byte header: stream type, 3 zero bytes, big-endian length). Frames can split across chunks.
 */

export type LogStream = "stdout" | "stderr";

export class LogDemuxer {
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly onText: (stream: LogStream, text: string) => void) {}

  push(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= 8) {
      const size = this.pending.readUInt32BE(4);
      if (this.pending.length < 8 + size) break;
      const type = this.pending[0];
      const payload = this.pending.subarray(8, 8 + size);
      this.pending = this.pending.subarray(8 + size);
      this.onText(type === 2 ? "stderr" : "stdout", payload.toString("utf8"));
    }
  }
}

/** The last `max` lines seen, for error messages. */
export class LogTail {
  private readonly kept: string[] = [];
  private partial = "";

  constructor(private readonly max: number) {}

  push(text: string): void {
    const parts = (this.partial + text).split("\n");
    // An unended line (a progress bar redrawn with \r for minutes) keeps its last 64 KiB, so each chunk
    // does not copy everything before it.
    this.partial = (parts.pop() ?? "").slice(-65536);
    for (const line of parts) {
      this.kept.push(line);
      if (this.kept.length > this.max) this.kept.shift();
    }
  }

  lines(): string[] {
    return this.partial ? [...this.kept, this.partial] : [...this.kept];
  }
}
