/**
 * The optional URL policy for file inputs (KILN_DENY_PRIVATE_URLS=1): a server exposed to untrusted
 * clients can refuse downloads whose host resolves to a loopback, private, link-local, CGNAT or
 * unspecified address, so a client cannot make the model's server fetch from inside its network.
 * Checked for the URL and every redirect hop. Residual risk (documented): DNS can change between the
 * check and the connection (rebinding); a network policy at the host is the complete answer.
 */
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";

function v4(ip: string): number[] | null {
  const parts = ip.split(".").map(Number);
  return parts.length === 4 && parts.every((n) => Number.isInteger(n) && n >= 0 && n <= 255) ? parts : null;
}

/** True for addresses a public URL should never reach. */
export function isPrivateAddress(ip: string): boolean {
  const a = ip.toLowerCase().replace(/^\[|\]$/g, "");
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (mapped) return isPrivateAddress(mapped[1]!);
  const p = v4(a);
  if (p) {
    const [x, y] = p as [number, number];
    return (
      x === 0 || // "this network", 0.0.0.0
      x === 10 ||
      x === 127 ||
      (x === 100 && y >= 64 && y <= 127) || // CGNAT
      (x === 169 && y === 254) || // link-local (cloud metadata)
      (x === 172 && y >= 16 && y <= 31) ||
      (x === 192 && y === 168) ||
      x >= 224 // multicast, reserved, broadcast
    );
  }
  if (isIP(a) !== 6) return false;
  if (a === "::" || a === "::1") return true;
  const first = parseInt(a.split(":")[0] || "0", 16);
  return (
    (first & 0xfe00) === 0xfc00 || // unique local fc00::/7
    (first & 0xffc0) === 0xfe80 || // link-local fe80::/10
    (first & 0xff00) === 0xff00 // multicast
  );
}

/** Throws (with the address) when `url`'s host is, or resolves to, a private address. */
export async function assertPublicUrl(url: URL): Promise<void> {
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const addresses = isIP(host) ? [host] : (await lookup(host, { all: true })).map((r) => r.address);
  const bad = addresses.find(isPrivateAddress);
  if (bad !== undefined)
    throw new Error(
      `${url.host} resolves to ${bad}, a private/loopback/link-local address, refused (KILN_DENY_PRIVATE_URLS)`,
    );
}
