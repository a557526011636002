"""`python -m cog.server.http`: what RunPod's cog-worker and Cog's raw-Docker instructions run inside a
Cog image. In a kiln image it starts kiln's server (node /kiln/server.mjs) with the same port and flags.

Cog's flags: --host, --upload-url, --await-explicit-shutdown, --threads (kiln's server needs no thread
pool: ignored), --x-mode predict|train (kiln serves both on one server). The port comes from $PORT.
"""

import argparse
import os
import shutil
import sys
from typing import List, Optional

DEFAULT_SERVER = "/kiln/server.mjs"


def server_command(argv: Optional[List[str]] = None) -> List[str]:
    parser = argparse.ArgumentParser(prog="python -m cog.server.http",
                                     description="start the kiln predict server (Cog-compatible flags)")
    parser.add_argument("--host", default=None)
    parser.add_argument("--port", default=None, help="default: $PORT, else 5000")
    parser.add_argument("--upload-url", dest="upload_url", default=None)
    parser.add_argument("--await-explicit-shutdown", dest="await_explicit_shutdown", nargs="?", const="true",
                        default=None, choices=("true", "false"))
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--x-mode", dest="mode", default="predict", choices=("predict", "train"))
    args = parser.parse_args(argv)
    server = os.environ.get("KILN_SERVER", DEFAULT_SERVER)
    if not os.path.isfile(server):
        raise SystemExit(f"kiln's server is not at {server}: `python -m cog.server.http` works inside a kiln image "
                         "(use `kiln serve` on your machine)")
    node = shutil.which("node")
    if node is None:
        raise SystemExit("node is not on PATH, but kiln's server needs it (it is in every kiln image)")
    command = [node, server]
    if args.host:
        command += ["--host", args.host]
    if args.port:
        command += ["--port", str(args.port)]
    if args.upload_url:
        command += ["--upload-url", args.upload_url]
    if args.await_explicit_shutdown:
        command += ["--await-explicit-shutdown", args.await_explicit_shutdown]
    if args.threads is not None:
        sys.stderr.write("cog.server.http: --threads is ignored (kiln's server does not use a thread pool)\n")
    return command


def main(argv: Optional[List[str]] = None) -> None:
    command = server_command(argv)
    sys.stderr.flush()
    os.execv(command[0], command)


if __name__ == "__main__":
    main()
