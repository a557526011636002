/**
 * Optional bearer-token auth for the whole server (the router's guard). Without a configured token any
 * (or no) token is accepted, like a local dev server should; with one, a missing or wrong token is a 401
 * before anything else happens, on every route not registered as public.
 */
import type { IncomingMessage } from "node:http";
import { nodeCrypto } from "../lazy-builtins.js";
import { hostedError } from "./errors.js";

const digest = (s: string): Buffer => nodeCrypto().createHash("sha256").update(s).digest();

export function makeAuthCheck(token: string | undefined): (req: IncomingMessage) => void {
  if (!token) return () => undefined;
  let expected: Buffer | undefined; // hashed on the first request: node:crypto loads when needed
  return (req) => {
    expected ??= digest(token);
    const header = req.headers.authorization ?? "";
    // "Bearer" is what the replicate clients send; "Token" is the older hosted scheme.
    const m = /^(?:Bearer|Token)\s+(.+)$/i.exec(header.trim());
    if (!m || !nodeCrypto().timingSafeEqual(digest(m[1]!), expected)) {
      throw hostedError(
        401,
        "Unauthenticated",
        m ? "the API token is not valid" : "missing Authorization: Bearer <token> header",
        {
          "www-authenticate": 'Bearer realm="kiln"',
        },
      );
    }
  };
}
