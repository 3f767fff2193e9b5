"""Builds epgfn_sampler's gRPC stubs from the repository's proto/ before
setuptools packages epgfn_sampler (the metadata is in pyproject.toml).

The stubs are generated with the system protoc and grpc_python_plugin
(Debian: protobuf-compiler, protobuf-compiler-grpc) by gen_stubs.sh, the
script Bazel runs too, unless epgfn_sampler/proto/ already holds them. They
must exist before setuptools lists the packages, hence at import time.
"""

import os
import subprocess

from setuptools import setup

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
STUBS = os.path.join(HERE, "epgfn_sampler", "proto")


def generate_stubs() -> None:
    if os.path.exists(os.path.join(STUBS, "sampler_pb2_grpc.py")):
        return
    if not os.path.exists(os.path.join(REPO, "proto", "sampler.proto")):
        raise RuntimeError(
            "epgfn_sampler: no stubs in epgfn_sampler/proto and no "
            f"{REPO}/proto/sampler.proto to build them from; install from a "
            "checkout of the repository")
    subprocess.run(["bash", os.path.join(HERE, "gen_stubs.sh"), STUBS,
                    "proto/sampler.proto"], cwd=REPO, check=True)


generate_stubs()
setup()
