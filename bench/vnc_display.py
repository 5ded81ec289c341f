#!/usr/bin/env python3
"""VNC display benchmark: vdi-vmm's VNC server against QEMU's.

Both monitors boot the same reference guest ELF (vmm/guest/vdi-guest.elf)
with KVM, 64 MiB of RAM and a bochs-compatible display at 1024x768, and
serve it over VNC on loopback. For each encoding (tight and zrle by
default) the guest runs its benchmark ("bench=N" on its command line: N
frames of scrolling text, a moving window and a photo-like picture) and
bench/vnc_client.c (vdi-bench-vnc-client) measures, per frame:

  - update latency: from the guest's "frame N" line on serial to the end
    of the FramebufferUpdate after which the client's framebuffer shows
    the frame number N that the guest drew at the top-left corner;
  - bytes: received on the client's socket (TCP_INFO), so RFB framing
    and encoding overhead included.

The idle test boots the normal desktop, connects one client, waits for the
desktop to be drawn and measures the monitor process's CPU time
(utime + stime from /proc/PID/stat) over 10 s, as % of one core.

Runs alternate between the monitors so that machine noise hits both. When
vdi-vmm has no VNC server (yet), only QEMU's figures are shown.

usage: bench/vnc_display.py [--runs N] [--build DIR] [--json FILE]
       [--encodings tight,zrle] [--frames N] [--idle-seconds S]
       [--monitors vdi-vmm,qemu]
"""
import argparse
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

from benchlib import Control, tail

RAM_MIB = 64
VRAM_MIB = 16
WIDTH, HEIGHT = 1024, 768
# vdi-vmm lets a VNC client in only with a one-time ticket (VNC
# authentication, the ticket secret as password; at most 8 characters).
VNC_TICKET = "benchpw1"
MONITORS = ("vdi-vmm", "qemu")


class Unavailable(Exception):
    """The monitor has no usable VNC server; its column is left out."""


def free_port(lo=None, hi=None):
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    for _ in range(200):
        port = random.randint(lo, hi) if lo else 0
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return s.getsockname()[1]
    raise RuntimeError("no free TCP port")


def serial_has(path, text):
    try:
        with open(path, "rb") as f:
            return text in f.read()
    except FileNotFoundError:
        return False


