/** kiln deploy's argument checks: each bad input is a usage error (exit 2) that says what to pass. */
import { describe, expect, it } from "vitest";
import { EXIT_CODES } from "../../src/errors.js";
import { runCli } from "../cli/run.js";
import { redisTarget } from "../../src/deploy/queue.js";
import { DIGEST, facts, options } from "./cases.js";

const IMAGE = `registry.example.com/team/hello@${DIGEST}`;

describe("kiln deploy arguments", () => {
  it("is listed in --help with its flags", async () => {
    const { code, stdout } = await runCli(["deploy", "--help"]);
    expect(code).toBe(0);
    const flat = stdout.replace(/\s+/g, " ");
    expect(flat).toContain("Usage: kiln deploy [options] <target> <image>");
    for (const flag of [
      "--replicas <n>",
      "--queue <redis-url>",
      "--redis-image <image>",
      "-o, --output <dir>",
      "--apply",
    ])
      expect(flat).toContain(flag);
  });

  it("refuses an unknown target", async () => {
    const r = await runCli(["deploy", "nomad", IMAGE]);
    expect(r.code).toBe(EXIT_CODES.usage);
    expect(r.stderr).toContain(
      "'nomad' is invalid for argument 'target'. Allowed choices are swarm, kubernetes.",
    );
  });

  it("refuses an image that is not pinned by digest, before any network call", async () => {
    const r = await runCli(["deploy", "swarm", "registry.invalid/team/hello:latest"]);
    expect(r.code).toBe(EXIT_CODES.usage);
    expect(r.stderr).toContain("registry.invalid/team/hello:latest is not pinned by digest.");
    expect(r.stderr).toContain("kiln push prints NAME@sha256:...");
  });

  it("checks replicas, names, quantities, ports and queue URLs", () => {
    const f = facts(IMAGE, {});
    const bad: [Parameters<typeof options>[2], string][] = [
      [{ replicas: "0" }, '--replicas must be a whole number from 1 to 1000, got "0".'],
      [{ replicas: "1.5" }, "--replicas must be a whole number"],
      [{ name: "My_Model" }, '--name "My_Model" is not a valid name.'],
      [{ namespace: "-ns" }, '--namespace "-ns" is not a valid name.'],
      [{ cpu: "one" }, '--cpu "one" is not a CPU quantity'],
      [{ memory: "2GB" }, '--memory "2GB" is not a memory quantity'],
      [{ publish: "70000" }, "--publish must be a port from 1 to 65535"],
      [{ queue: "http://redis:6379" }, "--queue must be a redis:// or rediss:// URL"],
      [{ queue: "not a url" }, '--queue "not a url" is not a URL.'],
      [{ replicas: "4", maxReplicas: "2" }, "--max-replicas (2) is below --replicas (4)."],
      [{ autoscaler: "keda" }, "--autoscaler keda scales on the queue's lag and needs --queue."],
    ];
    for (const [flags, message] of bad)
      expect(() => options("kubernetes", f, flags), JSON.stringify(flags)).toThrow(message);
  });

  it("derives facts from the image's labels", () => {
    const f = facts(
      `127.0.0.1:5001/Team/My_Model.v2@${DIGEST}`.replace("Team", "team").replace("My_Model", "my_model"),
      {
        build: { gpu: true },
        concurrency: { max: 8 },
      },
    );
    expect(f).toMatchObject({
      defaultName: "my-model-v2",
      gpu: true,
      concurrency: 8,
      port: 5000,
      digest: DIGEST,
    });
    expect(f.model).toBe("team/my_model.v2");
    expect(f.version).toBe(DIGEST.slice("sha256:".length));
    expect(facts(`127.0.0.1:5001/solo@${DIGEST}`, {}).model).toBe("kiln/solo");
    expect(facts(IMAGE, { concurrency: { max: "x" } }).concurrency).toBe(1);
    expect(() => facts(IMAGE, "{not json")).toThrow("the run.cog.config label is not valid JSON");
  });

  it("reads what KEDA needs from the queue URL", () => {
    expect(redisTarget("redis://redis:6379")).toEqual({
      host: "redis",
      port: 6379,
      db: 0,
      tls: false,
      username: undefined,
      password: undefined,
    });
    expect(redisTarget("rediss://u:p%40ss@r.example.com/3")).toEqual({
      host: "r.example.com",
      port: 6379,
      db: 3,
      tls: true,
      username: "u",
      password: "p@ss",
    });
  });
});
