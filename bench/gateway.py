"""Throughput of the built-in gateway: `fnstress serve --time-scale 0` with `fnstress run -c 64`
beside it on the same machine, invoking custom-metrics for 10 s. Prints invocations per second
as the run measured them and checks the gateway counted the same number."""

import json
import subprocess
import sys
import urllib.request

from common import FNSTRESS, free_port, wait_port

SECONDS = int(sys.argv[1]) if len(sys.argv) > 1 else 10


def main() -> None:
    port = free_port()
    gw = subprocess.Popen([str(FNSTRESS), "serve", "--listen", f"127.0.0.1:{port}",
                           "--time-scale", "0"], stderr=subprocess.DEVNULL)
    try:
        wait_port(port)
        out = subprocess.run([str(FNSTRESS), "run", "--gateway", f"http://127.0.0.1:{port}",
                              "-t", "custom-metrics", "-c", "64", "-z", f"{SECONDS}s", "-q",
                              "-o", "json"], capture_output=True, text=True, check=True)
        r = json.loads(out.stdout)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics/custom-metrics") as m:
            counted = json.load(m)["execution_count"]
    finally:
        gw.terminate()
        gw.wait(timeout=15)
    t = r["totals"]
    print(f"gateway: {t['rate_per_s']:.0f} invocations/s of custom-metrics at c=64 over "
          f"{r['elapsed_s']:.1f} s; completed {t['completed']}, gateway counted {counted}, "
          f"errors {t['errors']}, p50 {r['latency']['p50'] / 1000:.3f} ms")
    if counted != t["completed"]:
        raise SystemExit("bench: the gateway's count differs from the run's")


if __name__ == "__main__":
    main()
