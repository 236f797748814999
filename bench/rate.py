"""Open-model accuracy: `fnstress run --rate 20000` against nginx on loopback for 10 s. Prints
the achieved rate against the requested one and the lateness of starts."""

import json
import subprocess
import sys

from common import FNSTRESS, Nginx

RATE = int(sys.argv[1]) if len(sys.argv) > 1 else 20000


def main() -> None:
    with Nginx() as nginx:
        out = subprocess.run([str(FNSTRESS), "run", "--url", nginx.url, "-m", "GET",
                              "--rate", str(RATE), "-c", "64", "-z", "10s", "-q", "-o", "json"],
                             capture_output=True, text=True, check=True)
    r = json.loads(out.stdout)
    rate, late = r["rate"], r["lateness"]
    print(f"rate: requested {rate['requested_per_s']:.0f}/s, achieved "
          f"{rate['achieved_per_s']:.0f}/s (shortfall {rate['shortfall'] * 100:.2f}%); "
          f"started late (>= 1 ms): {late['late']}; lateness p50 {late['p50'] / 1000:.3f} ms, "
          f"p99 {late['p99'] / 1000:.3f} ms, max {late['max'] / 1000:.3f} ms; "
          f"corrected p99 {r['latency_corrected']['p99'] / 1000:.3f} ms")


if __name__ == "__main__":
    main()
