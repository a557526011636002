// random.ts: kernel random bytes for ids and markers, so a server need not load node:crypto for them.
import { describe, expect, it } from "vitest";
import { fillRandom, randomBytes } from "../../src/runtime/random.js";
import { newPredictionId } from "../../src/runtime/ids.js";

describe("random bytes without node:crypto", () => {
  it("fills the whole buffer, differently each time", () => {
    const a = randomBytes(4096);
    const b = randomBytes(4096);
    expect(a).toHaveLength(4096);
    expect(a.equals(b)).toBe(false);
    // 4096 random bytes hold (nearly) every byte value; a buffer left unfilled would not.
    expect(new Set(a).size).toBeGreaterThan(200);
    const zero = Buffer.alloc(64);
    expect(fillRandom(zero)).toBe(zero);
    expect(zero.equals(Buffer.alloc(64))).toBe(false);
  });

  it("prediction ids stay 26 lower-case base32 characters and unique across pool refills", () => {
    const ids = new Set(Array.from({ length: 2000 }, () => newPredictionId()));
    expect(ids.size).toBe(2000);
    for (const id of ids) expect(id).toMatch(/^[a-z2-7]{26}$/);
  });
});
