/**
 * Talks the OCI distribution API (v2) directly: credential checks for `kiln login` and manifest +
 * config reads for `kiln inspect` (labels without pulling any layer). Handles Basic and Bearer
 * challenges, https with an optional CA, and plain http for loopback / KILN_INSECURE_REGISTRIES.
 */
import { createHash } from "node:crypto";
import { AuthError, RegistryError } from "../errors.js";
import type { Credentials } from "./credentials.js";
import { httpRequest, isLoopback, isTlsMismatch, networkError, type HttpResponse } from "./http.js";
import { registryApiHost } from "./reference.js";

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parses `Bearer realm="...",service="...",scope="..."` (one challenge; the first if several). */
export function parseChallenge(header: string | undefined): Challenge | undefined {
  if (!header) return undefined;
  const match = /^\s*(\w+)\s*(.*)$/.exec(header);
  if (!match) return undefined;
  const params: Record<string, string> = {};
  const re = /(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g;
  for (let m = re.exec(match[2] ?? ""); m; m = re.exec(match[2] ?? "")) {
    params[(m[1] ?? "").toLowerCase()] = (m[2] ?? m[3] ?? "").replace(/\\(.)/g, "$1");
  }
  return { scheme: (match[1] ?? "").toLowerCase(), params };
}

const MANIFEST_TYPES = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
];

export interface RegistryClientOptions {
  credentials?: Credentials | undefined;
  ca?: Buffer | undefined;
  timeoutMs?: number;
}

export interface RemoteImage {
  /** Digest of the manifest the tag points at (an index for multi-platform images). */
  digest: string;
  mediaType: string;
  /** Digest of the platform manifest whose config we read (equals `digest` for single images). */
  manifestDigest: string;
  config: {
    architecture?: string;
    os?: string;
    created?: string;
    config?: { Labels?: Record<string, string> | null };
  };
  layers: { digest: string; size: number }[];
}

export class RegistryClient {
  private base: string | undefined;
  private authHeader: string | undefined;

  constructor(
    readonly registry: string,
    private readonly options: RegistryClientOptions = {},
  ) {}

  /** https, or http when the registry is loopback / listed insecure and does not speak TLS. */
  private async baseUrl(): Promise<string> {
    if (this.base) return this.base;
    const host = registryApiHost(this.registry);
    try {
      await httpRequest(`https://${host}/v2/`, {
        ca: this.options.ca,
        timeoutMs: this.options.timeoutMs ?? 10_000,
      });
      this.base = `https://${host}`;
    } catch (err) {
      if (!(isTlsMismatch(err) && insecureAllowed(this.registry))) throw networkError(this.registry, err);
      this.base = `http://${host}`;
    }
    return this.base;
  }

  private async get(
    path: string,
    headers: Record<string, string> = {},
    scope?: string,
  ): Promise<HttpResponse> {
    const url = `${await this.baseUrl()}${path}`;
    const send = async (): Promise<HttpResponse> => {
      try {
        return await httpRequest(url, {
          headers: { ...headers, ...(this.authHeader ? { Authorization: this.authHeader } : {}) },
          ca: this.options.ca,
          timeoutMs: this.options.timeoutMs ?? 30_000,
        });
      } catch (err) {
        throw networkError(this.registry, err);
      }
    };
    let res = await send();
    if (res.status === 401) {
      await this.authenticate(res, scope);
      res = await send();
      if (res.status === 401 || res.status === 403) throw this.denied(res);
    }
    return res;
  }

  /** Answers a 401 challenge: Basic uses the credentials, Bearer fetches a token from the realm. */
  private async authenticate(res: HttpResponse, scope?: string): Promise<void> {
    const challenge = parseChallenge(headerValue(res.headers["www-authenticate"]));
    const creds = this.options.credentials;
    const basic = creds
      ? `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString("base64")}`
      : undefined;
    if (challenge?.scheme === "basic") {
      if (!basic) throw this.denied(res);
      this.authHeader = basic;
      return;
    }
    if (challenge?.scheme !== "bearer" || !challenge.params.realm) {
      throw new RegistryError(
        `Registry ${this.registry} asked for an authentication scheme kiln does not support.`,
        {
          details: [`WWW-Authenticate: ${headerValue(res.headers["www-authenticate"]) ?? "(none)"}`],
        },
      );
    }
    const url = new URL(challenge.params.realm);
    if (challenge.params.service) url.searchParams.set("service", challenge.params.service);
    const wanted = scope ?? challenge.params.scope;
    if (wanted) url.searchParams.set("scope", wanted);
    if (creds) url.searchParams.set("account", creds.username);
    let tokenRes: HttpResponse;
    try {
      tokenRes = await httpRequest(url.toString(), {
        headers: basic ? { Authorization: basic } : {},
        ca: this.options.ca,
        timeoutMs: this.options.timeoutMs ?? 30_000,
      });
    } catch (err) {
      throw networkError(url.host, err);
    }
    if (tokenRes.status === 401 || tokenRes.status === 403) throw this.denied(tokenRes);
    if (tokenRes.status !== 200) {
      throw new RegistryError(`The token service of ${this.registry} answered HTTP ${tokenRes.status}.`);
    }
    const body = JSON.parse(tokenRes.body.toString("utf8")) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw new RegistryError(`The token service of ${this.registry} returned no token.`);
    this.authHeader = `Bearer ${token}`;
  }

