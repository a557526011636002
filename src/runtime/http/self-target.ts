/**
 * Does a URL point back at this server? A webhook that does (e.g. its own /shutdown, or a prediction
 * endpoint, looping) is refused: the server must never be made to call itself on a client's behalf.
 */
import type { IncomingMessage } from "node:http";
import { isIP } from "node:net";
import { networkInterfaces } from "node:os";

function defaultPort(u: URL): number {
  if (u.port) return Number(u.port);
  return u.protocol === "https:" ? 443 : 80;
}

function bare(hostname: string): string {
  return hostname.replace(/^\[|\]$/g, "").toLowerCase();
}

function isLocalName(host: string): boolean {
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  if (host === "0.0.0.0" || host === "::" || host === "::1") return true;
  if (isIP(host) === 4 && host.startsWith("127.")) return true;
  if (host.startsWith("::ffff:")) return isLocalName(host.slice(7));
  for (const addrs of Object.values(networkInterfaces()))
    for (const a of addrs ?? []) if (bare(a.address) === host) return true;
  return false;
}

/** True when `target` names this server: our port on a local address, or the Host the client used. */
export function pointsAtSelf(target: URL, req: IncomingMessage, port: number): boolean {
  const host = bare(target.hostname);
  const targetPort = defaultPort(target);
  const via = req.headers.host;
  if (via) {
    try {
      const u = new URL(`http://${via}`);
      if (bare(u.hostname) === host && defaultPort(u) === targetPort) return true;
    } catch {
      // a malformed Host header names nothing we can compare with
    }
  }
  return targetPort === port && isLocalName(host);
}
