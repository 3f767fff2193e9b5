#!/usr/bin/env python3
"""Checks a soak run's output folder (tests/soak/soak.sh) and prints a table.

Reads events.log, acks.txt, runs.txt, rss.csv, sampler.log,
sampler_errors.txt, served.txt, final_versions.json, final_status.json,
driver_totals.txt and the logs/ folder; exits 1 when a check fails. The
checks are those listed in soak.sh's header.
"""
import argparse
import collections
import csv
import glob
import json
import os
import re
import sys


def read_lines(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [line.rstrip("\n") for line in f if line.strip()]


def down_windows(out, grace_ms):
    """[kill_ms, listening_ms + grace] for each SIGKILL (or own exit)."""
    windows, pending = [], None
    for line in read_lines(os.path.join(out, "events.log")):
        ms, kind = int(line.split()[0]), line.split()[1]
        if kind == "kill":
            pending = ms
        elif kind == "listening" and pending is not None:
            windows.append((pending, ms + grace_ms))
            pending = None
    return windows


def in_windows(ms, windows):
    return any(lo <= ms <= hi for lo, hi in windows)


def overlaps(start, end, windows):
    return any(start <= hi and lo <= end for lo, hi in windows)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--grace", type=float, default=20)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    out = args.out
    windows = down_windows(out, int(args.grace * 1000))
    checks = []  # (name, ok, detail)
    rows = []  # (what, figure)

    events = read_lines(os.path.join(out, "events.log"))
    t_start = int(events[0].split()[0])
    t_over = next((int(l.split()[0]) for l in events
                   if l.split()[1] == "duration_over"), None)
    totals = dict(kv.split("=") for kv in
                  read_lines(os.path.join(out, "driver_totals.txt"))[0].split())
    rows.append(("duration (s, start to end of load)",
                 "%.0f" % ((t_over - t_start) / 1000.0) if t_over else "?"))
    rows.append(("SIGKILLs of the server", totals["kills"]))
    rows.append(("server processes", totals["incarnations"]))
    rows.append(("down windows (s each, kill to listening)",
                 ", ".join("%.1f" % ((hi - lo) / 1000.0 - args.grace)
                           for lo, hi in windows)))
    checks.append(("server never exited unless killed",
                   totals["unexpected_exits"] == "0",
                   "unexpected exits: %s" % totals["unexpected_exits"]))

    # 1. Acknowledged uploads are held.
    acked = collections.defaultdict(int)
    for line in read_lines(os.path.join(out, "acks.txt")):
        _, client, round_, _ = line.split()
        acked[client] = max(acked[client], int(round_))
    status = json.load(open(os.path.join(out, "final_status.json")))
    accepted = {c["client_id"]: int(c.get("accepted_round", 0))
                for c in status.get("clients", [])}
    completed = collections.defaultdict(int)
    failed_runs = {"expected": 0, "unexpected": 0}
    unexpected_runs = []
    for line in read_lines(os.path.join(out, "runs.txt")):
        client, round_, try_, start, end, rc, version = line.split()
        if rc == "0" and version != "0":
            completed[client] = max(completed[client], int(round_))
        elif overlaps(int(start), int(end), windows):
            failed_runs["expected"] += 1
        else:
            failed_runs["unexpected"] += 1
            unexpected_runs.append(line)
    lost = []
    for i in range(args.clients):
        client = "client-%d" % i
        rows.append(("%s: acknowledged / accepted / completed rounds" % client,
                     "%d / %d / %d" % (acked[client], accepted.get(client, 0),
                                       completed[client])))
        if accepted.get(client, 0) < acked[client]:
            lost.append("%s acked %d, server holds %d" %
                        (client, acked[client], accepted.get(client, 0)))
    rows.append(("rounds acknowledged, all clients",
                 str(sum(acked.values()))))
    checks.append(("every acknowledged upload is held", not lost,
                   "; ".join(lost) or "all held"))
    rows.append(("client runs failed, in a down window (expected)",
                 str(failed_runs["expected"])))
    rows.append(("client runs failed, otherwise (unexpected)",
                 str(failed_runs["unexpected"])))
    checks.append(("no client run failed outside a down window",
                   failed_runs["unexpected"] == 0,
                   "; ".join(unexpected_runs[:5]) or "none"))

    # 2. Versions: contiguous, consistent, served.
    listed = json.load(open(os.path.join(out, "final_versions.json")))
    versions = [int(v["version"]) for v in listed.get("published_versions", [])]
    digest = {int(v["version"]): v.get("payload_sha256", "")
              for v in listed.get("published_versions", [])}
    n = len(versions)
    rows.append(("versions published", str(n)))
    checks.append(("versions are 1..N, no gap, no repeat",
                   versions == list(range(1, n + 1)),
                   "listed: %s" % versions if versions != list(range(1, n + 1))
                   else "1..%d" % n))
    seen = collections.defaultdict(set)  # version -> digests seen by clients
    for log in glob.glob(os.path.join(out, "logs", "client-*.log")):
        for line in read_lines(log):
            m = re.search(r"event=downloaded .*version=(\d+) .*sha256=(\w+)", line)
            if m:
                seen[int(m.group(1))].add(m.group(2))
            m = re.search(r"event=global_model_announced .*version=(\d+)", line)
            if m:
                seen[int(m.group(1))]
    published_by = collections.defaultdict(set)  # version -> (sha)
    for log in glob.glob(os.path.join(out, "logs", "server.*.log")):
        for line in read_lines(log):
            m = re.search(r"version_published .*version=(\d+) .*sha256=(\w+)", line)
            if m:
                published_by[int(m.group(1))].add(m.group(2))
    bad = []
    for v, shas in sorted(seen.items()):
        if v not in digest:
            bad.append("v%d seen by a client, not listed" % v)
        elif any(s != digest[v] for s in shas):
            bad.append("v%d downloaded with another digest" % v)
    for v, shas in sorted(published_by.items()):
        if len(shas) > 1:
            bad.append("v%d published with %d digests" % (v, len(shas)))
        if v not in digest:
            bad.append("v%d published, not listed" % v)
        elif digest[v] not in shas:
            bad.append("v%d listed with a digest no server logged" % v)
    sampler = read_lines(os.path.join(out, "sampler.log"))
    total = next((l for l in sampler if l.startswith("TOTAL ")), None)
    sampler_totals = dict(kv.split("=") for kv in total.split()[1:]) if total else {}
    if int(sampler_totals.get("max_version", 0)) > n:
        bad.append("the sampler saw v%s" % sampler_totals["max_version"])
    rows.append(("versions downloaded by clients (distinct)", str(len(seen))))
    checks.append(("every announced version is listed with its digest, "
                   "none published twice", not bad,
                   "; ".join(bad[:5]) or "consistent"))
    served = read_lines(os.path.join(out, "served.txt"))
    not_served = [l for l in served if "NOT_SERVED" in l]
    checks.append(("epgfn_sample serves every listed version",
                   len(served) == n and not not_served,
                   "; ".join(not_served[:3]) or "%d served" % len(served)))

    # 3. Sampler calls by code, expected vs unexpected.
    checks.append(("the sampler load ran to the end", total is not None,
                   total or "no TOTAL line in sampler.log"))
    codes = collections.Counter()
    unexpected_errors = []
    for line in read_lines(os.path.join(out, "sampler_errors.txt")):
        parts = line.split(" ", 3)
        ms, name = int(parts[0]), parts[2]
        expected = name == "UNAVAILABLE" and in_windows(ms, windows)
        codes[(name, "expected" if expected else "unexpected")] += 1
        if not expected:
            unexpected_errors.append(line)
    rows.append(("sampler calls", sampler_totals.get("calls", "?")))
    rows.append(("sampler calls OK (valid)",
                 str(int(sampler_totals.get("OK", 0)) -
                     int(sampler_totals.get("invalid", 0)))))
    for (name, kind), count in sorted(codes.items()):
        rows.append(("sampler calls %s (%s)" % (name, kind), str(count)))
    checks.append(("no unexpected sampler error", not unexpected_errors,
                   "; ".join(unexpected_errors[:3]) or "none"))

    # 4. RSS per server process: VmRSS, and RssAnon where recorded (the
    # kernel may drop LibTorch's clean code pages, RssFile, under memory
    # pressure, which lowers VmRSS without the process freeing anything).
    per = collections.OrderedDict()
    with open(os.path.join(out, "rss.csv")) as f:
        for row in csv.DictReader(f):
            inc = int(row["incarnation"])
            entry = per.setdefault(inc, {})
            for key in ("rss_kb", "rss_anon_kb"):
                if not row.get(key):
                    continue
                e = entry.setdefault(key, {"base": None, "end": None, "max": 0})
                kb = int(row[key])
                if e["base"] is None and int(row["published"]) >= 1:
                    e["base"] = kb
                e["end"] = kb
                e["max"] = max(e["max"], kb)
    # The criterion is on VmRSS, as issue 15 states it; RssAnon is shown
    # beside it to tell a dropped page cache from the process's own memory.
    judged = "rss_kb"
    rss_bad = []
    for key, label in (("rss_kb", "VmRSS"), ("rss_anon_kb", "RssAnon")):
        for inc, entry in per.items():
            e = entry.get(key)
            if e is None:
                continue
            if e["base"] is None:
                rows.append(("%s server %d (MiB): no version published" %
                             (label, inc), "end %.0f" % (e["end"] / 1024.0)))
                continue
            ratio = e["end"] / float(e["base"])
            rows.append(("%s server %d (MiB): after first version / end / max "
                         "(end/base)" % (label, inc),
                         "%.0f / %.0f / %.0f (%.3f)" % (
                             e["base"] / 1024.0, e["end"] / 1024.0,
                             e["max"] / 1024.0, ratio)))
            if key == judged and abs(ratio - 1) > 0.2:
                rss_bad.append("%s server %d: %.3f" % (label, inc, ratio))
        bases = [en[key] for en in per.values()
                 if key in en and en[key]["base"] is not None]
        last = list(per.values())[-1].get(key)
        if bases and last is not None:
            cross = last["end"] / float(bases[0]["base"])
            peak = max(en[key]["max"] for en in per.values() if key in en)
            rows.append(("%s last server's end / first server's base; "
                         "peak of all / first base" % label,
                         "%.3f; %.3f" % (cross, peak / float(bases[0]["base"]))))
            if key == judged and abs(cross - 1) > 0.2:
                rss_bad.append("%s last end vs first base: %.3f" %
                               (label, cross))
    checks.append(("%s at the end within 20%% of it after the first version" %
                   ("RssAnon" if judged == "rss_anon_kb" else "VmRSS"),
                   bool(per) and not rss_bad, "; ".join(rss_bad) or "within"))

    refused = status.get("refused_uploads", {})
    rows.append(("uploads refused by the server (GetStatus)",
                 ", ".join("%s=%s" % kv for kv in sorted(refused.items())) or "0"))

    lines = ["| measure | value |", "|---|---|"]
    lines += ["| %s | %s |" % r for r in rows]
    lines += ["", "| check | verdict | detail |", "|---|---|---|"]
    lines += ["| %s | %s | %s |" % (name, "PASS" if ok else "FAIL", detail)
              for name, ok, detail in checks]
    text = "\n".join(lines) + "\n"
    with open(os.path.join(out, "summary.md"), "w") as f:
        f.write(text)
    sys.stdout.write(text)
    failed = [name for name, ok, _ in checks if not ok]
    print("SOAK %s" % ("PASS" if not failed else "FAIL: " + "; ".join(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
