#!/usr/bin/python3
"""dsse-tamper.py IN.intoto.jsonl OUT: the last envelope of IN with one
byte of its payload changed (the first digit of the first subject digest),
re-encoded, written to OUT -- the forgery twin of dsse-verify.py."""
import base64
import json
import sys

env = json.loads(open(sys.argv[1], encoding="utf-8").read().splitlines()[-1])
body = bytearray(base64.b64decode(env["payload"]))
i = body.index(b'"sha256":"') + 10
body[i] = ord("0") if body[i] != ord("0") else ord("1")
env["payload"] = base64.b64encode(bytes(body)).decode()
with open(sys.argv[2], "w", encoding="utf-8") as f:
    f.write(json.dumps(env) + "\n")
