#!/usr/bin/env python3
"""Start-to-first-frame and memory overhead of vdi-vmm against QEMU.

Both run the same reference guest ELF (vmm/guest/vdi-guest.elf) with KVM,
the same RAM, the same resolution and a bochs-compatible display. The guest
prints "desktop: ready" on serial right after it has drawn its first full
desktop frame, so the time from spawning the process to that line is the
start-to-first-frame time of each monitor.

Memory overhead is the monitor's own resident memory: the process's RSS
from /proc/PID/smaps minus the resident pages of guest RAM and of the video
memory (the mappings of exactly those sizes), measured once the desktop is
up. Runs alternate between the two monitors so that machine noise hits both.

usage: bench/vmm_start.py [--runs N] [--build DIR] [--json FILE]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

RAM_MIB = 64
VRAM_MIB = 16
WIDTH, HEIGHT = 1024, 768


def wait_serial(path, text, proc, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(path, "rb") as f:
                if text in f.read():
                    return time.monotonic()
        except FileNotFoundError:
            pass
        if proc.poll() is not None:
            raise RuntimeError(f"monitor exited with {proc.returncode}")
        time.sleep(0.002)
    raise TimeoutError(f"no '{text.decode()}' within {timeout}s")


def overhead_kib(pid):
    """RSS minus guest RAM and video memory, in KiB."""
    total = guest = 0
    size = None
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            parts = line.split()
            if not parts:
                continue
            if "-" in parts[0] and len(parts) >= 5 and not parts[0].endswith(":"):
                lo, hi = (int(x, 16) for x in parts[0].split("-"))
                size = (hi - lo) >> 10
            elif parts[0] == "Rss:":
                rss = int(parts[1])
                total += rss
                if size in (RAM_MIB << 10, VRAM_MIB << 10):
                    guest += rss
    return total - guest


def run_vdi(build, tmp):
    serial = os.path.join(tmp, "vdi.serial")
    args = [os.path.join(build, "vmm/vdi-vmm"), "--name", "bench", "--memory", f"{RAM_MIB}M",
            "--kernel", os.path.join(build, "vmm/guest/vdi-guest.elf"),
            "--cmdline", "name=bench", "--resolution", f"{WIDTH}x{HEIGHT}",
            "--control", os.path.join(tmp, "ctl.sock"), "--serial", f"file:{serial}"]
    return args, serial


def run_qemu(build, tmp):
    serial = os.path.join(tmp, "qemu.serial")
    args = ["qemu-system-x86_64", "-accel", "kvm", "-cpu", "host", "-m", f"{RAM_MIB}M",
            "-nodefaults", "-no-user-config", "-display", "none",
            "-device", f"bochs-display,vgamem={VRAM_MIB}M,xres={WIDTH},yres={HEIGHT}",
            "-kernel", os.path.join(build, "vmm/guest/vdi-guest.elf"),
            "-append", "name=bench", "-serial", f"file:{serial}", "-no-reboot"]
    return args, serial


def measure(kind, build):
    tmp = tempfile.mkdtemp(prefix="vdi-bench-")
    try:
        args, serial = (run_vdi if kind == "vdi-vmm" else run_qemu)(build, tmp)
        t0 = time.monotonic()
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            t1 = wait_serial(serial, b"desktop: ready", proc, 120)
            time.sleep(0.3)
            mem = overhead_kib(proc.pid)
        finally:
            proc.kill()
            proc.wait()
        return (t1 - t0) * 1000.0, mem
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--build", default=os.path.join(os.path.dirname(__file__), "..", "build"))
    ap.add_argument("--json")
    a = ap.parse_args()
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        sys.exit("bench: /dev/kvm is not usable here")
    if not shutil.which("qemu-system-x86_64"):
        sys.exit("bench: qemu-system-x86_64 missing (apt-get install qemu-system-x86)")
    res = {"vdi-vmm": {"ms": [], "kib": []}, "qemu": {"ms": [], "kib": []}}
    for i in range(a.runs):
        for kind in ("vdi-vmm", "qemu"):
            ms, kib = measure(kind, a.build)
            res[kind]["ms"].append(ms)
            res[kind]["kib"].append(kib)
            print(f"run {i + 1} {kind:8s} first frame {ms:8.1f} ms  overhead {kib / 1024:7.1f} MiB",
                  flush=True)
    v, q = res["vdi-vmm"], res["qemu"]
    vm_ms, q_ms = statistics.median(v["ms"]), statistics.median(q["ms"])
    vm_kib, q_kib = statistics.median(v["kib"]), statistics.median(q["kib"])
    print()
    print(f"start to first frame (median of {a.runs}): vdi-vmm {vm_ms:.0f} ms, "
          f"qemu {q_ms:.0f} ms, ratio {vm_ms / q_ms:.2f}")
    print(f"memory overhead (median): vdi-vmm {vm_kib / 1024:.1f} MiB, "
          f"qemu {q_kib / 1024:.1f} MiB, ratio {vm_kib / q_kib:.2f}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
