#!/usr/bin/env python3
"""No container engine runs here, so this reads the Dockerfiles instead: a
Debian 12 builder that runs deploy/setup.sh and Bazel, a Debian 12 runtime
stage without a compiler; every COPY source, script and Bazel target they
name exists; every binary the runtime stage runs was built and copied in;
the flags of ENTRYPOINT/CMD/HEALTHCHECK are ones the binaries accept (their
--helpfull); every kit file they read (/etc/epgfn/kit/...) is in the party
folder deploy/provision.sh writes; the user is not root. It also runs
deploy/docker/runtime_packages.sh on the health probe to check that the
runtime package list holds libraries, not compilers."""

import json
import os
import re
import shlex
import subprocess
import sys
import tempfile

RUNFILES = os.path.join(os.environ["TEST_SRCDIR"],
                        os.environ.get("TEST_WORKSPACE", "epgfn"))
sys.path.insert(0, os.path.join(RUNFILES, "deploy", "testing"))
import flagcheck  # noqa: E402
import report  # noqa: E402

DOCKER = os.path.join(RUNFILES, "deploy", "docker")
# Where each image's kit comes from (a party folder of provision.sh).
IMAGES = {
    "server.Dockerfile": "server",
    "client.Dockerfile": "client-hospital-a",
}
COMPILERS = re.compile(r"\b(g\+\+|gcc|clang|bazel(-bootstrap)?|build-essential"
                       r"|[a-z0-9.+-]+-dev)\b")

errors = []
notes = []


def parse(path):
    """[(stage index, instruction, arguments)], continuations joined."""
    instructions = []
    stage = -1
    pending = ""
    with open(path) as f:
        for raw in f:
            line = raw.rstrip("\n")
            if not pending and line.lstrip().startswith("#"):
                continue
            if line.endswith("\\"):
                pending += line[:-1] + " "
                continue
            line = re.sub(r"\s+", " ", pending + line).strip()
            pending = ""
            if not line:
                continue
            instruction, _, arguments = line.partition(" ")
            instruction = instruction.upper()
            if instruction == "FROM":
                stage += 1
            instructions.append((stage, instruction, arguments.strip()))
    return instructions


def command_words(arguments):
    """An exec-form JSON array or a shell-form command, as words."""
    if arguments.startswith("["):
        return json.loads(arguments)
    return shlex.split(arguments)


def check_flags(where, words, final_binaries):
    """Checks each `/usr/local/bin/X --flags...` run in `words`."""
    for i, word in enumerate(words):
        if not word.startswith("/usr/local/bin/"):
            continue
        binary = os.path.basename(word)
        if binary not in final_binaries:
            errors.append("%s runs %s, which the image does not contain" %
                          (where, word))
            continue
        flags = []
        for arg in words[i + 1:]:
            if not arg.startswith("--"):
                break
            flags.append(arg)
        errors.extend(
            flagcheck.check_args(binary_path(binary), flags, where, notes))


def binary_path(binary):
    for package in ("server", "client"):
        path = os.path.join(RUNFILES, package, binary)
        if os.path.isfile(path):
            return path
    raise FileNotFoundError(binary)


