"""Checks command lines in deployment files against the flags the binaries
actually accept (their --helpfull), since flags drift while manifests, units
and Dockerfiles are edited by hand. Standard library only."""

import os
import re
import subprocess

_FLAG_LINE = re.compile(r"^\s+--([A-Za-z0-9_]+) \(")
_cache = {}


def accepted_flags(binary_path):
    """The flag names `binary_path --helpfull` lists."""
    if binary_path not in _cache:
        result = subprocess.run([binary_path, "--helpfull"],
                                stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT,
                                universal_newlines=True,
                                timeout=120)
        names = set()
        for line in result.stdout.splitlines():
            match = _FLAG_LINE.match(line)
            if match:
                names.add(match.group(1))
        if "flagfile" not in names or len(names) < 6:
            raise RuntimeError("could not read the flags of %s:\n%s" %
                               (binary_path, result.stdout[-2000:]))
        _cache[binary_path] = names
    return _cache[binary_path]


def check_args(binary_path, args, where, notes):
    """Errors (strings) for args that are not flags `binary_path` accepts.

    `where` names the place in messages; `notes` collects remarks that
    should be printed but do not fail the check."""
    binary = os.path.basename(binary_path)
    flags = accepted_flags(binary_path)
    errors = []
    for arg in args:
        if not arg.startswith("--"):
            errors.append("%s: %s takes flags only, got '%s'" %
                          (where, binary, arg))
            continue
        name = arg[2:].split("=", 1)[0]
        if name in flags:
            continue
        if name.startswith("no") and name[2:] in flags and "=" not in arg:
            continue
        errors.append("%s: %s does not accept --%s (see %s --helpfull)" %
                      (where, binary, name, binary))
    return errors
