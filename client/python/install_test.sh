#!/usr/bin/env bash
# `pip install ./client/python` as a user does it, offline: into a virtual
# environment over Debian's python3-grpcio/protobuf/numpy (--system-site-
# packages), from a copy of the checkout. Then, from another folder: the
# package and its generated stubs import, and SampleResult gives plain data
# and numpy arrays.
set -euo pipefail

runfiles="${TEST_SRCDIR:?}/${TEST_WORKSPACE:-epgfn}"
work="${TEST_TMPDIR:?}/python_install"
rm -rf "${work}"
mkdir -p "${work}/checkout/client" "${work}/checkout/proto" "${work}/elsewhere"
# A checkout's layout: the package folder and the proto it builds from.
cp -rL "${runfiles}/client/python" "${work}/checkout/client/python"
cp -L "${runfiles}/proto/sampler.proto" "${work}/checkout/proto/"
rm -rf "${work}/checkout/client/python/epgfn_sampler/proto"

/usr/bin/python3 -m venv --system-site-packages "${work}/venv"
(cd "${work}/checkout" &&
  "${work}/venv/bin/pip" install --no-index --no-build-isolation \
    ./client/python >"${work}/pip.log" 2>&1) || {
  cat "${work}/pip.log" >&2
  echo "FAIL: pip install ./client/python" >&2
  exit 1
}
cd "${work}/elsewhere"
"${work}/venv/bin/python" - <<'PY'
import math
import epgfn_sampler
from epgfn_sampler import SampleResult, SampledObject
from epgfn_sampler.proto import sampler_pb2, sampler_pb2_grpc

assert "site-packages" in epgfn_sampler.__file__, epgfn_sampler.__file__
assert hasattr(sampler_pb2_grpc, "SamplerStub")
result = SampleResult(3, [SampledObject((1, 2), "(1,2)", -0.5),
                          SampledObject((3, 0), "(3,0)", math.nan)])
assert result.states == [(1, 2), (3, 0)], result.states
arrays = result.to_numpy()
assert arrays["states"].shape == (2, 2), arrays["states"].shape
assert str(arrays["states"].dtype) == "int64"
assert arrays["states"].tolist() == [[1, 2], [3, 0]]
assert arrays["log_probabilities"][0] == -0.5
assert math.isnan(arrays["log_probabilities"][1])
print("PASS")
PY
