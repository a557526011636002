/**
 * The readiness file orchestrators probe (`test -f /var/run/cog/ready`, as with Cog images): present
 * while the server takes predictions, removed when setup failed, the worker is gone, or it is draining.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { Logger } from "./logger.js";

export const DEFAULT_READY_FILE = "/var/run/cog/ready";

export class ReadyFile {
  constructor(
    private readonly path: string | null,
    private readonly logger: Logger,
  ) {}

  get file(): string | null {
    return this.path;
  }

  set(ready: boolean): void {
    if (!this.path) return;
    try {
      if (ready) {
        mkdirSync(dirname(this.path), { recursive: true });
        writeFileSync(this.path, `${process.pid}\n`);
      } else rmSync(this.path, { force: true });
    } catch (err) {
      this.logger.warn("could not update the readiness file", { path: this.path, err });
    }
  }
}
