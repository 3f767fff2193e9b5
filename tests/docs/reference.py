"""The README's reference of flags and config fields, and its check.

  reference.py print BINARY... -- PROTO...   prints the markdown reference
  reference.py check README BINARY... -- PROTO...
                                             exits 1 listing every flag or
                                             config field README lacks

Flags come from each binary's --helpfull (only the flags defined in this
repository's own files), config fields from the proto messages a federation
config uses, so neither list can drift from the code.
"""

import re
import subprocess
import sys

# Messages a FederationSpec textproto is made of (the config's fields).
CONFIG_MESSAGES = ("FederationSpec", "TrainingConfig", "EnvironmentSpec",
                   "PolicyArchitecture", "ExclusionPolicy", "NamedAggregate")
OWN_SOURCE = re.compile(r"^  Flags from ((?:server|client|tests|common)/\S+):$")
FLAG = re.compile(r"^    --(\w+) \((.*)$")


def own_flags(binary):
  """[(name, help, default)] of the flags the binary's own sources define."""
  out = subprocess.run([binary, "--helpfull"], capture_output=True, text=True)
  text = out.stdout + out.stderr
  flags, own, current = [], False, None
  for line in text.splitlines():
    if line.startswith("  Flags from "):
      own = bool(OWN_SOURCE.match(line))
      current = None
      continue
    if not own:
      continue
    match = FLAG.match(line)
    if match:
      current = [match.group(1), match.group(2)]
      flags.append(current)
    elif current is not None and line.startswith("      "):
      current[1] += " " + line.strip()
  result = []
  for name, body in flags:
    help_text, _, default = body.rpartition("); default: ")
    result.append((name, help_text, default.rstrip(";")))
  return result


def config_fields(protos):
  """[(message, field, type, comment)] for the config's messages."""
  fields = []
  for path in protos:
    message, comment = None, []
    for line in open(path, encoding="utf-8"):
      stripped = line.strip()
      start = re.match(r"^message (\w+) \{", stripped)
      if start and not line.startswith(" "):
        message, comment = start.group(1), []
        continue
      if line.startswith("}"):
        message = None
        continue
      if message not in CONFIG_MESSAGES:
        continue
      if stripped.startswith("//"):
        comment.append(stripped[2:].strip())
        continue
      field = re.match(r"^(repeated |optional )?([\w.<>, ]+?) (\w+) = \d+;",
                       stripped)
      if field and line.startswith("  ") and not line.startswith("    "):
        fields.append((message, field.group(3),
                       (field.group(1) or "") + field.group(2),
                       " ".join(comment)))
      comment = []
  return fields


def split_args(args):
  if "--" not in args:
    sys.exit("usage: reference.py print|check [README] BINARY... -- PROTO...")
  cut = args.index("--")
  return args[:cut], args[cut + 1:]


def print_reference(binaries, protos):
  for binary in binaries:
    name = binary.rsplit("/", 1)[-1]
    print(f"#### `{name}`\n")
    print("| flag | default | meaning |\n|---|---|---|")
    for flag, help_text, default in own_flags(binary):
      print(f"| `--{flag}` | `{default}` | {help_text.replace('|', '/')} |")
    print()
  print("#### Federation config (`FederationSpec` textproto)\n")
  print("| message | field | type | meaning |\n|---|---|---|---|")
  for message, field, kind, comment in config_fields(protos):
    print(f"| {message} | `{field}` | {kind} | {comment} |")


def check(readme, binaries, protos):
  text = open(readme, encoding="utf-8").read()
  missing = []
  for binary in binaries:
    flags = own_flags(binary)
    if not flags:
      missing.append(f"{binary}: --helpfull listed no flags of its own")
    for flag, _, _ in flags:
      if f"`--{flag}`" not in text:
        missing.append(f"flag --{flag} of {binary.rsplit('/', 1)[-1]}")
  fields = config_fields(protos)
  if not fields:
    missing.append("no config fields found in " + " ".join(protos))
  for message, field, _, _ in fields:
    if not re.search(rf"\| {message} \| `{field}` \|", text):
      missing.append(f"config field {message}.{field}")
  if missing:
    print(f"{readme} lacks {len(missing)} reference entries "
          "(regenerate with tests/docs/reference.py print):")
    for entry in missing:
      print("  " + entry)
    return 1
  print(f"{readme} documents every flag and config field")
  return 0


def main(argv):
  if len(argv) < 2:
    sys.exit(__doc__)
  if argv[1] == "print":
    print_reference(*split_args(argv[2:]))
    return 0
  if argv[1] == "check":
    binaries, protos = split_args(argv[3:])
    return check(argv[2], binaries, protos)
  sys.exit(__doc__)


if __name__ == "__main__":
  sys.exit(main(sys.argv))
