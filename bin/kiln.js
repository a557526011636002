#!/usr/bin/env node
// The published entry point. It checks the Node version first, written so that any Node can parse it
// (no top-level await, no node: imports), so an older Node prints one line instead of a stack trace;
// everything else lives in the compiled CLI. Keep NEED in step with "engines" in package.json.
var NEED = [20, 12];
var have = process.versions.node.split(".").map(Number);
if (have[0] < NEED[0] || (have[0] === NEED[0] && have[1] < NEED[1])) {
  process.stderr.write(
    "kiln needs Node.js " +
      NEED.join(".") +
      " or newer; this is Node.js " +
      process.versions.node +
      ". Install a current Node.js 20 or later (https://nodejs.org) and run kiln again.\n",
  );
  process.exit(1);
}
import("../dist/cli/main.js").then(
  function (cli) {
    return cli.main(process.argv).then(function (code) {
      process.exitCode = code;
    });
  },
  function (err) {
    // Only an incomplete installation gets here (the CLI reports its own errors).
    process.stderr.write(
      "kiln cannot start: " +
        (err && err.message) +
        "\nReinstall kiln-ml (in a clone of kiln: npm run build).\n",
    );
    process.exitCode = 70;
  },
);
