"""An implementation of the process protocol that misbehaves on purpose, to test how the client reports it.

    python misbehaving.py MODE STATE_FILE

Serves the reference correctly (through :mod:`stochmem.protocol.server`) except on the first ``encode`` request
of the first process (the one that finds no STATE_FILE: a restarted process behaves), where MODE decides what
happens: ``crash`` (writes to stderr and exits 3), ``hang`` (never answers), ``garbage``
(answers a line that is not JSON), ``wrong-id`` (answers another id), ``short`` (answers one stream too few),
``refuse`` (answers an error reply). ``old-protocol`` answers the handshake with protocol 0; ``crash-always``
crashes on every ``encode`` of every process.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from stochmem.protocol.server import Session
from stochmem.reference_backend import ReferenceBackend


def main(mode: str, state: Path) -> int:
    session = Session(ReferenceBackend())
    misbehaved = state.exists()
    state.touch()
    for line in sys.stdin:
        request = json.loads(line)
        reply = session.answer(line)
        if request["op"] == "hello" and mode == "old-protocol":
            reply["result"]["protocol"] = 0
        if request["op"] == "encode" and mode == "crash-always":
            return 3
        if request["op"] == "encode" and not misbehaved:
            misbehaved = True
            if mode == "crash":
                print("stochmem-fake: segmentation fault in encode (on purpose)", file=sys.stderr, flush=True)
                return 3
            if mode == "hang":
                time.sleep(3600)
            if mode == "garbage":
                print("encode: 3 streams", flush=True)
                continue
            if mode == "wrong-id":
                reply["id"] += 1
            if mode == "short":
                reply["result"]["streams"].pop()
            if mode == "refuse":
                reply = {"id": request["id"], "error": {"code": "failed", "message": "no stream unit on this board"}}
        print(json.dumps(reply), flush=True)
        if request["op"] == "bye":
            return 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1], Path(sys.argv[2])))
