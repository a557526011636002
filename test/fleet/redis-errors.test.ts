// Which Redis failures the fleet answers with 503 (retry later) rather than a 500: the messages are
// the ones ioredis and Redis itself produce while a server restarts or loads its append-only file.
import { describe, expect, it } from "vitest";
import { asUnavailable, RedisUnavailableError } from "../../src/fleet/redis.js";

const URL_WITH_PASSWORD = "redis://:s3cret@127.0.0.1:6399/0";

describe("asUnavailable", () => {
  it.each([
    "LOADING Redis is loading the dataset in memory",
    "Connection is closed.",
    'Reached the max retries per request limit (which is 20). Refer to "maxRetriesPerRequest" option for details.',
    "Stream isn't writeable and enableOfflineQueue options is false",
    "connect ECONNREFUSED 127.0.0.1:6399",
    "read ECONNRESET",
    "TRYAGAIN Multiple keys request during rehashing of slot",
  ])("%s → unavailable, without the password", (message) => {
    const err = asUnavailable(new Error(message), URL_WITH_PASSWORD);
    expect(err).toBeInstanceOf(RedisUnavailableError);
    expect((err as Error).message).toContain(message);
    expect((err as Error).message).not.toContain("s3cret");
  });

  it.each([
    "WRONGTYPE Operation against a key holding the wrong kind of value",
    "ERR unknown command 'FOO'",
    "NOSCRIPT No matching script",
  ])("%s → passed through unchanged", (message) => {
    const original = new Error(message);
    expect(asUnavailable(original, URL_WITH_PASSWORD)).toBe(original);
  });
});
