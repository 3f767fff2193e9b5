#!/usr/bin/env bash
# Fails when README.md lacks a flag of a shipped binary or a field of the
# federation config (the list comes from the binaries and protos themselves).
set -euo pipefail
cd "${TEST_SRCDIR}/${TEST_WORKSPACE}"
exec python3 tests/docs/reference.py check README.md \
  server/epgfn_server client/epgfn_client client/epgfn_sample \
  client/epgfn_health_probe client/epgfn_admin \
  -- proto/federation_spec.proto proto/model.proto
