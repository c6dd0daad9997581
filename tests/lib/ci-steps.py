#!/usr/bin/env python3
"""Print the shell of a CI snippet's signing job, for t0555 to run locally.

usage: ci-steps.py github|gitlab FILE
github: the `run` of the sign job's steps, except the build step and the
        release upload (they need a real project and GitHub).
gitlab: the sign job's script, except the line that sets a token push URL.
Each step runs in a subshell with `set -e`, so a failing step stops the job.
"""
import sys

import yaml

SKIP_GITHUB = ("Build", "Attach the signatures to the release", "Verify with signgate and openssl")


def main():
    kind, path = sys.argv[1], sys.argv[2]
    with open(path) as f:
        doc = yaml.safe_load(f)
    steps = []
    if kind == "github":
        for step in doc["jobs"]["sign"]["steps"]:
            if "run" in step and step.get("name") not in SKIP_GITHUB:
                steps.append(step["run"])
    else:
        for line in doc["sign"]["script"]:
            if "NOTES_PUSH_TOKEN" not in line:
                steps.append(line)
    for s in steps:
        print("( set -e\n%s\n) || exit $?" % s)


if __name__ == "__main__":
    main()
