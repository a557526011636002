/** Parts of the generated Python runtime best checked without a server: where the token goes. */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generatePython } from "../../src/client-gen/python.js";
import { fixtureModel, runPython, scratchProject } from "./helpers.js";

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ dir, cleanup } = await scratchProject("pyrt"));
  await writeFile(
    join(dir, "rt_client.py"),
    generatePython(await fixtureModel(), { kilnVersion: "0", command: "x" }),
  );
});
afterAll(() => cleanup());

describe("generated Python transport", () => {
  it("sends the API token to the API's origin only, never to a file host", async () => {
    const got = await runPython(
      dir,
      [
        "import io, json, urllib.request, rt_client as c",
        "seen = []",
        "class Fake(io.BytesIO):",
        "    def __enter__(self): return self",
        "    def __exit__(self, *a): return False",
        "def fake_urlopen(req, timeout=None):",
        "    seen.append((req.full_url, req.get_header('Authorization')))",
        '    return Fake(b\'{"id": "p1", "status": "succeeded"}\')',
        "urllib.request.urlopen = fake_urlopen",
        "client = c.Client(auth='tok', base_url='https://api.example.com/v1')",
        "client.get('p1')",
        "client._download('https://files.example.net/out.png')",
        "client._download('https://API.example.com/v1/files/f1/download')",
        "print(json.dumps(seen))",
      ].join("\n"),
    );
    expect(got).toEqual([
      ["https://api.example.com/v1/predictions/p1", "Bearer tok"],
      ["https://files.example.net/out.png", null],
      ["https://API.example.com/v1/files/f1/download", "Bearer tok"],
    ]);
  });
});
