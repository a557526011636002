import { describe, expect, it } from "vitest";
import { ProgressParser, type BuildEvent } from "../../src/build/progress.js";

const LOG = `#1 [internal] load build definition from Dockerfile
#1 DONE 0.0s
#5 [stage-0 1/3] FROM docker.io/kiln-test/node
#5 CACHED
#6 [stage-0 2/3] RUN   apt-get install -y nope
#6 0.412 Reading package lists...
#6 1.020 E: Unable to locate package nope
#6 ERROR: executor failed running [/bin/sh -c apt-get install -y nope]: exit code: 100
------
 > [stage-0 2/3] RUN apt-get install -y nope:
------
failed to solve with frontend dockerfile.v0: failed to build LLB: executor failed running`;

describe("BuildKit plain progress", () => {
  it("emits steps, cache hits and logs, skipping internal vertices", () => {
    const events: BuildEvent[] = [];
    const p = new ProgressParser((e) => events.push(e));
    for (const line of LOG.split("\n")) p.push(line);
    expect(events.filter((e) => e.kind === "step").map((e) => (e as { name: string }).name)).toEqual([
      "[stage-0 1/3] FROM docker.io/kiln-test/node",
      "[stage-0 2/3] RUN   apt-get install -y nope",
    ]);
    expect(events).toContainEqual({
      kind: "step-done",
      name: "[stage-0 1/3] FROM docker.io/kiln-test/node",
      cached: true,
      seconds: null,
    });
    expect(events).toContainEqual({
      kind: "log",
      step: "[stage-0 2/3] RUN   apt-get install -y nope",
      line: "E: Unable to locate package nope",
    });
  });

  it("turns a failure into the failing step, its last log lines, the exit code and a hint", () => {
    const p = new ProgressParser();
    for (const line of LOG.split("\n")) p.push(line);
    const err = p.failure();
    expect(err.message).toBe("build step failed: [stage-0 2/3] RUN apt-get install -y nope");
    expect(err.details).toEqual([
      "Reading package lists...",
      "E: Unable to locate package nope",
      "-> exited with code 100",
    ]);
    expect(err.hint).toMatch(/apt package in build.system_packages/);
    expect(err.exitCode).toBe(5);
  });

  it("keeps only the last 20 lines of a long failing step", () => {
    const p = new ProgressParser();
    p.push("#7 [stage-0 3/3] RUN make");
    for (let i = 0; i < 100; i++) p.push(`#7 ${i}.000 line ${i}`);
    p.push("#7 ERROR: executor failed running [/bin/sh -c make]: exit code: 2");
    const err = p.failure();
    expect(err.details).toHaveLength(21);
    expect(err.details[0]).toBe("line 80");
  });
});
