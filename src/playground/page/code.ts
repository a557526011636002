/**
 * "Copy as code": the prediction the form describes as a curl command, a script for the `replicate` JS
 * client and a Python script (standard library only), pinned to the model version and with the inputs
 * as entered. Secret inputs and the API token are read from environment variables instead of being
 * pasted into the code. Pure, so each snippet is unit-tested and executed by the browser suite.
 */
import type { Json } from "./fields.js";

export interface CallSpec {
  /** The server's base URL, without /v1 (e.g. http://127.0.0.1:5000). */
  base: string;
  /** `owner/name` as the server reports it. */
  model: string;
  version: string;
  input: Record<string, Json>;
  /** Inputs that are secrets: taken from an environment variable named after the input. */
  secrets: string[];
  /** The server wants a bearer token (--api-token): read it from $KILN_API_TOKEN. */
  token: boolean;
}

export type Language = "curl" | "javascript" | "python";

export const LANGUAGES: { id: Language; label: string }[] = [
  { id: "curl", label: "curl" },
  { id: "javascript", label: "JavaScript (replicate)" },
  { id: "python", label: "Python" },
];

/** API_KEY for `api_key`: the environment variable a secret input is read from. */
export function envName(input: string): string {
  const name = input.replace(/[^A-Za-z0-9]+/g, "_").toUpperCase();
  return /^[0-9]/.test(name) ? `_${name}` : name;
}

const INDENT = "  ";
const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function indentRest(text: string, pad: string): string {
  return text.replace(/\n/g, `\n${pad}`);
}

/** A JSON value as Python source (True/False/None; JSON strings are valid Python literals). */
export function pythonLiteral(v: Json, pad = ""): string {
  if (v === null) return "None";
  if (v === true) return "True";
  if (v === false) return "False";
  if (typeof v === "number" || typeof v === "string") return JSON.stringify(v);
  const inner = pad + "    ";
  if (Array.isArray(v)) {
    if (v.length === 0) return "[]";
    return `[\n${v.map((x) => `${inner}${pythonLiteral(x, inner)},`).join("\n")}\n${pad}]`;
  }
  const entries = Object.entries(v);
  if (entries.length === 0) return "{}";
  return `{\n${entries.map(([k, x]) => `${inner}${JSON.stringify(k)}: ${pythonLiteral(x, inner)},`).join("\n")}\n${pad}}`;
}

function shellSingle(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export function curlSnippet(c: CallSpec): string {
  const secrets = new Set(c.secrets.filter((s) => s in c.input));
  const lines = [`curl -sS -X POST ${shellSingle(`${c.base}/v1/predictions`)} \\`];
  if (c.token) lines.push(`  -H "Authorization: Bearer $KILN_API_TOKEN" \\`);
  lines.push(`  -H 'Content-Type: application/json' \\`, `  -H 'Prefer: wait' \\`);
  if (secrets.size === 0) {
    const body = JSON.stringify({ version: c.version, input: c.input }, null, 2);
    lines.push(`  --data-binary @- <<'JSON'`, body, "JSON");
    return lines.join("\n");
  }
  // An unquoted here-document expands $NAME: escape what the shell would otherwise read in the JSON.
  // Input names are identifiers, so the marker holds nothing the escaping below would touch.
  const marker = (name: string): string => `__kiln_secret_${name}__`;
  const input: Record<string, Json> = {};
  for (const [k, v] of Object.entries(c.input)) input[k] = secrets.has(k) ? marker(k) : v;
  let body = JSON.stringify({ version: c.version, input }, null, 2).replace(/[\\$`]/g, (ch) => `\\${ch}`);
  for (const name of secrets) body = body.replace(JSON.stringify(marker(name)), `"\${${envName(name)}}"`);
  lines.push(`  --data-binary @- <<JSON`, body, "JSON");
  return lines.join("\n");
}

function jsValue(v: Json, pad: string): string {
  return indentRest(JSON.stringify(v, null, 2), pad);
}

export function javascriptSnippet(c: CallSpec): string {
  const secrets = new Set(c.secrets);
  const pad = INDENT.repeat(2);
  const entries = Object.entries(c.input).map(([k, v]) => {
    const key = IDENT.test(k) ? k : JSON.stringify(k);
    const value = secrets.has(k) ? `process.env.${envName(k)}` : jsValue(v, pad);
    return `${pad}${key}: ${value},`;
  });
  const input = entries.length === 0 ? "{}" : `{\n${entries.join("\n")}\n${INDENT}}`;
  return [
    `import Replicate from "replicate";`,
    ``,
    `const replicate = new Replicate({`,
    `  auth: ${c.token ? "process.env.KILN_API_TOKEN" : `process.env.KILN_API_TOKEN ?? "local"`},`,
    `  baseUrl: ${JSON.stringify(`${c.base}/v1`)},`,
    `  useFileOutput: false,`,
    `});`,
    ``,
    `const output = await replicate.run(${JSON.stringify(`${c.model}:${c.version}`)}, {`,
    `  input: ${input},`,
    `});`,
    `console.log(JSON.stringify(output));`,
  ].join("\n");
}

export function pythonSnippet(c: CallSpec): string {
  const secrets = new Set(c.secrets);
  const pad = INDENT.repeat(4);
  const entries = Object.entries(c.input).map(([k, v]) => {
    const value = secrets.has(k) ? `os.environ[${JSON.stringify(envName(k))}]` : pythonLiteral(v, pad);
    return `${pad}${JSON.stringify(k)}: ${value},`;
  });
  const input = entries.length === 0 ? "{}" : `{\n${entries.join("\n")}\n    }`;
  const headers = [`"Content-Type": "application/json"`, `"Prefer": "wait"`];
  if (c.token) headers.push(`"Authorization": "Bearer " + os.environ["KILN_API_TOKEN"]`);
  return [
    `import json`,
    `import os`,
    `import time`,
    `import urllib.request`,
    ``,
    `BASE = ${JSON.stringify(c.base)}`,
    `HEADERS = {${headers.join(", ")}}`,
    `body = {`,
    `    "version": ${JSON.stringify(c.version)},`,
    `    "input": ${input},`,
    `}`,
    ``,
    ``,
    `def call(url, data=None):`,
    `    request = urllib.request.Request(url, data=data, headers=HEADERS)`,
    `    with urllib.request.urlopen(request) as response:`,
    `        return json.load(response)`,
    ``,
    ``,
    `prediction = call(BASE + "/v1/predictions", json.dumps(body).encode())`,
    `# Prefer: wait holds the request up to 60 s; a longer prediction is polled.`,
    `while prediction["status"] in ("starting", "processing"):`,
    `    time.sleep(0.5)`,
    `    prediction = call(prediction["urls"]["get"])`,
    `if prediction["status"] != "succeeded":`,
    `    raise SystemExit(f"prediction {prediction['status']}: {prediction.get('error')}")`,
    `print(json.dumps(prediction["output"]))`,
  ].join("\n");
}

export function snippet(lang: Language, c: CallSpec): string {
  switch (lang) {
    case "curl":
      return curlSnippet(c);
    case "javascript":
      return javascriptSnippet(c);
    case "python":
      return pythonSnippet(c);
  }
}
