/** The command a model container runs: the image's, with kiln's flags added where its server takes them. */
import { describe, expect, it } from "vitest";
import { runsKilnServer, serverCmd } from "../../src/docker/server-command.js";

const KILN = ["node", "--max-semi-space-size=1", "/kiln/server.mjs"];
const COG = ["python", "-m", "cog.server.http"];
const HOST = ["--host", "127.0.0.1"];

describe("serverCmd", () => {
  it("adds --host and the extra flags to kiln's and Cog's servers, and keeps other commands", () => {
    expect(serverCmd(KILN, HOST)).toEqual([...KILN, ...HOST]);
    expect(serverCmd(COG, HOST, { extra: ["--upload-url", "http://u/"] })).toEqual([
      ...COG,
      ...HOST,
      "--upload-url",
      "http://u/",
    ]);
    expect(serverCmd([...KILN, "--host", "0.0.0.0"], HOST)).toEqual([...KILN, "--host", "0.0.0.0"]);
    expect(serverCmd(["/bin/my-server"], HOST)).toBeUndefined();
    expect(serverCmd(undefined, HOST)).toBeUndefined();
    // Nothing to add: the image's own command runs (bridge networking publishes the port instead).
    expect(serverCmd(KILN, [])).toBeUndefined();
  });

  it("starts kiln's server for one request without the semi-space flag, in either spelling", () => {
    expect(serverCmd(KILN, HOST, { oneRequest: true })).toEqual(["node", "/kiln/server.mjs", ...HOST]);
    // Also when nothing else is added: the command is given to drop the flag.
    expect(serverCmd(KILN, [], { oneRequest: true })).toEqual(["node", "/kiln/server.mjs"]);
    const spaced = ["node", "--max-semi-space-size", "1", "--max-old-space-size=512", "/kiln/server.mjs"];
    expect(serverCmd(spaced, [], { oneRequest: true })).toEqual([
      "node",
      "--max-old-space-size=512",
      "/kiln/server.mjs",
    ]);
    // Only node's flags before the server's path: the server's own arguments stay as they are.
    const after = ["node", "/kiln/server.mjs", "--max-semi-space-size=1"];
    expect(serverCmd(after, [], { oneRequest: true })).toBeUndefined();
    // A long-running server (kiln serve) and Cog's server keep theirs.
    expect(serverCmd(KILN, HOST, { oneRequest: false })).toEqual([...KILN, ...HOST]);
    expect(serverCmd(COG, [], { oneRequest: true })).toBeUndefined();
  });

  it("recognises kiln's server by its path", () => {
    expect(runsKilnServer(KILN)).toBe(true);
    expect(runsKilnServer(COG)).toBe(false);
    expect(runsKilnServer(undefined)).toBe(false);
  });
});
