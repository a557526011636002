// Pure parts of the fleet: key names, the event wire format replayed onto a Prediction, job records,
// the gateway entry's configuration and `kiln serve --queue` flags.
import { describe, expect, it } from "vitest";
import type { Prediction } from "../../src/runtime/core/prediction.js";
import { barePrediction } from "../helpers/prediction.js";
import { applyWire, decodeWire, encodeWire, terminalWire, toWire } from "../../src/fleet/events.js";
import { decodeJob, encodeJob, JobFormatError, type Job } from "../../src/fleet/job.js";
import { makeKeys } from "../../src/fleet/keys.js";
import { compareIds } from "../../src/fleet/mirrors.js";
import { gatewayConfig } from "../../src/fleet/gateway-config.js";
import { queueFromEnv } from "../../src/fleet/options.js";
import { modelNameFromImage, queueEnv } from "../../src/cli/queue-options.js";

const make = (iterator = false, createdAt?: Date): Prediction => barePrediction({ iterator, createdAt });

describe("events on the wire", () => {
  it("a mirror replaying the replica's events ends in the same state, timestamps and history", () => {
    const created = new Date("2026-01-01T00:00:00.000Z");
    const replica = make(true, created);
    const wire: string[][] = [];
    replica.subscribe((e, p) => wire.push(encodeWire(toWire(e, p))));
    replica.markProcessing(new Date("2026-01-01T00:00:01.000Z"));
    replica.addLog("stdout", "hello\n");
    replica.addOutputChunk("a");
    replica.setMetric("tokens", 2, "incr");
    replica.setMetric("tokens", 3, "incr");
    replica.addOutputChunk("b");
    replica.finish("succeeded", {}, new Date("2026-01-01T00:00:03.500Z"));

    const mirror = make(true, created);
    for (const fields of wire) applyWire(mirror, decodeWire(fields)!);
    expect(mirror.snapshot()).toEqual(replica.snapshot());
    expect(mirror.snapshot()).toMatchObject({
      output: ["a", "b"],
      metrics: { tokens: 5, predict_time: 2.5 },
    });
    expect(mirror.history.map((e) => e.type)).toEqual(replica.history.map((e) => e.type));
  });

  it("a list returned whole (no streamed chunks) still reaches the mirror", () => {
    const replica = make(true);
    const wire: string[][] = [];
    replica.subscribe((e, p) => wire.push(encodeWire(toWire(e, p))));
    replica.markProcessing();
    replica.finish("succeeded", { output: ["x", "y"] });
    const mirror = make(true);
    for (const f of wire) applyWire(mirror, decodeWire(f)!);
    expect(mirror.snapshot().output).toEqual(["x", "y"]);
  });

  it("terminal events written by Lua-side decisions and malformed entries", () => {
    const p = make();
    applyWire(p, terminalWire("failed", "the replica running this prediction was lost"));
    expect(p.snapshot()).toMatchObject({
      status: "failed",
      error: "the replica running this prediction was lost",
    });
    expect(decodeWire(["t", "bogus", "d", "{}"])).toBeNull();
    expect(decodeWire(["t", "log", "d", "{not json"])).toBeNull();
    expect(decodeWire(["x", "1"])).toBeNull();
  });

  it("stream ids order numerically, not as text", () => {
    expect(compareIds("10-0", "9-5")).toBeGreaterThan(0);
    expect(compareIds("5-10", "5-9")).toBeGreaterThan(0);
    expect(compareIds("5-1", "5-1")).toBe(0);
  });
});

describe("job records and keys", () => {
  it("round-trips a job and rejects broken ones with a reason", () => {
    const job: Job = {
      id: "p",
      kind: "train",
      destination: "acme/m-tuned",
      model: "acme/m",
      version: "v",
      base: "http://gw",
      input: { a: 1 },
      publicInput: { a: 1 },
      iterator: false,
      created_at: new Date(0).toISOString(),
      webhook: { url: "http://hook", filter: ["completed"] },
      files: { "http://gw/v1/files/abc": "abc" },
      cache: "refresh",
    };
    expect(decodeJob(encodeJob(job))).toEqual(job);
    // A job from a gateway that predates the cache directive, or with a value it never wrote: the default.
    const { cache: _cache, ...uncached } = job;
    expect(decodeJob(JSON.stringify(uncached)).cache).toBe("use");
    expect(decodeJob(JSON.stringify({ ...job, cache: "sometimes" })).cache).toBe("use");
    expect(() => decodeJob(null)).toThrow(JobFormatError);
    expect(() => decodeJob("{")).toThrow(/not JSON/);
    expect(() => decodeJob('{"id":"x"}')).toThrow(/lacks/);
    // Jobs queued before trainings existed are predictions.
    const { kind: _kind, destination: _destination, ...beforeTrainings } = job;
    expect(decodeJob(JSON.stringify(beforeTrainings))).toMatchObject({ kind: "predict", destination: null });
  });

  it("names every key under the prefix", () => {
    const k = makeKeys("t:");
    expect(k.queue("sha256:ab")).toBe("t:queue:sha256:ab");
    expect(k.prediction("p")).toBe("t:prediction:p");
    expect(k.events("p")).toBe("t:events:p");
    expect(k.modelVersions("acme/m")).toBe("t:model:acme/m:versions");
    expect(makeKeys().index).toBe("kiln:predictions");
    expect(makeKeys().trainings).toBe("kiln:trainings");
    expect(k.cache.entry("abc")).toBe("t:cache:entry:abc");
    expect(k.cache.flight("abc")).toBe("t:cache:flight:abc");
    expect(k.cache.prefix).toBe("t:cache:");
  });
});

