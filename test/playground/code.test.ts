import { execFileSync, spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import {
  curlSnippet,
  envName,
  javascriptSnippet,
  pythonLiteral,
  pythonSnippet,
  type CallSpec,
} from "../../src/playground/page/code.js";

const tricky = {
  prompt: 'it\'s $HOME and `date` \\ "quoted"\nsecond line ✓',
  steps: 30,
  scale: 1.5,
  flag: false,
  tags: ["a", "b"],
  extra: { nested: [1, null, true] },
};

const spec = (over: Partial<CallSpec> = {}): CallSpec => ({
  base: "http://127.0.0.1:5000",
  model: "kiln/hello",
  version: "abc123",
  input: tricky,
  secrets: [],
  token: false,
  ...over,
});

/** Runs a curl snippet with `curl` replaced by a shell function that prints its body and arguments. */
function curlBody(snippet: string, env: Record<string, string> = {}): { args: string; body: unknown } {
  const script = `curl() { printf '%s\\n' "$*" >&2; cat; }\n${snippet}\n`;
  const r = spawnSync("bash", ["-c", script], { env: { PATH: process.env.PATH, ...env }, encoding: "utf8" });
  return { args: r.stderr, body: JSON.parse(r.stdout) };
}

describe("copy as code", () => {
  it("curl: the shell passes the inputs through exactly, pinned to the version", () => {
    const r = curlBody(curlSnippet(spec()));
    expect(r.body).toEqual({ version: "abc123", input: tricky });
    expect(r.args).toContain("-X POST http://127.0.0.1:5000/v1/predictions");
    expect(r.args).toContain("Prefer: wait");
    expect(r.args).not.toContain("Authorization");
  });

  it("curl: secrets and the token come from the environment, everything else stays literal", () => {
    const r = curlBody(
      curlSnippet(spec({ input: { ...tricky, api_key: "typed-in" }, secrets: ["api_key"], token: true })),
      {
        API_KEY: "from-env",
        KILN_API_TOKEN: "tok",
      },
    );
    expect(r.body).toEqual({ version: "abc123", input: { ...tricky, api_key: "from-env" } });
    expect(r.args).toContain("Authorization: Bearer tok");
    expect(curlSnippet(spec({ input: { api_key: "typed-in" }, secrets: ["api_key"] }))).not.toContain(
      "typed-in",
    );
  });

  it("python: literals evaluate to the same values", () => {
    const literal = pythonLiteral(tricky);
    const out = execFileSync("python3", ["-c", `import json,sys; print(json.dumps(${literal}))`], {
      encoding: "utf8",
    });
    expect(JSON.parse(out)).toEqual(tricky);
  });

  it("python: the script compiles, reads secrets and the token from the environment", () => {
    const code = pythonSnippet(
      spec({ input: { ...tricky, api_key: "typed" }, secrets: ["api_key"], token: true }),
    );
    expect(code).toContain('os.environ["API_KEY"]');
    expect(code).toContain('"Authorization": "Bearer " + os.environ["KILN_API_TOKEN"]');
    expect(code).not.toContain('"typed"');
    execFileSync("python3", ["-c", `import ast,sys; ast.parse(sys.stdin.read())`], { input: code });
  });

  it("javascript: uses the replicate client with baseUrl and the pinned version", () => {
    const code = javascriptSnippet(
      spec({ input: { prompt: "hi", "odd-key": 1, api_key: "x" }, secrets: ["api_key"] }),
    );
    expect(code).toContain('baseUrl: "http://127.0.0.1:5000/v1"');
    expect(code).toContain('replicate.run("kiln/hello:abc123"');
    expect(code).toContain('"odd-key": 1,');
    expect(code).toContain("api_key: process.env.API_KEY,");
    expect(code).toContain('auth: process.env.KILN_API_TOKEN ?? "local"');
    // The object literal is valid JavaScript: evaluate it.
    const literal = /input: (\{[\s\S]*?\n {2}\}),/.exec(code)![1]!;
    const value = new Function("process", `return (${literal});`)({ env: { API_KEY: "k" } }) as unknown;
    expect(value).toEqual({ prompt: "hi", "odd-key": 1, api_key: "k" });
  });

  it("names environment variables after the input", () => {
    expect(envName("api_key")).toBe("API_KEY");
    expect(envName("hf-token")).toBe("HF_TOKEN");
    expect(envName("2fa")).toBe("_2FA");
  });
});
