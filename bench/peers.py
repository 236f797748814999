"""fnstress beside wrk, hey and oha against nginx on loopback, at concurrency 1, 64 and 1000.

Two more rows measure the ceilings of fnstress's design (bench/ceiling.rs): a bare blocking
socket loop per thread ("socket-loop") and the same loop through ureq ("ureq-loop").

Within each concurrency the tools run one after another, the order rotated per level, so
drift does not always hit the same tool. For each run it records invocations per second, CPU
seconds per 10,000 (user + system, from the kernel) and peak RSS, prints a table with
fnstress's ratios to each peer and writes bench/RESULTS.md.
"""

import json
import re
import shutil
import sys
import time
from pathlib import Path
from datetime import date

from common import FNSTRESS, ROOT, Nginx, machine
from common import measure as measure_any

SECONDS = int(sys.argv[1]) if len(sys.argv) > 1 else 10
LEVELS = [1, 64, 1000]


def measure(argv):
    """Runs one tool to its end; a failing tool stops the benchmark with its last line."""
    m = measure_any(argv)
    if m.code != 0:
        tail = (m.stderr.strip().splitlines() or ["no output"])[-1]
        raise SystemExit(f"bench: {Path(argv[0]).name} exited {m.code}: {tail}")
    return m


def fnstress(url, c):
    m = measure([str(FNSTRESS), "run", "--url", url, "-m", "GET", "-c", str(c),
                 "-z", f"{SECONDS}s", "-q", "-o", "json"])
    r = json.loads(m.stdout)
    return m, r["totals"]["rate_per_s"], r["latency"]["p50"] / 1000.0


def wrk(url, c):
    threads = min(c, 2)
    m = measure(["wrk", "-t", str(threads), "-c", str(c), "-d", f"{SECONDS}s", "--latency", url])
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", m.stdout).group(1))
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", m.stdout)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p50.group(2)]
    return m, rps, float(p50.group(1)) * scale


def hey(url, c):
    m = measure(["hey", "-z", f"{SECONDS}s", "-c", str(c), url])
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", m.stdout).group(1))
    p50 = re.search(r"50%+ in ([\d.]+) secs", m.stdout)
    return m, rps, float(p50.group(1)) * 1000.0 if p50 else float("nan")


def oha(url, c):
    m = measure(["oha", "-z", f"{SECONDS}s", "-c", str(c), "--no-tui",
                 "--output-format", "json", url])
    r = json.loads(m.stdout)
    return m, r["summary"]["requestsPerSec"], r["latencyPercentiles"]["p50"] * 1000.0


CEILING = ROOT / "target" / "release" / "examples" / "ceiling"


def ceiling(mode):
    def run(url, c):
        m = measure([str(CEILING), mode, url, str(c), str(SECONDS)])
        r = json.loads(m.stdout)
        return m, r["rate_per_s"], r["p50_ms"]
    return run


TOOLS = {"fnstress": fnstress, "wrk": wrk, "hey": hey, "oha": oha,
         "socket-loop": ceiling("socket"), "ureq-loop": ceiling("ureq")}
PEERS = ("wrk", "hey", "oha", "socket-loop", "ureq-loop")


def main() -> None:
    missing = [t for t in ("wrk", "hey", "oha") if not shutil.which(t)]
    if missing:
        raise SystemExit(f"bench: missing {', '.join(missing)} (make bench installs them)")
    if not CEILING.exists():
        raise SystemExit("bench: build the ceilings first: cargo build --release --example ceiling")
    rows = []
    with Nginx() as nginx:
        for c in LEVELS:
            order = list(TOOLS)
            # Rotate the order per level so no tool always runs first or last.
            k = LEVELS.index(c) % len(order)
            for name in order[k:] + order[:k]:
                m, rps, p50 = TOOLS[name](nginx.url, c)
                total = rps * SECONDS
                cpu = m.cpu_s / total * 10_000 if total else float("nan")
                rows.append((c, name, rps, cpu, m.peak_rss_mib, p50))
                print(f"c={c:<5} {name:<11} {rps:>10.0f}/s  cpu {cpu:6.3f} s/10k  "
                      f"rss {m.peak_rss_mib:7.1f} MiB  p50 {p50:.3f} ms", flush=True)
                time.sleep(1)
    write(rows)


def ratio(mine: float, theirs: float) -> str:
    """mine / theirs, or n/a when a peer printed zero (hey rounds p50 to 0.1 ms)."""
    return f"{mine / theirs:.2f}" if theirs and theirs == theirs else "n/a"


def write(rows) -> None:
    lines = [f"# Benchmark: fnstress and its peers against nginx on loopback",
             "", f"{date.today()}, {machine()}, {SECONDS} s per run, nginx with one worker.",
             "", "| c | tool | invocations/s | CPU s per 10k | peak RSS MiB | p50 ms |",
             "|---:|---|---:|---:|---:|---:|"]
    for c, name, rps, cpu, rss, p50 in rows:
        lines.append(f"| {c} | {name} | {rps:.0f} | {cpu:.3f} | {rss:.1f} | {p50:.3f} |")
    lines += ["", "fnstress relative to each peer (rate: higher is better; CPU and RSS: lower is "
              "better; p50: closer to 1 is better):", "",
              "| c | peer | rate ratio | CPU ratio | RSS ratio | p50 ratio |",
              "|---:|---|---:|---:|---:|---:|"]
    for c in LEVELS:
        mine = next(r for r in rows if r[0] == c and r[1] == "fnstress")
        for peer in PEERS:
            p = next(r for r in rows if r[0] == c and r[1] == peer)
            cells = " | ".join(ratio(mine[i], p[i]) for i in (2, 3, 4, 5))
            lines.append(f"| {c} | {peer} | {cells} |")
    lines += ["", "The design's ceilings relative to the async peers (rate ratio): what one "
              "blocking thread per connection reaches with no HTTP library (socket-loop) and "
              "through ureq (ureq-loop).", "", "| c | ceiling | × oha | × wrk |",
              "|---:|---|---:|---:|"]
    for c in LEVELS:
        rate = {r[1]: r[2] for r in rows if r[0] == c}
        for loop in ("socket-loop", "ureq-loop"):
            lines.append(f"| {c} | {loop} | {ratio(rate[loop], rate['oha'])} | "
                         f"{ratio(rate[loop], rate['wrk'])} |")
    text = "\n".join(lines) + "\n"
    (ROOT / "bench" / "RESULTS.md").write_text(text)
    print("\n" + text)


if __name__ == "__main__":
    main()
