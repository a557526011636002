"""kiln's Python worker: `python3 -u kiln_worker.py --predictor predict.py:Predictor --root DIR [--train ...]
[--schema-only]`. Speaks src/runtime/protocol.ts on fds 3 (in) and 4 (out). Standard library only."""

import os
import sys

# kiln's `cog` package lives beside this file and must win over any other `cog` on the path.
_HERE = os.path.dirname(os.path.abspath(__file__))
if sys.path[0] != _HERE:
    sys.path.insert(0, _HERE)

if sys.version_info < (3, 10):
    sys.stderr.write(f"kiln needs Python 3.10 or newer for Python predictors; this is {sys.version.split()[0]}\n")
    sys.exit(1)

from cog.server.main import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
