#!/usr/bin/env python3
"""The systemd units: `systemd-analyze verify` (offline, on copies whose
ExecStart points at the built binaries) must pass without a warning; the
hardening options are set; ExecStart passes only flags the binaries accept
(their --helpfull); every ${VAR} it uses is set by the env file that
deploy/provision.sh writes; every credential it reads (%d/NAME) is loaded,
and every file the unit loads exists in the kit folder it expects under
/etc/epgfn. Also prints `systemd-analyze security` exposure scores."""

import os
import re
import shutil
import subprocess
import sys
import tempfile

RUNFILES = os.path.join(os.environ["TEST_SRCDIR"],
                        os.environ.get("TEST_WORKSPACE", "epgfn"))
sys.path.insert(0, os.path.join(RUNFILES, "deploy", "testing"))
import flagcheck  # noqa: E402
import report  # noqa: E402

UNITS = os.path.join(RUNFILES, "deploy", "systemd")
BINARIES = {
    "epgfn_server": os.path.join(RUNFILES, "server", "epgfn_server"),
    "epgfn_client": os.path.join(RUNFILES, "client", "epgfn_client"),
}
HARDENING = {
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "DynamicUser": "yes",
    "Restart": "on-failure",
    "UMask": "0077",
    "CapabilityBoundingSet": "",
}
INSTANCE = "hospital-a"

errors = []
notes = []


def parse_unit(path):
    """(section, key) -> list of values, continuation lines joined."""
    entries = {}
    section = None
    pending = ""
    with open(path) as f:
        for raw in f:
            line = pending + raw.rstrip("\n")
            if line.endswith("\\"):
                pending = line[:-1] + " "
                continue
            pending = ""
            stripped = line.strip()
            if not stripped or stripped.startswith(("#", ";")):
                continue
            if stripped.startswith("["):
                section = stripped.strip("[]")
                continue
            key, _, value = stripped.partition("=")
            entries.setdefault((section, key.strip()), []).append(
                value.strip())
    return entries


def expand(value, instance):
    return value.replace("%i", instance).replace("%S", "/var/lib")


def read_env_file(path):
    values = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                key, _, value = line.partition("=")
                values[key] = value
    return values


def check_unit(unit_file, kit, instance):
    where = unit_file
    entries = parse_unit(os.path.join(UNITS, unit_file))
    service = lambda key: entries.get(("Service", key), [])  # noqa: E731
    for key, want in HARDENING.items():
        if service(key) != [want]:
            errors.append("%s: %s=%s, want %s" % (where, key, service(key),
                                                  want))
    for key in ("User", "StateDirectory", "ReadOnlyPaths", "EnvironmentFile"):
        if not service(key):
            errors.append("%s: no %s=" % (where, key))
    if entries.get(("Install", "WantedBy")) != ["multi-user.target"]:
        errors.append("%s: not WantedBy=multi-user.target" % where)

    # Files under /etc/epgfn/<party>/ must be in the kit's <party>/ folder.
    def kit_path(path):
        path = expand(path, instance)
        if not path.startswith("/etc/epgfn/"):
            errors.append("%s: %s is outside /etc/epgfn" % (where, path))
            return None
        return os.path.join(kit, path[len("/etc/epgfn/"):])

    for path in service("ReadOnlyPaths"):
        local = kit_path(path)
        if local and not os.path.isdir(local):
            errors.append("%s: ReadOnlyPaths %s is no kit folder" %
                          (where, path))
    credentials = set()
    for value in service("LoadCredential"):
        name, _, path = value.partition(":")
        credentials.add(name)
        local = kit_path(path)
        if local and not os.path.isfile(local):
            errors.append("%s: LoadCredential %s: the kit has no %s" %
                          (where, name, path))
    env = {}
    for path in service("EnvironmentFile"):
        local = kit_path(path.lstrip("-"))
        if local and os.path.isfile(local):
            env.update(read_env_file(local))
        elif local:
            errors.append("%s: the kit has no EnvironmentFile %s" %
                          (where, path))

    exec_start = service("ExecStart")
    if len(exec_start) != 1:
        errors.append("%s: want one ExecStart, got %d" % (where,
                                                          len(exec_start)))
        return
    words = exec_start[0].split()
    binary = os.path.basename(words[0])
    if binary not in BINARIES or not words[0].startswith("/usr/local/bin/"):
        errors.append("%s: ExecStart runs %s" % (where, words[0]))
        return
    flags = []
    for word in words[1:]:
        if re.fullmatch(r"\$[A-Z_]+", word):  # extra flags, word-split
            if word[1:] not in env:
                errors.append("%s: %s is not set by the env file" %
                              (where, word))
            continue
        for variable in re.findall(r"\$\{([A-Za-z_]+)\}", word):
            if variable not in env:
                errors.append("%s: ${%s} is not set by the env file" %
                              (where, variable))
        for credential in re.findall(r"%d/([A-Za-z0-9._-]+)", word):
            if credential not in credentials:
                errors.append("%s: %%d/%s is no LoadCredential" %
                              (where, credential))
        flags.append(word)
    errors.extend(
        flagcheck.check_args(BINARIES[binary], flags, where + " ExecStart",
                             notes))
    state = service("StateDirectory")
    if state and ("--state_dir=%S/" + state[0]) not in flags:
        errors.append("%s: --state_dir is not the StateDirectory" % where)


def verify(work):
    """systemd-analyze verify on copies that run the built binaries."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        notes.append("systemd-analyze is not installed; structural checks "
                     "only")
        return
    copies = []
    for unit_file, name in (("epgfn-server.service", "epgfn-server.service"),
                            ("epgfn-client@.service",
                             "epgfn-client@%s.service" % INSTANCE)):
        with open(os.path.join(UNITS, unit_file)) as f:
            text = f.read()
        for binary, path in BINARIES.items():
            text = text.replace("/usr/local/bin/" + binary, path)
        copy = os.path.join(work, name)
        with open(copy, "w") as f:
            f.write(text)
        copies.append(copy)
    result = subprocess.run([analyze, "verify"] + copies,
                            stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT,
                            universal_newlines=True,
                            timeout=120)
    # Unknown keys and bad values are warnings with exit status 0: any
    # output about our units fails the test.
    output = "\n".join(line for line in result.stdout.splitlines()
                       if "epgfn" in line)
    if result.returncode != 0 or output:
        errors.append("systemd-analyze verify:\n" + result.stdout)
    for copy in copies:
        security = subprocess.run(
            [analyze, "security", "--offline=yes", copy],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            universal_newlines=True,
            timeout=120)
        match = re.search(r"Overall exposure level for \S+: ([0-9.]+) (\w+)",
                          security.stdout)
        if match:
            print("systemd-analyze security %s: exposure %s %s" %
                  (os.path.basename(copy), match.group(1), match.group(2)))
            if float(match.group(1)) > 4.0:
                errors.append("%s: exposure %s, want <= 4.0" %
                              (copy, match.group(1)))


def main():
    work = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
    kit = os.path.join(work, "kit")
    subprocess.run([
        "bash",
        os.path.join(RUNFILES, "deploy", "provision.sh"),
        "--federation=units", "--clients=" + INSTANCE,
        "--server-dns=fed.example.org", "--out=" + kit
    ],
                   check=True,
                   stdout=subprocess.DEVNULL)
    check_unit("epgfn-server.service", kit, "")
    check_unit("epgfn-client@.service", kit, INSTANCE)
    verify(work)
    return report.finish(errors, notes)


if __name__ == "__main__":
    sys.exit(main())
