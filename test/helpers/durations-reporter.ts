/**
 * Records how long each test file and test took (test-results/durations.json, newest run only), and
 * which tests are slow: those tagged `slow` (vitest.config.ts), and those over the slow threshold that
 * nobody tagged yet, so the list stays honest.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Reporter, TestModule } from "vitest/node";

interface TestTiming {
  name: string;
  ms: number;
  tags: string[];
}

// Vitest loads a reporter file through its default export (as it does vitest.config.ts).
export default class DurationsReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const files = modules.map((m) => {
      const tests: TestTiming[] = [];
      for (const t of m.children.allTests()) {
        const d = t.diagnostic();
        if (d) tests.push({ name: t.fullName, ms: Math.round(d.duration), tags: [...t.tags] });
      }
      tests.sort((a, b) => b.ms - a.ms);
      const ms = tests.reduce((n, t) => n + t.ms, 0);
      return { file: m.relativeModuleId, project: m.project.name, ms, tests };
    });
    files.sort((a, b) => b.ms - a.ms);
    const slowMs = SLOW_TEST_MS;
    const all = files.flatMap((f) => f.tests.map((t) => ({ ...t, file: f.file, project: f.project })));
    const report = {
      recordedAt: new Date().toISOString(),
      slowTestMs: slowMs,
      totalMs: files.reduce((n, f) => n + f.ms, 0),
      taggedSlow: all
        .filter((t) => t.tags.includes("slow"))
        .map(({ file, name, ms }) => ({ file, name, ms })),
      untaggedSlow: all
        .filter((t) => t.project === "unit" && t.ms >= slowMs && !t.tags.includes("slow"))
        .map(({ file, name, ms }) => ({ file, name, ms })),
      files,
    };
    const dir = join(process.cwd(), "test-results");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "durations.json"), `${JSON.stringify(report, null, 2)}\n`);
  }
}

/** A unit test slower than this should carry the `slow` tag (run `--tags-filter='!slow'` to skip them). */
export const SLOW_TEST_MS = 5000;