describe("configuration", () => {
  it("the gateway entry reads flags and the environment, with clear errors", () => {
    expect(gatewayConfig(["--redis", "redis://r:1", "--port=7000"], { KILN_QUEUE_SIZE: "5" })).toMatchObject({
      redisUrl: "redis://r:1",
      port: 7000,
      host: "0.0.0.0",
      queueSize: 5,
    });
    expect(gatewayConfig([], { KILN_REDIS: "redis://x:2", PORT: "81", KILN_API_TOKEN: "t" })).toMatchObject({
      redisUrl: "redis://x:2",
      port: 81,
      apiToken: "t",
    });
    expect(() => gatewayConfig([], {})).toThrow(/pass --redis redis:\/\/HOST:PORT/);
    expect(() => gatewayConfig(["--redis", "http://x"], {})).toThrow(/not a Redis URL/);
    expect(() => gatewayConfig(["--bogus"], {})).toThrow(/unknown argument/);
  });

  it("queue mode from the environment", () => {
    expect(queueFromEnv({})).toBeNull();
    expect(
      queueFromEnv({
        KILN_QUEUE: "redis://h:1",
        KILN_QUEUE_LEASE: "2.5",
        KILN_QUEUE_ON_LOST: "fail",
        KILN_DRAIN_TIMEOUT: "10",
      }),
    ).toEqual({
      redisUrl: "redis://h:1",
      leaseMs: 2500,
      onLost: "fail",
      retentionMs: undefined,
      drainTimeoutMs: 10_000,
      prefix: undefined,
    });
    expect(() => queueFromEnv({ KILN_QUEUE: "redis://h", KILN_QUEUE_ON_LOST: "maybe" })).toThrow(
      /retry or fail/,
    );
    expect(() => queueFromEnv({ KILN_QUEUE: "redis://h", KILN_QUEUE_LEASE: "0" })).toThrow(/positive number/);
    expect(queueFromEnv({ KILN_QUEUE: "redis://h", KILN_CACHE_LOCK_TIMEOUT: "5" })?.cacheLockMs).toBe(5_000);
    expect(() => queueFromEnv({ KILN_QUEUE: "redis://h", KILN_CACHE_LOCK_TIMEOUT: "soon" })).toThrow(
      /KILN_CACHE_LOCK_TIMEOUT must be a positive number of seconds/,
    );
  });

  it("kiln serve --queue flags become the KILN_QUEUE environment", async () => {
    expect(await queueEnv({}, "kiln/x")).toEqual({});
    expect(
      await queueEnv({ queue: "redis://127.0.0.1:6379", lease: "5", onLost: "fail" }, "kiln/sdxl"),
    ).toEqual({
      KILN_QUEUE: "redis://127.0.0.1:6379",
      KILN_QUEUE_LEASE: "5",
      KILN_QUEUE_ON_LOST: "fail",
      KILN_MODEL: "kiln/sdxl",
    });
    expect((await queueEnv({ queue: "redis://h:1", model: "acme/m" }, "kiln/x")).KILN_MODEL).toBe("acme/m");
    await expect(queueEnv({ queue: "nope" }, undefined)).rejects.toThrow(/not a Redis URL/);
    await expect(queueEnv({ queue: "redis://h", onLost: "x" }, undefined)).rejects.toThrow(/retry or fail/);
    await expect(queueEnv({ queue: "redis://h", lease: "-1" }, undefined)).rejects.toThrow(/--lease must be/);
    await expect(queueEnv({ model: "no-slash" }, undefined)).rejects.toThrow(/owner\/name/);
    expect(modelNameFromImage("127.0.0.1:5001/team/sdxl:v2")).toBe("kiln/sdxl");
    expect(modelNameFromImage("sdxl@sha256:abc")).toBe("kiln/sdxl");
  });
});
