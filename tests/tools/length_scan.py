"""Lists the long functions and long files of the C++ tree (issue 17).

  python3 tests/tools/length_scan.py [--function_lines=80] [--file_lines=400]
      [ROOT]

prints every function whose body spans more than --function_lines lines and
every file longer than --file_lines lines, outside tests (*_test.cc). The
function finder is a brace matcher over the source with comments, string
and character literals blanked: a '{' opens a function when the text before
it, back to the previous ';', '{' or '}', ends like a signature (a ')' then
optional qualifiers) and is not a control statement or a lambda inside
another function. Good enough for this repository's Google-style code; it
is a reviewer's list, not a compiler.
"""

import argparse
import os
import re
import sys

SOURCE = re.compile(r"\.(cc|h)$")
NOT_FUNCTIONS = re.compile(
    r"^\s*(if|for|while|switch|catch|do|else|return|namespace|class|struct|"
    r"enum|union)\b")
SIGNATURE_END = re.compile(
    r"\)\s*(const|override|final|noexcept|mutable|->\s*[\w:<>,\s*&]+|"
    r"ABSL_\w+\([^)]*\)|\s)*$")
NAME = re.compile(r"([~\w:]+(?:<[^()]*>)?)\s*\($")


def blank(text):
  """The text with comments and literals replaced by spaces (lines kept)."""
  out, i, n = [], 0, len(text)
  while i < n:
    c = text[i]
    if text.startswith("//", i):
      j = text.find("\n", i)
      j = n if j < 0 else j
      out.append(" " * (j - i))
      i = j
    elif text.startswith("/*", i):
      j = text.find("*/", i + 2)
      j = n if j < 0 else j + 2
      out.append(re.sub(r"[^\n]", " ", text[i:j]))
      i = j
    elif text.startswith('R"', i) and (i == 0 or not text[i - 1].isalnum()):
      delim = text[i + 2:text.find("(", i)]
      j = text.find(")" + delim + '"', i)
      j = n if j < 0 else j + len(delim) + 2
      out.append(re.sub(r"[^\n]", " ", text[i:j]))
      i = j
    elif c in "\"'":
      j = i + 1
      while j < n and text[j] != c and text[j] != "\n":
        j += 2 if text[j] == "\\" else 1
      out.append(c + " " * (j - i - 1) + c)
      i = j + 1
    else:
      out.append(c)
      i += 1
  return "".join(out)


def function_name(head):
  """The name before the parameter list of a signature, or None."""
  depth, i = 0, len(head.rstrip()) - 1
  # Walk back from the signature's closing ')' to its matching '('.
  while i >= 0 and head[i] != ")":
    i -= 1
  while i >= 0:
    if head[i] == ")":
      depth += 1
    elif head[i] == "(":
      depth -= 1
      if depth == 0:
        break
    i -= 1
  match = NAME.search(head[:i + 1])
  return match.group(1) if match else None


def long_functions(path, limit):
  text = blank(open(path, encoding="utf-8", errors="replace").read())
  found, stack, start = [], [], 0
  line = 1
  for i, c in enumerate(text):
    if c == "\n":
      line += 1
    elif c in ";{}":
      if c == "{":
        head = " ".join(text[start:i].split())
        in_function = any(kind == "function" for kind, _, _ in stack)
        name = None
        if (not in_function and SIGNATURE_END.search(head) and
            not NOT_FUNCTIONS.match(head) and "=" not in head.split("(")[0]):
          name = function_name(head)
        stack.append(("function" if name else "block", name, line))
      elif c == "}" and stack:
        kind, name, first = stack.pop()
        if kind == "function" and line - first + 1 > limit:
          found.append((line - first + 1, name, first))
      start = i + 1
  return found


def main(argv):
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("root", nargs="?", default=".")
  parser.add_argument("--function_lines", type=int, default=80)
  parser.add_argument("--file_lines", type=int, default=400)
  args = parser.parse_args(argv)
  functions, files = [], []
  for directory, subdirs, names in os.walk(args.root):
    subdirs[:] = sorted(d for d in subdirs
                        if not d.startswith((".", "bazel-")) and
                        d != "third_party")
    for name in sorted(names):
      if not SOURCE.search(name) or name.endswith("_test.cc"):
        continue
      path = os.path.join(directory, name)
      shown = os.path.relpath(path, args.root)
      with open(path, encoding="utf-8", errors="replace") as f:
        lines = sum(1 for _ in f)
      if lines > args.file_lines:
        files.append((lines, shown))
      for length, function, first in long_functions(path,
                                                    args.function_lines):
        functions.append((length, f"{shown}:{first}", function))
  print(f"functions over {args.function_lines} lines: {len(functions)}")
  for length, where, function in sorted(functions, reverse=True):
    print(f"  {length:5d}  {where}  {function}")
  print(f"files over {args.file_lines} lines: {len(files)}")
  for lines, shown in sorted(files, reverse=True):
    print(f"  {lines:5d}  {shown}")
  return 0


if __name__ == "__main__":
  sys.exit(main(sys.argv[1:]))
