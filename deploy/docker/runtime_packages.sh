#!/usr/bin/env bash
# Prints, one per line, the Debian packages that provide the shared libraries
# the given binaries load: the runtime stage of the images installs exactly
# these, so the list follows the build instead of being kept by hand.
#
#   deploy/docker/runtime_packages.sh bazel-bin/server/epgfn_server ...
set -euo pipefail

if [[ $# -lt 1 ]]; then
  echo "usage: $0 BINARY..." >&2
  exit 2
fi
libs=()
for binary in "$@"; do
  [[ -x "${binary}" ]] || { echo "not an executable: ${binary}" >&2; exit 1; }
  if ldd "${binary}" | grep -q "not found"; then
    echo "${binary} has unresolved libraries:" >&2
    ldd "${binary}" | grep "not found" >&2
    exit 1
  fi
  # "libfoo.so.1 => /lib/x86_64-linux-gnu/libfoo.so.1 (0x...)"; only system
  # libraries come from packages (Bazel's own solib links do not).
  while read -r path; do
    libs+=("${path}" "$(readlink -f "${path}")")
  done < <(ldd "${binary}" |
    awk '$2 == "=>" && $3 ~ /^\/(usr\/)?lib/ { print $3 }')
done
((${#libs[@]} > 0)) || exit 0
# dpkg knows a file by the path its package installed, which may be the
# symlink or its target, under /lib or /usr/lib (merged /usr): ask for every
# form in one dpkg call (each call reads the whole database) and map back.
owners=$(printf '%s\n' "${libs[@]}" |
  sed -e 'p' -e 's#^/usr/lib/#/lib/#p' -e 's#^/lib/#/usr/lib/#' | sort -u |
  xargs dpkg -S 2>/dev/null || true)
# Every library must come from a package, or the runtime image would lack
# it; for a symlink and its target, either one being known is enough.
for ((i = 0; i < ${#libs[@]}; i += 2)); do
  link="${libs[i]}" target="${libs[i + 1]}"
  if grep -qF -e ": ${link}" -e ": ${target}" \
      -e ": ${link/#\/usr\/lib\//\/lib\/}" -e ": ${link/#\/lib\//\/usr\/lib\/}" \
      -e ": ${target/#\/usr\/lib\//\/lib\/}" \
      -e ": ${target/#\/lib\//\/usr\/lib\/}" <<<"${owners}"; then
    continue
  fi
  echo "no Debian package provides ${link} (${target})" >&2
  exit 1
done
sed 's/: .*//; s/, /\n/g' <<<"${owners}" | sort -u