  private denied(res: HttpResponse): AuthError {
    const creds = this.options.credentials;
    const why = creds ? `the credentials of "${creds.username}" were rejected` : "it requires authentication";
    return new AuthError(`Registry ${this.registry} refused access: ${why} (HTTP ${res.status}).`, {
      hint: `Log in with: kiln login ${this.registry} --username <user> --password-stdin`,
    });
  }

  /** Checks the credentials (or anonymous access) against GET /v2/. Throws AuthError when refused. */
  async verify(): Promise<void> {
    const res = await this.get("/v2/");
    if (res.status !== 200) {
      throw new RegistryError(
        `Registry ${this.registry} answered /v2/ with HTTP ${res.status}; is it an OCI registry?`,
      );
    }
  }

  /** Manifest + config of `repository:reference` (tag or digest), choosing linux/amd64 in an index. */
  async image(repository: string, reference: string): Promise<RemoteImage> {
    const scope = `repository:${repository}:pull`;
    const top = await this.manifest(repository, reference, scope);
    let manifest = top;
    if (Array.isArray(top.json.manifests)) {
      const entries = top.json.manifests as {
        digest: string;
        platform?: { os?: string; architecture?: string };
      }[];
      const pick =
        entries.find((m) => m.platform?.os === "linux" && m.platform.architecture === "amd64") ??
        entries.find((m) => m.platform?.os !== "unknown");
      if (!pick)
        throw new RegistryError(`${repository}:${reference} in ${this.registry} is an empty image index.`);
      manifest = await this.manifest(repository, pick.digest, scope);
    }
    const configRef = manifest.json.config as { digest?: string } | undefined;
    if (!configRef?.digest)
      throw new RegistryError(`The manifest of ${repository}:${reference} has no config blob.`);
    const blob = await this.get(`/v2/${repository}/blobs/${configRef.digest}`, {}, scope);
    if (blob.status !== 200)
      throw new RegistryError(
        `Registry ${this.registry} answered HTTP ${blob.status} for the config blob of ${repository}.`,
      );
    const layers = ((manifest.json.layers as { digest: string; size: number }[] | undefined) ?? []).map(
      (l) => ({ digest: l.digest, size: l.size }),
    );
    return {
      digest: top.digest,
      mediaType: top.mediaType,
      manifestDigest: manifest.digest,
      config: JSON.parse(blob.body.toString("utf8")) as RemoteImage["config"],
      layers,
    };
  }

  private async manifest(
    repository: string,
    reference: string,
    scope: string,
  ): Promise<{ digest: string; mediaType: string; json: Record<string, unknown> }> {
    const res = await this.get(
      `/v2/${repository}/manifests/${reference}`,
      { Accept: MANIFEST_TYPES.join(", ") },
      scope,
    );
    if (res.status === 404) {
      throw new RegistryError(`${repository}:${reference} was not found in registry ${this.registry}.`, {
        hint: "Check the name and tag; `kiln push` prints the exact reference it pushed.",
      });
    }
    if (res.status !== 200)
      throw new RegistryError(
        `Registry ${this.registry} answered HTTP ${res.status} for the manifest of ${repository}:${reference}.`,
      );
    const digest =
      headerValue(res.headers["docker-content-digest"]) ??
      `sha256:${createHash("sha256").update(res.body).digest("hex")}`;
    const json = JSON.parse(res.body.toString("utf8")) as Record<string, unknown>;
    const mediaType =
      (json.mediaType as string | undefined) ?? headerValue(res.headers["content-type"]) ?? "";
    return { digest, mediaType, json };
  }
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Like Docker: loopback registries may use plain HTTP, and so may those in KILN_INSECURE_REGISTRIES. */
export function insecureAllowed(
  registry: string,
  env: Record<string, string | undefined> = process.env,
): boolean {
  if (isLoopback(registry)) return true;
  const list = (env.KILN_INSECURE_REGISTRIES ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  return list.includes(registry);
}