def check_dockerfile(name, kit_folder):
    instructions = parse(os.path.join(DOCKER, name))
    stages = [a for _, i, a in instructions if i == "FROM"]
    if len(stages) != 2:
        errors.append("%s: want a builder and a runtime stage, got %s" %
                      (name, stages))
        return
    if not re.fullmatch(r"debian:12\S* AS builder", stages[0]):
        errors.append("%s: the builder is not Debian 12: %s" %
                      (name, stages[0]))
    if not re.fullmatch(r"debian:12(-slim)?", stages[1]):
        errors.append("%s: the runtime stage is not Debian 12: %s" %
                      (name, stages[1]))

    built = set()  # bazel-bin paths the builder builds
    produced = set()  # files the builder leaves under /out
    final_binaries = set()
    final_user = None
    kit_files = set()
    for stage, instruction, arguments in instructions:
        where = "%s: %s %s" % (name, instruction, arguments[:60])
        kit_files |= set(re.findall(r"/etc/epgfn/kit/([A-Za-z0-9._-]+)",
                                    arguments))
        if instruction == "COPY":
            words = shlex.split(arguments)
            source_stage = None
            if words[0].startswith("--from="):
                source_stage = words.pop(0)[len("--from="):]
            sources = words[:-1]
            for source in sources:
                if source_stage is None:
                    if source != "." and not os.path.exists(
                            os.path.join(RUNFILES, source)):
                        errors.append("%s: %s is not in the repository" %
                                      (where, source))
                    if source == "." and stage != 0:
                        errors.append("%s: the runtime stage copies the "
                                      "whole repository" % where)
                elif source not in produced:
                    errors.append("%s: the builder does not produce %s" %
                                  (where, source))
                elif stage == 1 and words[-1].startswith("/usr/local/bin"):
                    final_binaries.add(os.path.basename(source))
        elif instruction == "RUN":
            for script in re.findall(r"\bbash (\S+\.sh)", arguments):
                if not os.path.isfile(os.path.join(RUNFILES, script)):
                    errors.append("%s: script %s is not in the repository" %
                                  (where, script))
            for package, target in re.findall(r"//([\w/]+):([\w.-]+)",
                                              arguments):
                if not os.path.isfile(os.path.join(RUNFILES, package,
                                                   target)):
                    errors.append("%s: //%s:%s is not a binary of the build"
                                  % (where, package, target))
                built.add("bazel-bin/%s/%s" % (package, target))
            for match in re.finditer(r"\bcp ((?:bazel-bin/\S+ )+)/out/bin/",
                                     arguments):
                for path in match.group(1).split():
                    if path not in built:
                        errors.append("%s: copies %s, which it does not "
                                      "build" % (where, path))
                    produced.add("/out/bin/" + os.path.basename(path))
            produced |= set(re.findall(r">(/out/\S+)", arguments))
            if stage == 1:
                for token in re.findall(r"apt-get install ([^&|;]+)",
                                        arguments):
                    if COMPILERS.search(token):
                        errors.append("%s: the runtime stage installs a "
                                      "compiler or headers" % where)
        elif instruction == "USER" and stage == 1:
            final_user = arguments
        elif instruction in ("ENTRYPOINT", "CMD") and stage == 1:
            words = command_words(arguments)
            if instruction == "CMD":
                entry = [a for s, i, a in instructions
                         if s == 1 and i == "ENTRYPOINT"]
                words = command_words(entry[-1]) + words if entry else words
            check_flags(where, words, final_binaries)
        elif instruction == "HEALTHCHECK" and stage == 1:
            command = arguments.split(" CMD ", 1)
            if len(command) != 2 or "epgfn_health_probe" not in command[1]:
                errors.append("%s: the health check does not use "
                              "epgfn_health_probe" % name)
            else:
                # Shell form: drop the guard before `||`.
                words = command_words(command[1].split("||")[-1].strip())
                check_flags(where, words, final_binaries)
    final = [i for s, i, _ in instructions if s == 1]
    for required in ("USER", "HEALTHCHECK", "ENTRYPOINT"):
        if required not in final:
            errors.append("%s: the runtime stage has no %s" %
                          (name, required))
    if final_user is not None:
        uid = final_user.split(":")[0]
        if uid in ("0", "root") or not uid.isdigit():
            errors.append("%s: USER %s (want a numeric non-root uid)" %
                          (name, final_user))
        elif "--uid %s" % uid not in " ".join(
                a for s, i, a in instructions if s == 1 and i == "RUN"):
            errors.append("%s: user %s is not created in the image" %
                          (name, uid))
    return kit_folder, kit_files


def main():
    work = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
    kit = os.path.join(work, "kit")
    subprocess.run([
        "bash",
        os.path.join(RUNFILES, "deploy", "provision.sh"), "--federation=img",
        "--clients=hospital-a", "--server-dns=fed.example.org",
        "--out=" + kit
    ],
                   check=True,
                   stdout=subprocess.DEVNULL)
    for name, folder in IMAGES.items():
        result = check_dockerfile(name, folder)
        if result is None:
            continue
        folder, files = result
        if not files:
            errors.append("%s reads no kit file" % name)
        for file_name in sorted(files):
            if not os.path.isfile(os.path.join(kit, folder, file_name)):
                errors.append("%s reads /etc/epgfn/kit/%s, which the kit's "
                              "%s/ folder lacks" % (name, file_name, folder))
        print("%s: kit files %s" % (name, ", ".join(sorted(files))))

    ignore = os.path.join(RUNFILES, ".dockerignore")
    if not os.path.isfile(ignore) or "bazel-*" not in open(ignore).read():
        errors.append(".dockerignore must keep bazel-* out of the context")

    packages = subprocess.run([
        "bash",
        os.path.join(DOCKER, "runtime_packages.sh"),
        binary_path("epgfn_health_probe")
    ],
                              stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE,
                              universal_newlines=True,
                              timeout=300)
    names = packages.stdout.split()
    print("runtime packages of epgfn_health_probe: %d" % len(names))
    if packages.returncode != 0:
        errors.append("runtime_packages.sh failed: " + packages.stderr)
    elif not any(n.startswith("libgrpc++") for n in names):
        errors.append("runtime_packages.sh misses libgrpc++: %s" % names)
    for package in names:
        if COMPILERS.search(package.split(":")[0]):
            errors.append("runtime_packages.sh lists %s" % package)

    return report.finish(errors, notes)


if __name__ == "__main__":
    sys.exit(main())
