#!/usr/bin/env bash
# The main job on the bundled example: provision the machine (Docker engine, offline base images), build
# kiln, then build examples/hello-ts into an image and run one prediction in a container.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/test-env.sh
npm run build
cd examples/hello-ts
# No image registry is reachable here: build on the locally made base images (the custom base image path).
export KILN_BASE_IMAGE="${KILN_BASE_IMAGE:-kiln-test/node}"
export KILN_NODE_IMAGE="${KILN_NODE_IMAGE:-kiln-test/node}"
node ../../bin/kiln.js predict --progress plain -i name=Ada -i times=2 -i style=shout
