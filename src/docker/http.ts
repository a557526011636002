/**
 * Minimal HTTP(S) client for registry calls, on node:http/https so a custom CA (`--ca-cert`) can be
 * given per request. Network failures become RegistryErrors that name the registry.
 */
import * as http from "node:http";
import * as https from "node:https";
import { RegistryError } from "../errors.js";

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface HttpRequestOptions {
  method?: string;
  headers?: Record<string, string>;
  ca?: Buffer | undefined;
  timeoutMs?: number;
  /** Refuse bodies larger than this (manifests and configs are small). */
  maxBytes?: number;
}

const TLS_MISMATCH = new Set([
  "EPROTO",
  "ERR_SSL_WRONG_VERSION_NUMBER",
  "ECONNRESET",
  "ERR_SSL_PACKET_LENGTH_TOO_LONG",
]);
const CERT_CODES = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

/** True when an https attempt failed because the server speaks plain HTTP. */
export function isTlsMismatch(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === "string" && TLS_MISMATCH.has(code);
}

function isCertificateError(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === "string" && CERT_CODES.has(code);
}

/** One request; follows up to 5 redirects (dropping Authorization when the host changes). */
export async function httpRequest(
  url: string,
  options: HttpRequestOptions = {},
  redirects = 5,
): Promise<HttpResponse> {
  const res = await once(url, options);
  const location = res.headers.location;
  if ([301, 302, 303, 307, 308].includes(res.status) && location && redirects > 0) {
    const next = new URL(location, url);
    const headers = { ...options.headers };
    if (next.host !== new URL(url).host) delete headers.Authorization;
    return httpRequest(next.toString(), { ...options, headers }, redirects - 1);
  }
  return res;
}

function once(url: string, options: HttpRequestOptions): Promise<HttpResponse> {
  const target = new URL(url);
  const lib = target.protocol === "https:" ? https : http;
  const maxBytes = options.maxBytes ?? 32 * 1024 * 1024;
  return new Promise((resolve, reject) => {
    const req = lib.request(
      target,
      {
        method: options.method ?? "GET",
        headers: { "User-Agent": "kiln", ...options.headers },
        timeout: options.timeoutMs ?? 15_000,
        ...(target.protocol === "https:" && options.ca ? { ca: options.ca } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBytes) {
            req.destroy(new Error(`response from ${target.host} is larger than ${maxBytes} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on("error", reject);
      },
    );
    req.on("timeout", () =>
      req.destroy(Object.assign(new Error("request timed out"), { code: "ETIMEDOUT" })),
    );
    req.on("error", reject);
    req.end();
  });
}

/** Turns a transport failure into a RegistryError that names the registry and what to check. */
export function networkError(registry: string, err: unknown): RegistryError {
  const code = (err as { code?: unknown }).code;
  const detail = err instanceof Error ? err.message : String(err);
  if (isCertificateError(err)) {
    return new RegistryError(`The TLS certificate of registry ${registry} is not trusted: ${detail}`, {
      hint: "Pass the registry's CA certificate with --ca-cert FILE, or add it to the system trust store.",
      cause: err,
    });
  }
  const hint =
    code === "ENOTFOUND" || code === "EAI_AGAIN"
      ? `The host name does not resolve: check the registry name "${registry}".`
      : `Check that the registry ${registry} is running and reachable from here.`;
  return new RegistryError(`Cannot reach registry ${registry}: ${detail}`, { hint, cause: err });
}

export function isLoopback(registry: string): boolean {
  const host = registry.replace(/:\d+$/, "").replace(/^\[|\]$/g, "");
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}
