/**
 * Standard Webhooks signing for /v1 webhooks: `webhook-id`, `webhook-timestamp` and
 * `webhook-signature: v1,<base64 HMAC-SHA256("id.timestamp.body")>` keyed by a `whsec_` secret.
 */
import { nodeCrypto } from "../lazy-builtins.js";
import { randomBytes } from "../random.js";

const PREFIX = "whsec_";

export class InvalidWebhookSecretError extends Error {}

/** A fresh secret: `whsec_` + base64 of 32 random bytes. */
export function generateWebhookSecret(): string {
  return PREFIX + randomBytes(32).toString("base64");
}

/** The HMAC key inside a secret; throws a clear error for anything that is not `whsec_<base64>`. */
export function secretKey(secret: string): Buffer {
  const b64 = secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : "";
  const key = Buffer.from(b64, "base64");
  if (
    b64.length === 0 ||
    key.length < 16 ||
    key.toString("base64").replace(/=+$/, "") !== b64.replace(/=+$/, "")
  ) {
    throw new InvalidWebhookSecretError(
      "the webhook secret must look like whsec_<base64 of at least 16 bytes> (e.g. whsec_ + `openssl rand -base64 32`)",
    );
  }
  return key;
}

export function signPayload(
  key: Buffer,
  id: string,
  timestamp: number,
  body: string | readonly Buffer[],
): string {
  const hmac = nodeCrypto().createHmac("sha256", key).update(`${id}.${timestamp}.`);
  for (const piece of typeof body === "string" ? [body] : body) hmac.update(piece);
  return hmac.digest("base64");
}

/**
 * Header factory for WebhookSender: called per delivery attempt, so the timestamp is fresh; the id is
 * derived from the body so retries of the same message keep the same `webhook-id` (receivers dedupe).
 */
export function webhookSigner(
  secret: string,
  now: () => number = Date.now,
): (body: string | readonly Buffer[]) => Record<string, string> {
  const key = secretKey(secret);
  return (body) => {
    const hash = nodeCrypto().createHash("sha256");
    for (const piece of typeof body === "string" ? [body] : body) hash.update(piece);
    const id = "msg_" + hash.digest("hex").slice(0, 32);
    const timestamp = Math.floor(now() / 1000);
    return {
      "webhook-id": id,
      "webhook-timestamp": String(timestamp),
      "webhook-signature": `v1,${signPayload(key, id, timestamp, body)}`,
    };
  };
}
