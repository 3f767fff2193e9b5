#!/usr/bin/env bash
# Generates the Python gRPC stubs of epgfn_sampler from proto/ with the
# system protoc and grpc_python_plugin (Debian: protobuf-compiler,
# protobuf-compiler-grpc). Run from the repository root:
#
#   client/python/gen_stubs.sh                 # -> client/python/epgfn_sampler/proto/
#   client/python/gen_stubs.sh OUT_DIR a.proto b.proto ...
#
# The stubs become the subpackage epgfn_sampler.proto: protoc writes
# `from proto import x_pb2` for imports rooted at the repository, which is
# rewritten to a relative import so nothing lands in the top-level namespace.
# Bazel runs this too (//client/python:sampler_stubs).
set -euo pipefail

out="${1:-client/python/epgfn_sampler/proto}"
shift || true
protos=("$@")
if ((${#protos[@]} == 0)); then
  protos=(proto/sampler.proto)
fi
plugin=$(command -v grpc_python_plugin) || {
  echo "gen_stubs.sh: grpc_python_plugin not found (Debian package protobuf-compiler-grpc)" >&2
  exit 1
}
command -v protoc >/dev/null || {
  echo "gen_stubs.sh: protoc not found (Debian package protobuf-compiler)" >&2
  exit 1
}
tmp=$(mktemp -d)
trap 'rm -rf "${tmp}"' EXIT
protoc --proto_path=. --python_out="${tmp}" --grpc_python_out="${tmp}" \
  --plugin=protoc-gen-grpc_python="${plugin}" "${protos[@]}"
mkdir -p "${out}"
: >"${out}/__init__.py"
for generated in "${tmp}"/proto/*.py; do
  sed -e 's/^from proto import /from . import /' "${generated}" \
    >"${out}/$(basename "${generated}")"
done
