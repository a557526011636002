/**
 * Push progress for the terminal: on a TTY one spinner line summarising the layers in flight (bytes,
 * speed); elsewhere (CI, pipes) one plain line per layer when it finishes or is skipped.
 */
import ora, { type Ora } from "ora";
import type { LayerProgress } from "../docker/push.js";
import type { PushProgress as PushProgressSink } from "../context.js";
import { formatBytes } from "../format.js";
import type { Output } from "./output.js";

interface Tracked extends LayerProgress {
  startedAt: number | undefined;
  reported: boolean;
}

export class PushProgress implements PushProgressSink {
  private readonly layers = new Map<string, Tracked>();
  private readonly spinner: Ora | undefined;
  private readonly columns: number;

  constructor(
    private readonly out: Output,
    image: string,
  ) {
    // A terminal that reports no width (some ptys) would make ora's line counting misbehave: go plain.
    this.columns = (out.stderr as { columns?: number }).columns ?? 0;
    if (out.interactive && this.columns > 0) {
      this.spinner = ora({
        stream: out.stderr as NodeJS.WritableStream & { isTTY?: boolean },
        text: this.fit(`Pushing ${image}`),
        // kiln needs no keystrokes during a push; ora's stdin discarding kept the process alive.
        discardStdin: false,
      }).start();
    } else {
      out.info(`Pushing ${image}`);
    }
  }

  update(layer: LayerProgress): void {
    const prev = this.layers.get(layer.id);
    const now = Date.now();
    const tracked: Tracked = {
      ...layer,
      startedAt: prev?.startedAt ?? (layer.state === "pushing" ? now : undefined),
      reported: prev?.reported ?? false,
    };
    this.layers.set(layer.id, tracked);
    const done = layer.state === "pushed" || layer.state === "exists" || layer.state === "mounted";
    if (done && !tracked.reported) {
      tracked.reported = true;
      this.line(this.describe(tracked, now));
    }
    if (this.spinner) this.spinner.text = this.fit(this.summary(now));
  }

  private describe(layer: Tracked, now: number): string {
    const id = layer.id.slice(0, 12);
    if (layer.state === "exists") return `${id}: already in the registry, not uploaded`;
    if (layer.state === "mounted") return `${id}: mounted from another repository, not uploaded`;
    const bytes = layer.total ?? layer.current;
    const seconds = layer.startedAt ? Math.max((now - layer.startedAt) / 1000, 0.001) : undefined;
    const speed = seconds && bytes > 0 ? `, ${formatBytes(bytes / seconds)}/s` : "";
    return `${id}: pushed ${formatBytes(bytes)}${seconds ? ` in ${seconds.toFixed(1)} s` : ""}${speed}`;
  }

  private summary(now: number): string {
    const all = [...this.layers.values()];
    const finished = all.filter(
      (l) => l.state === "pushed" || l.state === "exists" || l.state === "mounted",
    ).length;
    const active = all
      .filter((l) => l.state === "pushing")
      .map((l) => {
        const seconds = l.startedAt ? Math.max((now - l.startedAt) / 1000, 0.001) : 0;
        const speed = seconds > 0 ? ` ${formatBytes(l.current / seconds)}/s` : "";
        return `${l.id.slice(0, 12)} ${formatBytes(l.current)}/${l.total ? formatBytes(l.total) : "?"}${speed}`;
      });
    return `Pushing layers ${finished}/${all.length} done${active.length ? `: ${active.join(", ")}` : ""}`;
  }

  /** One screen line: the spinner redraws by counting lines, so it must never wrap. */
  private fit(text: string): string {
    const room = Math.max(this.columns - 3, 10);
    return text.length > room ? `${text.slice(0, room - 3)}...` : text;
  }

  private line(text: string): void {
    if (this.spinner) {
      this.spinner.clear();
      this.out.info(`  ${text}`);
      this.spinner.render();
    } else {
      this.out.info(`  ${text}`);
    }
  }

  stop(ok: boolean): void {
    if (!this.spinner) return;
    if (ok) this.spinner.stop();
    else this.spinner.fail();
  }
}
