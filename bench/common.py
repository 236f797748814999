"""Shared parts of the fnstress benchmarks: a loopback nginx, timed child processes with their
CPU time and peak memory from the OS, and the fnstress binary."""

import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FNSTRESS = ROOT / "target" / "release" / "fnstress"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, limit: float = 10.0) -> None:
    end = time.time() + limit
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"bench: nothing listens on 127.0.0.1:{port}")


class Nginx:
    """nginx from Debian's packages on a loopback port, stopped on exit."""

    def __init__(self) -> None:
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        if not os.path.exists(nginx):
            raise SystemExit("bench: nginx is missing; apt-get install -y nginx")
        self.dir = tempfile.mkdtemp(prefix="fnstress-bench-")
        self.port = free_port()
        conf = (ROOT / "bench" / "nginx.conf.in").read_text()
        conf = conf.replace("@DIR@", self.dir).replace("@PORT@", str(self.port))
        path = Path(self.dir) / "nginx.conf"
        path.write_text(conf)
        self.proc = subprocess.Popen([nginx, "-c", str(path), "-p", self.dir],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port)
        self.url = f"http://127.0.0.1:{self.port}/"

    def __enter__(self) -> "Nginx":
        return self

    def __exit__(self, *exc) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)


@dataclass
class Measured:
    stdout: str
    stderr: str
    cpu_s: float
    peak_rss_mib: float
    wall_s: float
    code: int


TIME = shutil.which("time") or "/usr/bin/time"


def measure(argv: list[str], limit: float = 120.0) -> Measured:
    """Runs a command to its end and reads its CPU time and peak RSS from the kernel.

    The command runs under GNU time: a child forked straight from this Python process would
    report Python's own resident size as its peak until it execs, a floor of about 16 MiB."""
    out = tempfile.TemporaryFile()
    err = tempfile.TemporaryFile()
    usage_file = tempfile.NamedTemporaryFile(mode="r", suffix=".time")
    start = time.time()
    proc = subprocess.Popen([TIME, "-f", "%U %S %M", "-o", usage_file.name, *argv],
                            stdout=out, stderr=err)
    deadline = start + limit
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.time() > deadline:
            proc.kill()
            pid, status, usage = os.wait4(proc.pid, 0)
            break
        time.sleep(0.01)
    wall = time.time() - start
    out.seek(0)
    err.seek(0)
    fields = usage_file.read().split()[-3:]
    user, system, peak_kib = float(fields[0]), float(fields[1]), int(fields[2])
    return Measured(out.read().decode(errors="replace"), err.read().decode(errors="replace"),
                    user + system, peak_kib / 1024.0, wall, os.waitstatus_to_exitcode(status))


def machine() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = int(Path("/proc/meminfo").read_text().split()[1]) / 1024 / 1024
    return f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB"