def wait_for(cond, proc, timeout, what, log):
    """Poll cond() until true; fail if the monitor exits or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        if proc.poll() is not None:
            raise RuntimeError(f"monitor exited with {proc.returncode} before {what}: "
                               f"{tail(log)}")
        time.sleep(0.005)
    raise TimeoutError(f"no {what} within {timeout} s")


def port_accepts(port):
    with socket.socket() as s:
        s.settimeout(0.2)
        try:
            s.connect(("127.0.0.1", port))
            return True
        except OSError:
            return False


class Monitor:
    """One monitor process serving the guest over VNC on 127.0.0.1."""

    def __init__(self, kind, build, tmp, cmdline):
        self.kind = kind
        self.serial = os.path.join(tmp, f"{kind}.serial")
        self.log = os.path.join(tmp, f"{kind}.log")
        self.password = None
        elf = os.path.join(build, "vmm/guest/vdi-guest.elf")
        if kind == "vdi-vmm":
            self.port = free_port()
            self.ctl_path = os.path.join(tmp, "ctl.sock")
            args = [os.path.join(build, "vmm/vdi-vmm"), "--name", "bench",
                    "--memory", f"{RAM_MIB}M", "--kernel", elf, "--cmdline", cmdline,
                    "--resolution", f"{WIDTH}x{HEIGHT}", "--control", self.ctl_path,
                    "--serial", f"file:{self.serial}", "--vnc", f"127.0.0.1:{self.port}",
                    "--spice", "none"]
        else:
            # QEMU's -vnc takes a display number: port 5900 + N.
            self.port = free_port(5900 + 100, 5900 + 5000)
            args = ["qemu-system-x86_64", "-accel", "kvm", "-cpu", "host", "-m", f"{RAM_MIB}M",
                    "-nodefaults", "-no-user-config", "-display", "none",
                    "-device", f"bochs-display,vgamem={VRAM_MIB}M,xres={WIDTH},yres={HEIGHT}",
                    "-kernel", elf, "-append", cmdline, "-serial", f"file:{self.serial}",
                    "-vnc", f"127.0.0.1:{self.port - 5900}"]
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)

    def ready_for_client(self):
        """Wait until a VNC client can connect; for vdi-vmm, set its ticket."""
        if self.kind == "qemu":
            wait_for(lambda: port_accepts(self.port), self.proc, 20, "VNC port", self.log)
            return
        try:
            ctl = Control(self.ctl_path, self.proc)
        except RuntimeError as e:
            # An unknown or unusable --vnc or --spice option exits 2 at once.
            if self.proc.poll() is not None:
                raise Unavailable(str(e))
            raise
        try:
            # No probe connection here: the server refuses an address for a
            # while after a failed handshake. It lists its listener instead.
            servers = ctl.call("query-displays").get("servers", [])
            vnc = [s for s in servers if s.get("protocol") == "vnc"]
            if not vnc:
                raise Unavailable("vdi-vmm lists no VNC server in query-displays")
            if vnc[0].get("port") not in (None, self.port):
                raise Unavailable(f"vdi-vmm's VNC server is on port {vnc[0].get('port')}, "
                                  f"asked for {self.port}")
            try:
                ctl.call("set-ticket", {"protocol": "vnc", "secret": VNC_TICKET})
            except RuntimeError as e:
                raise Unavailable(f"set-ticket failed: {e}")
        finally:
            ctl.close()
        self.password = VNC_TICKET

    def client_args(self, client):
        args = [client, "--host", "127.0.0.1", "--port", str(self.port),
                "--serial-file", self.serial]
        if self.password:
            args += ["--password", self.password]
        return args

    def cpu_seconds(self):
        """CPU time of the whole process (every thread) in seconds, as a dict.

        "stat": utime + stime from /proc/PID/stat, in clock ticks (10 ms);
        "guest": its guest_time part (vCPUs running guest code);
        "sched": the scheduler's nanosecond run time summed over the live
        threads (/proc/PID/task/*/schedstat), precise where ticks are coarse.
        """
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        tck = os.sysconf("SC_CLK_TCK")
        sched = 0
        for tid in os.listdir(f"/proc/{self.proc.pid}/task"):
            try:
                with open(f"/proc/{self.proc.pid}/task/{tid}/schedstat") as f:
                    sched += int(f.read().split()[0])
            except (FileNotFoundError, ProcessLookupError):
                pass  # the thread just exited
        # fields[0] is field 3 of proc(5): utime 14, stime 15, guest_time 43.
        return {"stat": (int(fields[11]) + int(fields[12])) / tck,
                "guest": int(fields[40]) / tck, "sched": sched / 1e9}

    def stop(self):
        self.proc.kill()
        self.proc.wait()


def run_client(args, timeout):
    r = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=timeout)
    return r.returncode, r.stdout, r.stderr


def measure_frames(kind, build, encoding, frames):
    """One benchmark run; returns the client's report (dict)."""
    tmp = tempfile.mkdtemp(prefix="vdi-bench-vnc-")
    client = os.path.join(build, "bench/vdi-bench-vnc-client")
    out = os.path.join(tmp, "result.json")
    mon = Monitor(kind, build, tmp, f"bench={frames}")
    try:
        mon.ready_for_client()
        rc, stdout, stderr = run_client(
            mon.client_args(client) + ["--encoding", encoding, "--frames", str(frames),
                                       "--out", out], timeout=300)
        if not os.path.exists(out) or os.path.getsize(out) == 0:
            msg = stderr.strip() or f"client exited with {rc}"
            if kind == "vdi-vmm" and "cannot connect" in msg:
                raise Unavailable(f"client could not connect: {msg}")
            raise RuntimeError(f"{kind} {encoding}: {msg}")
        with open(out) as f:
            rep = json.load(f)
        if rc != 0:
            print(f"  {kind} {encoding}: incomplete run: {stderr.strip()}", file=sys.stderr)
        return rep
    finally:
        mon.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def measure_idle(kind, build, encoding, seconds):
    """CPU use of the monitor with one client on a still desktop."""
    tmp = tempfile.mkdtemp(prefix="vdi-bench-vnc-")
    client = os.path.join(build, "bench/vdi-bench-vnc-client")
    out = os.path.join(tmp, "idle.json")
    mon = Monitor(kind, build, tmp, "name=bench")
    try:
        mon.ready_for_client()
        proc = subprocess.Popen(mon.client_args(client) + ["--encoding", encoding, "--idle",
                                                           str(seconds), "--out", out],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        t0 = t1 = cpu0 = cpu1 = None
        # The client prints these two lines; sample the monitor's CPU at each.
        for line in proc.stdout:
            if line.startswith("idle: start"):
                t0, cpu0 = time.monotonic(), mon.cpu_seconds()
            elif line.startswith("idle: end"):
                t1, cpu1 = time.monotonic(), mon.cpu_seconds()
        err = proc.stderr.read()
        rc = proc.wait(timeout=30)
        if t1 is None:
            msg = err.strip() or f"client exited with {rc}"
            if kind == "vdi-vmm" and "cannot connect" in msg:
                raise Unavailable(f"client could not connect: {msg}")
            raise RuntimeError(f"{kind} idle: {msg}")
        with open(out) as f:
            rep = json.load(f)
        wall = t1 - t0
        rep["cpu_pct"] = (cpu1["stat"] - cpu0["stat"]) / wall * 100.0
        rep["guest_cpu_pct"] = (cpu1["guest"] - cpu0["guest"]) / wall * 100.0
        rep["sched_cpu_pct"] = (cpu1["sched"] - cpu0["sched"]) / wall * 100.0
        return rep
    finally:
        mon.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def _kib(v):
    return None if v is None else v / 1024.0


def _kilo(v):
    return None if v is None else v / 1000.0


def _fmt(v, fmt):
    return "-" if v is None else fmt.format(v)


def summary_rows(encodings):
    """(label, function of one monitor's results -> median value, format) rows."""
    def over_runs(key, fn):
        return lambda r: median([fn(rep) for rep in r.get(key, [])])

    rows = []
    for enc in encodings:
        rows.append((f"{enc}: latency p50 (ms)",
                     over_runs(enc, lambda rep: rep["latency_ms"]["p50"]), "{:.1f}"))
        rows.append((f"{enc}: latency p99 (ms)",
                     over_runs(enc, lambda rep: rep["latency_ms"]["p99"]), "{:.1f}"))
        rows.append((f"{enc}: KiB per frame",
                     over_runs(enc, lambda rep: _kib(rep["bytes_per_frame"])), "{:.1f}"))
        rows.append((f"{enc}: kilopixels sent per frame",
                     over_runs(enc, lambda rep: _kilo(rep["pixels_per_frame"])), "{:.1f}"))
        for i, phase in enumerate(("text", "window", "photo")):
            rows.append((f"{enc}: KiB per frame, {phase}",
                         over_runs(enc, lambda rep, i=i: _kib(rep["phases"][i]["bytes_per_frame"])),
                         "{:.1f}"))
    rows.append(("idle: CPU (% of one core)", over_runs("idle", lambda rep: rep["cpu_pct"]),
                 "{:.2f}"))
    rows.append(("idle: CPU, scheduler ns (%)",
                 over_runs("idle", lambda rep: rep["sched_cpu_pct"]), "{:.3f}"))
    rows.append(("idle: bytes per second", over_runs("idle", lambda rep: rep["bytes_per_second"]),
                 "{:.0f}"))
    return rows


def print_table(res, kinds, encodings, runs):
    rows = summary_rows(encodings)
    both = len(kinds) == 2
    head = ["", *kinds] + (["ratio"] if both else [])
    lines = [head, ["---"] * len(head)]
    for label, fn, fmt in rows:
        vals = [fn(res[k]) for k in kinds]
        cells = [label] + [_fmt(v, fmt) for v in vals]
        if both:
            ours, peer = vals
            cells.append(f"{ours / peer:.2f}" if ours is not None and peer else "-")
        lines.append(cells)
    widths = [max(len(l[i]) for l in lines) for i in range(len(head))]
    print(f"\nmedian of {runs} run(s)" +
          ("; ratio is vdi-vmm / QEMU (below 1 is better for us)" if both else "") + "\n")
    for l in lines:
        if l[0] == "---":
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
        else:
            print("| " + " | ".join(c.ljust(w) if i == 0 else c.rjust(w)
                                     for i, (c, w) in enumerate(zip(l, widths))) + " |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--build", default=os.path.join(os.path.dirname(__file__), "..", "build"))
    ap.add_argument("--json", help="write every run's results to this file")
    ap.add_argument("--encodings", default="tight,zrle")
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--idle-seconds", type=float, default=10.0)
    ap.add_argument("--idle-encoding", default="tight")
    ap.add_argument("--monitors", default=",".join(MONITORS),
                    help="which monitors to run (default vdi-vmm,qemu)")
    a = ap.parse_args()
    encodings = [e for e in a.encodings.split(",") if e]
    kinds = [k for k in MONITORS if k in a.monitors.split(",")]

    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        sys.exit("bench: /dev/kvm is not usable here")
    if "qemu" in kinds and not shutil.which("qemu-system-x86_64"):
        sys.exit("bench: qemu-system-x86_64 missing (apt-get install qemu-system-x86)")
    for path in ("vmm/guest/vdi-guest.elf", "bench/vdi-bench-vnc-client") + \
            (("vmm/vdi-vmm",) if "vdi-vmm" in kinds else ()):
        if not os.path.exists(os.path.join(a.build, path)):
            sys.exit(f"bench: {os.path.join(a.build, path)} missing; build first "
                     f"(cmake -S . -B {a.build} -G Ninja && ninja -C {a.build})")

    res = {k: {"available": True, "reason": None, "idle": [], **{e: [] for e in encodings}}
           for k in kinds}

    def attempt(kind, fn, *args):
        """Run fn unless the monitor is known to have no VNC server."""
        if not res[kind]["available"]:
            return None
        try:
            return fn(kind, a.build, *args)
        except Unavailable as e:
            res[kind]["available"] = False
            res[kind]["reason"] = str(e)
            print(f"{kind}: VNC server not available: {e}", flush=True)
            return None

    for i in range(a.runs):
        for enc in encodings:
            for kind in kinds:
                rep = attempt(kind, measure_frames, enc, a.frames)
                if rep is None:
                    continue
                res[kind][enc].append(rep)
                lat = rep["latency_ms"]
                print(f"run {i + 1} {kind:8s} {enc:6s} latency p50 {_fmt(lat['p50'], '{:5.1f}')} ms "
                      f"p99 {_fmt(lat['p99'], '{:5.1f}')} ms  "
                      f"{_fmt(_kib(rep['bytes_per_frame']), '{:6.1f}')} KiB/frame  "
                      f"({rep['measured']}/{rep['frames']} frames measured, "
                      f"{rep['updates']} updates)", flush=True)
        for kind in kinds:
            rep = attempt(kind, measure_idle, a.idle_encoding, a.idle_seconds)
            if rep is None:
                continue
            res[kind]["idle"].append(rep)
            print(f"run {i + 1} {kind:8s} idle   CPU {rep['cpu_pct']:5.2f} % of one core "
                  f"({rep['sched_cpu_pct']:.3f} % by the scheduler's clock, guest "
                  f"{rep['guest_cpu_pct']:.2f} %), {rep['bytes_per_second']:.0f} bytes/s, "
                  f"{rep['updates']} updates in {rep['seconds']:.0f} s", flush=True)

    shown = [k for k in kinds if res[k]["available"]]
    if not shown:
        sys.exit("bench: no monitor could be measured")
    for k in kinds:
        if not res[k]["available"]:
            print(f"\n{k}: not measured ({res[k]['reason']})")
    print_table(res, shown, encodings, a.runs)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
