#!/usr/bin/env python3
"""Viewer benchmark: vdi-viewer against TigerVNC's viewer and remote-viewer.

Everything runs on Xvfb, against vdi-vmm's VNC or SPICE server running the
reference guest (vmm/guest/vdi-guest.elf) at 1024x768. Two tests (issue 7):

decode: the guest's benchmark sequence ("bench=N": N deterministic frames of
  scrolling text, a moving window and a photo-like picture). vdi-vmm is
  paused ("stop" on its control socket) as soon as it starts, the viewer
  connects with a one-time VNC ticket, and the guest is resumed ("cont")
  once the viewer is connected. Measured per viewer:
  - viewer CPU: utime + stime of the viewer process (/proc/PID/stat, all
    threads) from the guest's "bench: start" line on serial until the
    viewer's window shows the last frame's marker (frame number N at the
    guest's top-left corner, read from the X server with XGetImage);
  - Mpixel per CPU-second: the pixels the benchmark changes (measured once
    per run with bench/vdi-bench-vnc-client, a client that keeps up: the
    sum of the rectangles' areas over frames 1..N) divided by that CPU
    time. Also the X server's CPU over the same interval (the drawing
    that lands in Xvfb: XPutImage / SHM / GL);
  - pixels the server actually sent to that viewer over its connection
    (libvncserver's "RawEquiv" statistics in vdi-vmm's debug log at
    disconnect), and the encoding the viewer chose;
  - last-frame latency: from the guest's "frame N" line on serial to the
    marker N on screen.
  Over SPICE (--protocols spice) the same, with vdi-viewer and
  remote-viewer (both decode with spice-client-glib; TigerVNC speaks only
  VNC), and without the server's statistics, which only libvncserver keeps.

login (vdi-viewer only; TigerVNC's viewer has no broker, remote-viewer is
  timed opening a .vv the broker handed out): vdi-broker with its demo pool
  (warm spares), a user added with the CLI, `vdi-viewer --broker URL
  --fingerprint FP --kiosk` on a 1024x768 Xvfb; the user name and password
  are typed with xdotool and the time runs from pressing Enter in the
  password field until the guest's desktop (its top bar, 0x1c2028) covers
  the top band of the screen. For remote-viewer: from spawning
  `remote-viewer FILE.vv` (the .vv fetched from the broker's connect just
  before) until the same band shows.

Runs alternate between the viewers so that machine noise hits all of them.

usage: bench/viewer_bench.py [--runs N] [--build DIR] [--json FILE]
       [--frames N] [--viewers vdi-viewer,vdi-viewer-sw,tigervnc,remote-viewer]
       [--tests decode,login] [--protocols vnc,spice]
"""
import argparse
import ctypes
import ctypes.util
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

import benchlib
from benchlib import Control, api, free_port, med, tail
from benchlib import stop as kill

WIDTH, HEIGHT = 1024, 768
RAM_MIB = 64
VNC_TICKET = "benchpw1"
# vdi-viewer-sw: vdi-viewer with SDL's software renderer drawing into an
# X SHM framebuffer (SDL_RENDER_DRIVER=software, SDL_FRAMEBUFFER_ACCELERATION=0)
# forced. SDL's default is its OpenGL renderer, Mesa's llvmpipe on Xvfb, which
# vdi-viewer replaces with the software renderer by itself, so on Xvfb both
# columns draw the same way (SDL_RENDER_DRIVER=opengl measures llvmpipe).
# tigervnc-lossless (not run by default): TigerVNC with -NoJPEG, since its
# automatic choice asks for JPEG (quality 8) while the others get lossless Tight.
VIEWERS = ("vdi-viewer", "vdi-viewer-sw", "tigervnc", "remote-viewer")
OPTIONAL_VIEWERS = ("tigervnc-lossless",)
SW_ENV = {"SDL_RENDER_DRIVER": "software", "SDL_FRAMEBUFFER_ACCELERATION": "0"}
BAR_RGB = (0x1c, 0x20, 0x28)  # the guest's top bar (vmm/guest/desktop.c COL_BAR)
MARK_BITS, MARK_CELL = 16, 4  # vmm/guest/bench.c draw_marker()
TCK = benchlib.TCK


# ---- the X server: Xvfb, and a few pixels read with XGetImage ----

class XImage(ctypes.Structure):
    _fields_ = [("width", ctypes.c_int), ("height", ctypes.c_int), ("xoffset", ctypes.c_int),
                ("format", ctypes.c_int), ("data", ctypes.POINTER(ctypes.c_ubyte)),
                ("byte_order", ctypes.c_int), ("bitmap_unit", ctypes.c_int),
                ("bitmap_bit_order", ctypes.c_int), ("bitmap_pad", ctypes.c_int),
                ("depth", ctypes.c_int), ("bytes_per_line", ctypes.c_int),
                ("bits_per_pixel", ctypes.c_int)]


_x11 = None


def x11():
    global _x11
    if _x11 is None:
        lib = ctypes.CDLL(ctypes.util.find_library("X11") or "libX11.so.6")
        lib.XOpenDisplay.restype = ctypes.c_void_p
        lib.XOpenDisplay.argtypes = [ctypes.c_char_p]
        lib.XDefaultRootWindow.restype = ctypes.c_ulong
        lib.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
        lib.XGetImage.restype = ctypes.POINTER(XImage)
        lib.XGetImage.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_int,
                                  ctypes.c_uint, ctypes.c_uint, ctypes.c_ulong, ctypes.c_int]
        lib.XDestroyImage.argtypes = [ctypes.POINTER(XImage)]
        lib.XCloseDisplay.argtypes = [ctypes.c_void_p]
        _x11 = lib
    return _x11


class Xvfb:
    """One Xvfb per measurement, so its CPU time belongs to one viewer."""

    def __init__(self, tmp, w, h):
        r, wfd = os.pipe()
        self.log = open(os.path.join(tmp, "xvfb.log"), "wb")
        self.proc = subprocess.Popen(["Xvfb", "-displayfd", str(wfd), "-screen", "0",
                                      f"{w}x{h}x24", "-nolisten", "tcp", "-noreset"],
                                     pass_fds=(wfd,), stdout=self.log, stderr=subprocess.STDOUT)
        os.close(wfd)
        num = b""
        while not num.endswith(b"\n"):
            c = os.read(r, 16)
            if not c:
                raise RuntimeError("Xvfb did not start")
            num += c
        os.close(r)
        self.display = ":" + num.decode().strip()
        self.w, self.h = w, h
        self.dpy = x11().XOpenDisplay(self.display.encode())
        if not self.dpy:
            raise RuntimeError(f"cannot open {self.display}")
        self.root = x11().XDefaultRootWindow(self.dpy)

    def grab(self, x, y, w, h):
        """(bytes BGRX rows, stride) of a screen rectangle."""
        img = x11().XGetImage(self.dpy, self.root, x, y, w, h, 0xffffffff, 2)  # ZPixmap
        if not img:
            raise RuntimeError("XGetImage failed")
        stride = img.contents.bytes_per_line
        data = ctypes.string_at(img.contents.data, stride * h)
        x11().XDestroyImage(img)
        return data, stride

    def env(self):
        e = dict(os.environ, DISPLAY=self.display)
        e.pop("WAYLAND_DISPLAY", None)
        return e

    def stop(self):
        x11().XCloseDisplay(self.dpy)
        self.proc.kill()
        self.proc.wait()
        self.log.close()


def near(px, rgb, tol=24):
    """px: BGRX bytes at an offset; rgb: (r, g, b)."""
    return (abs(px[2] - rgb[0]) <= tol and abs(px[1] - rgb[1]) <= tol and
            abs(px[0] - rgb[2]) <= tol)


def find_guest_origin(xv):
    """Screen position of the guest's pixel (0, 0): the top bar's top-left.

    The top bar (0x1c2028, 27 rows) starts at the guest's (0, 0); during the
    benchmark the frame marker covers its first 64x4 pixels. So: the first
    screen row with a long run of bar colour, and the leftmost start of such
    a run in the next 8 rows.
    """
    data, stride = xv.grab(0, 0, xv.w, xv.h)
    pat = bytes((BAR_RGB[2], BAR_RGB[1], BAR_RGB[0]))
    run = 256
    for y in range(xv.h - 32):
        row = data[y * stride:(y + 1) * stride]
        x = _bar_run(row, pat, run)
        if x is None:
            continue
        xs = [x]
        for dy in range(1, 8):
            r2 = data[(y + dy) * stride:(y + dy + 1) * stride]
            x2 = _bar_run(r2, pat, run)
            if x2 is not None:
                xs.append(x2)
        return min(xs), y
    return None


def _bar_run(row, pat, run):
    """x of the first run of @run pixels of exactly the bar colour in a row."""
    i = 0
    while True:
        i = row.find(pat, i)
        if i < 0:
            return None
        if i % 4 == 0:
            # Check the run, every 8th pixel (ignore the X pad byte).
            ok = True
            for k in range(0, run * 4, 4 * 8):
                if row[i + k:i + k + 3] != pat:
                    ok = False
                    break
            if ok and i + run * 4 <= len(row):
                return i // 4
        i += 1


def read_marker(xv, origin):
    """The frame number the guest's top-left marker shows, or None."""
    ox, oy = origin
    data, stride = xv.grab(ox, oy, MARK_BITS * MARK_CELL, MARK_CELL)
    n = 0
    for bit in range(MARK_BITS):
        o = (MARK_CELL // 2) * stride + (bit * MARK_CELL + MARK_CELL // 2) * 4
        px = data[o:o + 4]
        if near(px, (255, 255, 255), 60):
            n = n << 1 | 1
        elif near(px, (0, 0, 0), 60):
            n <<= 1
        else:
            return None
    return n


def band_is_bar(xv, y0, x0, w):
    """True when a 16-row band of the screen is (mostly) the guest's top bar."""
    data, stride = xv.grab(x0, y0, w, 16)
    pat = bytes((BAR_RGB[2], BAR_RGB[1], BAR_RGB[0]))
    hits = total = 0
    for y in range(0, 16, 4):
        for x in range(0, w, 8):
            o = y * stride + x * 4
            total += 1
            hits += data[o:o + 3] == pat
    return hits >= total * 0.9


# ---- processes ----

def cpu_of(pid):
    """utime + stime (s) of a whole process, and the scheduler's ns count."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    sched = 0
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                    sched += int(f.read().split()[0])
            except (FileNotFoundError, ProcessLookupError):
                pass
    except FileNotFoundError:
        pass
    return {"stat": (int(fields[11]) + int(fields[12])) / TCK, "sched": sched / 1e9}


class SerialWatch(threading.Thread):
    """Stamps serial lines of the guest (CLOCK_MONOTONIC) and calls hooks."""

    def __init__(self, path, hooks):
        super().__init__(daemon=True)
        self.path, self.hooks = path, hooks
        self.stamps = {}
        self.stop_flag = False

    def run(self):
        pos, pending = 0, b""
        while not self.stop_flag:
            try:
                with open(self.path, "rb") as f:
                    f.seek(pos)
                    chunk = f.read()
            except FileNotFoundError:
                chunk = b""
            now = time.monotonic()
            if chunk:
                pos += len(chunk)
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    text = line.decode(errors="replace").strip()
                    if text.startswith("bench: start"):
                        text = "bench: start"  # "bench: start frames=N"
                    self.stamps.setdefault(text, now)
                    hook = self.hooks.get(text)
                    if hook:
                        hook(now)
            else:
                time.sleep(0.001)

    def wait(self, text, timeout):
        deadline = time.monotonic() + timeout
        while text not in self.stamps:
            if time.monotonic() > deadline:
                return None
            time.sleep(0.001)
        return self.stamps[text]


def start_vmm(build, tmp, cmdline, log_level="debug", protocol="vnc"):
    """vdi-vmm serving @protocol (vnc or spice) on a free port; the other is off."""
    port = free_port()
    addr = f"127.0.0.1:{port}"
    serial = os.path.join(tmp, "guest.serial")
    ctl = os.path.join(tmp, "ctl.sock")
    log = open(os.path.join(tmp, "vmm.log"), "wb")
    elf = os.path.join(build, "vmm/guest/vdi-guest.elf")
    proc = subprocess.Popen([os.path.join(build, "vmm/vdi-vmm"), "--name", "bench",
                             "--memory", f"{RAM_MIB}M", "--kernel", elf, "--cmdline", cmdline,
                             "--resolution", f"{WIDTH}x{HEIGHT}", "--control", ctl,
                             "--serial", f"file:{serial}",
                             "--vnc", addr if protocol == "vnc" else "none",
                             "--spice", addr if protocol == "spice" else "none",
                             "--log-level", log_level],
                            stdout=log, stderr=subprocess.STDOUT)
    return proc, port, serial, ctl, log


def viewer_cmd(kind, build, tmp, port, protocol="vnc"):
    """argv of one viewer on 127.0.0.1:port speaking @protocol."""
    if kind in ("vdi-viewer", "vdi-viewer-sw"):
        pw = os.path.join(tmp, "pw.txt")
        with open(pw, "w") as f:
            f.write(VNC_TICKET + "\n")
        return [os.path.join(build, "viewer/vdi-viewer"), "--password-file", pw,
                "--log-level", "info", f"{protocol}://127.0.0.1:{port}"]
    if kind in ("tigervnc", "tigervnc-lossless"):
        pw = os.path.join(tmp, "pw.bin")
        with open(pw, "wb") as f:
            f.write(subprocess.run(["vncpasswd", "-f"], input=VNC_TICKET.encode(),
                                   stdout=subprocess.PIPE, check=True).stdout)
        extra = ["-NoJPEG"] if kind == "tigervnc-lossless" else []
        return ["xtigervncviewer", "-passwd", pw, *extra, f"127.0.0.1::{port}"]
    vv = os.path.join(tmp, "bench.vv")
    with open(vv, "w") as f:
        f.write(f"[virt-viewer]\ntype={protocol}\nhost=127.0.0.1\nport={port}\n"
                f"password={VNC_TICKET}\ntitle=bench\n")
    return ["remote-viewer", vv]


def viewer_speaks(kind, protocol):
    return protocol == "vnc" or not kind.startswith("tigervnc")


VIEWER_BINS = {"vdi-viewer": None, "vdi-viewer-sw": None, "tigervnc": "xtigervncviewer",
               "tigervnc-lossless": "xtigervncviewer",
               "remote-viewer": "remote-viewer"}


# ---- decode test ----

def reference_pixels(build, frames):
    """Pixels the benchmark changes, frames 1..N, as a client that keeps up gets them."""
    tmp = tempfile.mkdtemp(prefix="vdi-bench-viewer-ref-")
    proc = log = None
    try:
        proc, port, serial, ctl_path, log = start_vmm(build, tmp, f"bench={frames}", "info")
        ctl = Control(ctl_path, proc)
        ctl.call("set-ticket", {"protocol": "vnc", "secret": VNC_TICKET})
        ctl.close()
        out = os.path.join(tmp, "ref.json")
        subprocess.run([os.path.join(build, "bench/vdi-bench-vnc-client"), "--host", "127.0.0.1",
                        "--port", str(port), "--password", VNC_TICKET, "--serial-file", serial,
                        "--encoding", "zrle", "--frames", str(frames), "--out", out],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300)
        with open(out) as f:
            rep = json.load(f)
        per = [fr.get("pixels") or 0 for fr in rep["per_frame"]]
        return sum(per), rep.get("measured"), rep.get("frames")
    finally:
        kill(proc)
        if log:
            log.close()
        shutil.rmtree(tmp, ignore_errors=True)


def server_stats(vmm_log):
    """(pixels sent, encodings used) from libvncserver's statistics at disconnect."""
    pixels, encs = 0, []
    with open(vmm_log, errors="replace") as f:
        text = f.read()
    m = re.search(r"Statistics\s+events\s+Transmit/ RawEquiv.*?TOTALS", text, re.S)
    if m:
        for line in m.group(0).splitlines():
            mm = re.search(r"vnc:\s+(\S[\w ]*?)\s*:\s*(\d+) \|\s*(\d+)/\s*(\d+)", line)
            if not mm:
                continue
            name, events, raw = mm.group(1), int(mm.group(2)), int(mm.group(4))
            if name.lower() in ("raw", "hextile", "zlib", "tight", "zrle", "zywrle", "trle",
                                "rre", "corre", "ultra", "copyrect", "tightpng"):
                # RawEquiv counts 12 header bytes per rectangle and 4 bytes per pixel.
                pixels += max(0, raw - 12 * events) // 4
                encs.append(name)
    used = re.findall(r"Using (\S+) encoding for client", text)
    return (pixels if m else None), (used[-1] if used else ",".join(encs) or "?")


def measure_decode(kind, build, frames, ref_pixels, protocol="vnc"):
    tmp = tempfile.mkdtemp(prefix="vdi-bench-viewer-")
    xv = vproc = proc = log = vlog = None
    watch = None
    try:
        xv = Xvfb(tmp, 1280, 1024)
        proc, port, serial, ctl_path, log = start_vmm(build, tmp, f"bench={frames}",
                                                      protocol=protocol)
        ctl = Control(ctl_path, proc)
        ctl.call("stop")  # the guest waits for the viewer
        ctl.call("set-ticket", {"protocol": protocol, "secret": VNC_TICKET})
        with open(serial, "rb") as f:
            if b"bench: start" in f.read():
                raise RuntimeError("the guest started its benchmark before it could be paused")
        argv = viewer_cmd(kind, build, tmp, port, protocol)
        vlog = open(os.path.join(tmp, "viewer.log"), "wb")
        env = dict(xv.env(), **(SW_ENV if kind == "vdi-viewer-sw" else {}))
        vproc = subprocess.Popen(argv, env=env, stdout=vlog, stderr=subprocess.STDOUT)
        if not ctl.wait_event("client-connected", 30):
            raise RuntimeError(f"{kind} did not connect: {tail(vlog.name)}")
        time.sleep(1.5)  # let it draw its first picture and settle
        samples = {}

        def at_start(now):
            samples["start"] = (now, cpu_of(vproc.pid), cpu_of(xv.proc.pid))

        watch = SerialWatch(serial, {"bench: start": at_start})
        watch.start()
        ctl.call("cont")
        if watch.wait("bench: start", 60) is None:
            raise RuntimeError(f"no 'bench: start': {tail(serial)}")
        # Where the guest's picture is on the screen (window position, chrome).
        origin = None
        deadline = time.monotonic() + 20
        while origin is None and time.monotonic() < deadline:
            time.sleep(0.1)
            origin = find_guest_origin(xv)
        if origin is None:
            raise RuntimeError(f"{kind}: the guest's top bar is not on the screen")
        last = f"frame {frames}"
        if watch.wait(f"frame {frames - 2}", 120) is None:
            raise RuntimeError(f"the benchmark did not finish: {tail(serial)}")
        # Poll the marker only now, so polling does not compete with the viewer.
        seen = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if read_marker(xv, origin) == frames:
                seen = time.monotonic()
                break
            time.sleep(0.002)
        if seen is None:
            raise RuntimeError(f"{kind}: frame {frames}'s marker never showed")
        v_end, x_end = cpu_of(vproc.pid), cpu_of(xv.proc.pid)
        t_last = watch.wait(last, 5)
        t0, v0, x0 = samples["start"]
        cpu = v_end["stat"] - v0["stat"]
        sched = v_end["sched"] - v0["sched"]
        rep = {"viewer": kind, "origin": origin, "wall_s": seen - t0,
               "bench_s": (watch.stamps.get("bench: done", seen) - t0),
               "cpu_s": cpu, "sched_cpu_s": sched,
               "x_cpu_s": x_end["stat"] - x0["stat"],
               "x_sched_cpu_s": x_end["sched"] - x0["sched"],
               "last_frame_ms": (seen - t_last) * 1000.0 if t_last else None,
               "ref_pixels": ref_pixels}
        rep["mpix_per_cpu_s"] = ref_pixels / 1e6 / sched if sched > 0 else None
        # Disconnect (the server prints its statistics when the client goes).
        kill(vproc)
        vproc = None
        ctl.wait_event("client-disconnected", 5)
        time.sleep(0.2)
        ctl.close()
        if protocol == "vnc":
            rep["server_pixels"], rep["encoding"] = server_stats(log.name)
        else:
            rep["server_pixels"], rep["encoding"] = None, "SPICE"
        if rep["server_pixels"] and sched > 0:
            rep["sent_mpix_per_cpu_s"] = rep["server_pixels"] / 1e6 / sched
        return rep
    finally:
        if watch:
            watch.stop_flag = True
        kill(vproc)
        kill(proc)
        for f in (log, vlog):
            if f:
                f.close()
        if xv:
            xv.stop()
        if os.environ.get("VDI_BENCH_KEEP"):
            print(f"  kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


# ---- login test ----

class Broker(benchlib.Broker):
    """The broker with its demo pool (2 desktops, 1 warm spare)."""

    def __init__(self, build):
        super().__init__(build, log_level="info", prefix="vdi-bench-viewer-broker-")

    def admin_vms(self):
        tok = self.login("admin", self.admin_pw)
        st, data = api(self.port, "GET", "/api/v1/admin/vms", token=tok)
        return json.loads(data) if st == 200 else None

    def wait_spare(self, timeout=120):
        """Until the demo pool is warm: every VM running (the rebooted one too).

        The admin list says "running" once the VMM is up, not when the guest
        has drawn its desktop, so wait 3 s more after all are running (the
        reference guest draws its first frame in under 1 s, bench/vmm_start.py).
        """
        deadline = time.monotonic() + timeout
        vms = None
        while time.monotonic() < deadline:
            vms = (self.admin_vms() or {}).get("vms", [])
            if len(vms) >= 2 and all(vm.get("state") == "running" for vm in vms):
                time.sleep(3)
                return
            time.sleep(0.5)
        raise RuntimeError(f"the demo pool did not get warm: {vms}")

    def release(self, user, password):
        """Log the user's desktops off (they go back to the spares) and sign out."""
        tok = self.login(user, password)
        st, data = api(self.port, "GET", "/api/v1/desktops", token=tok)
        if st == 200:
            ds = json.loads(data)
            for d in (ds.get("desktops", ds) if isinstance(ds, dict) else ds) or []:
                name = d.get("vm") or d.get("name") or d.get("id")
                if name:
                    api(self.port, "POST", f"/api/v1/desktops/{name}/disconnect", token=tok)
        api(self.port, "POST", "/api/v1/logout", token=tok)


def xdo(xv, *args):
    subprocess.run(["xdotool", *args], env=xv.env(), check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def desktop_shown(xv):
    """True when the guest's top bar is on the screen: a row among the top 120
    with a run of 400 pixels of exactly its colour (remote-viewer puts its own
    header bar above the guest's picture and scales it a little)."""
    data, stride = xv.grab(0, 0, xv.w, 120)
    pat = bytes((BAR_RGB[2], BAR_RGB[1], BAR_RGB[0]))
    return any(_bar_run(data[y * stride:(y + 1) * stride], pat, 400) is not None
               for y in range(0, 120, 2))


def wait_desktop(xv, timeout, proc=None):
    """Time when the guest's desktop shows (its top bar)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if desktop_shown(xv):
            return time.monotonic()
        if proc is not None and proc.poll() is not None:
            return None
        time.sleep(0.003)
    return None


class LoginStage:
    """One login measurement: a fresh Xvfb, the viewer under test and its log;
    afterwards the viewer ends and the user's desktop goes back to the pool."""

    def __init__(self, broker, user, password):
        self.broker, self.user, self.password = broker, user, password
        self.xv = self.proc = self.log = None

    def __enter__(self):
        self.tmp = tempfile.mkdtemp(prefix="vdi-bench-viewer-login-")
        try:
            self.broker.wait_spare()
            self.xv = Xvfb(self.tmp, WIDTH, HEIGHT)
            self.log = open(os.path.join(self.tmp, "viewer.log"), "wb")
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def launch(self, argv):
        self.proc = subprocess.Popen(argv, env=self.xv.env(), stdout=self.log,
                                     stderr=subprocess.STDOUT)
        return self.proc

    def __exit__(self, *exc):
        kill(self.proc)
        if self.log:
            self.log.close()
        if self.xv:
            self.xv.stop()
        self.broker.release(self.user, self.password)
        shutil.rmtree(self.tmp, ignore_errors=True)


def measure_login_vdi(broker, build, user, password):
    with LoginStage(broker, user, password) as st:
        xv = st.xv
        vproc = st.launch([os.path.join(build, "viewer/vdi-viewer"), "--broker",
                           f"https://127.0.0.1:{broker.port}", "--fingerprint",
                           broker.fingerprint, "--kiosk", "--log-level", "info"])
        # The login screen: wait for the window, then type.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            r = subprocess.run(["xdotool", "search", "--pid", str(vproc.pid)], env=xv.env(),
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            if r.stdout.strip():
                break
            time.sleep(0.1)
        time.sleep(1.0)
        if desktop_shown(xv):
            raise RuntimeError("the login screen looks like the desktop to this test")
        xdo(xv, "type", "--delay", "20", user)
        xdo(xv, "key", "Return")
        xdo(xv, "type", "--delay", "20", password)
        t0 = time.monotonic()
        xdo(xv, "key", "Return")
        t1 = wait_desktop(xv, 60, vproc)
        if t1 is None:
            raise RuntimeError(f"vdi-viewer: no desktop after login: {tail(st.log.name)}")
        shot(xv, "login-kiosk")
        return {"viewer": "vdi-viewer", "ms": (t1 - t0) * 1000.0}


def shot(xv, name):
    """With VDI_BENCH_SHOTS=DIR, keep a screenshot (to check what was detected)."""
    d = os.environ.get("VDI_BENCH_SHOTS")
    if d:
        os.makedirs(d, exist_ok=True)
        subprocess.run(["import", "-window", "root", os.path.join(d, name + ".png")],
                       env=xv.env(), check=False)


def measure_login_vv(broker, build, kind, user, password):
    """A viewer opening the .vv the broker hands out (the login done by us)."""
    with LoginStage(broker, user, password) as st:
        tok = broker.login(user, password)
        t_login = time.monotonic()
        vv = broker.connect(tok, "demo", "vnc", accept="application/x-virt-viewer", timeout=60)
        t_vv = time.monotonic()
        path = os.path.join(st.tmp, "desk.vv")
        with open(path, "wb") as f:
            f.write(vv)
        t0 = time.monotonic()
        vproc = st.launch(["remote-viewer", "--full-screen", path] if kind == "remote-viewer"
                          else [os.path.join(build, "viewer/vdi-viewer"), "--fullscreen", path])
        t1 = wait_desktop(st.xv, 60, vproc)
        if t1 is None:
            raise RuntimeError(f"{kind}: no desktop: {tail(st.log.name)}")
        shot(st.xv, f"login-vv-{kind}")
        return {"viewer": kind, "ms": (t1 - t0) * 1000.0,
                "connect_ms": (t_vv - t_login) * 1000.0}


# ---- report ----

def fmt(v, f):
    return "-" if v is None else f.format(v)


def table(rows, kinds, ratio_to="vdi-viewer"):
    head = [""] + list(kinds) + [f"vdi-viewer / {k}" for k in kinds if k != ratio_to]
    lines = [head]
    for label, vals, f in rows:
        cells = [label] + [fmt(vals.get(k), f) for k in kinds]
        ours = vals.get(ratio_to)
        for k in kinds:
            if k == ratio_to:
                continue
            peer = vals.get(k)
            cells.append(f"{ours / peer:.2f}" if ours is not None and peer else "-")
        lines.append(cells)
    widths = [max(len(l[i]) for l in lines) for i in range(len(head))]
    out = []
    for n, l in enumerate(lines):
        out.append("| " + " | ".join(c.ljust(w) if i == 0 else c.rjust(w)
                                     for i, (c, w) in enumerate(zip(l, widths))) + " |")
        if n == 0:
            out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--build", default=os.path.join(os.path.dirname(__file__), "..", "build"))
    ap.add_argument("--json", help="write every run's results to this file")
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--viewers", default=",".join(VIEWERS))
    ap.add_argument("--tests", default="decode,login")
    ap.add_argument("--protocols", default="vnc,spice", help="for the decode test")
    a = ap.parse_args()
    kinds = [k for k in VIEWERS + OPTIONAL_VIEWERS if k in a.viewers.split(",")]
    tests = a.tests.split(",")
    protocols = [p for p in ("vnc", "spice") if p in a.protocols.split(",")]

    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        sys.exit("bench: /dev/kvm is not usable here")
    for tool in ("Xvfb", "xdotool") + (("vncpasswd",) if any(k.startswith("tigervnc")
                                                              for k in kinds) else ()):
        if not shutil.which(tool):
            sys.exit(f"bench: {tool} missing (apt-get install xvfb xdotool tigervnc-viewer)")
    for k in list(kinds):
        if VIEWER_BINS[k] and not shutil.which(VIEWER_BINS[k]):
            print(f"{k}: {VIEWER_BINS[k]} not installed; left out", flush=True)
            kinds.remove(k)
    for path in ("vmm/vdi-vmm", "vmm/guest/vdi-guest.elf", "viewer/vdi-viewer",
                 "bench/vdi-bench-vnc-client", "broker/vdi-broker"):
        if not os.path.exists(os.path.join(a.build, path)):
            sys.exit(f"bench: {os.path.join(a.build, path)} missing; build first")

    res = {"decode": {p: {k: [] for k in kinds if viewer_speaks(k, p)} for p in protocols},
           "login": {"vdi-viewer": [], "vdi-viewer .vv": [], "remote-viewer .vv": []},
           "ref": []}

    if "decode" in tests:
        for i in range(a.runs):
            ref, measured, total = reference_pixels(a.build, a.frames)
            res["ref"].append(ref)
            print(f"run {i + 1} reference: the benchmark changes {ref / 1e6:.2f} Mpixel "
                  f"(vdi-bench-vnc-client, {measured}/{total} frames)", flush=True)
            for proto in protocols:
                for kind in res["decode"][proto]:
                    label = f"{kind} {proto}"
                    try:
                        rep = measure_decode(kind, a.build, a.frames, ref, proto)
                    except RuntimeError as e:
                        print(f"run {i + 1} {label:19s} failed: {e}", flush=True)
                        continue
                    res["decode"][proto][kind].append(rep)
                    print(f"run {i + 1} {label:19s} CPU {rep['sched_cpu_s']:6.3f} s "
                          f"(ticks {rep['cpu_s']:.2f}), {fmt(rep['mpix_per_cpu_s'], '{:6.1f}')} "
                          f"Mpixel/CPU-s, X server {rep['x_sched_cpu_s']:.3f} s, last frame "
                          f"{fmt(rep['last_frame_ms'], '{:.1f}')} ms, sent "
                          f"{fmt(rep['server_pixels'] and rep['server_pixels'] / 1e6, '{:.2f}')} "
                          f"Mpixel ({rep['encoding']}), guest's sequence {rep['bench_s']:.2f} s", flush=True)

    if "login" in tests:
        broker = Broker(a.build)
        try:
            user, pw = "bench", "bench password 1"
            broker.add_user(user, pw)
            for i in range(a.runs):
                for name, fn in (
                        ("vdi-viewer", lambda: measure_login_vdi(broker, a.build, user, pw)),
                        ("vdi-viewer .vv",
                         lambda: measure_login_vv(broker, a.build, "vdi-viewer", user, pw)),
                        ("remote-viewer .vv",
                         lambda: measure_login_vv(broker, a.build, "remote-viewer", user, pw))):
                    if name == "remote-viewer .vv" and "remote-viewer" not in kinds:
                        continue
                    try:
                        rep = fn()
                    except RuntimeError as e:
                        print(f"run {i + 1} login {name:17s} failed: {e}", flush=True)
                        continue
                    res["login"][name].append(rep)
                    extra = (f" (the broker's connect before it took {rep['connect_ms']:.0f} ms)"
                             if "connect_ms" in rep else "")
                    print(f"run {i + 1} login {name:17s} {rep['ms']:7.0f} ms{extra}",
                          flush=True)
        finally:
            broker.stop()

    print()
    for proto in protocols if "decode" in tests else ():
        d = res["decode"][proto]
        shown = [k for k in d if d[k]]

        def m(key, scale=1.0):
            return {k: med([r[key] * scale if r.get(key) is not None else None for r in d[k]])
                    for k in shown}

        rows = [
            ("viewer CPU over the sequence (s, lower is better)", m("sched_cpu_s"), "{:.3f}"),
            ("benchmark Mpixel per viewer CPU-s (higher is better)", m("mpix_per_cpu_s"),
             "{:.1f}"),
            ("X server CPU over the sequence (s)", m("x_sched_cpu_s"), "{:.3f}"),
        ]
        if proto == "vnc":
            rows += [
                ("Mpixel the server sent to the viewer", m("server_pixels", 1e-6), "{:.2f}"),
                ("sent Mpixel per viewer CPU-s", m("sent_mpix_per_cpu_s"), "{:.1f}"),
            ]
        rows += [
            ("last frame: serial line to screen (ms)", m("last_frame_ms"), "{:.1f}"),
            ("guest's sequence, start to done (s)", m("bench_s"), "{:.2f}"),
        ]
        print(f"decode over {proto.upper()}: median of {a.runs} run(s), {a.frames} frames, benchmark "
              f"{fmt(med(res['ref']) and med(res['ref']) / 1e6, '{:.2f}')} Mpixel; "
              f"encodings: " + ", ".join(f"{k} {d[k][-1]['encoding']}" for k in shown))
        print(table(rows, shown))
        print()
    if "login" in tests:
        l = res["login"]
        vals = {k: med([r["ms"] for r in l[k]]) for k in l if l[k]}
        print(f"login to first desktop frame: median of {a.runs} run(s)")
        for k, what in (("vdi-viewer", "kiosk: from Enter in the password field, login and "
                                       "the broker's connect included"),
                        ("vdi-viewer .vv", "from launching it with the broker's .vv"),
                        ("remote-viewer .vv", "from launching it with the broker's .vv")):
            if k in vals:
                ms = [r["ms"] for r in l[k]]
                print(f"  {k:17s} {vals[k]:6.0f} ms ({what}; runs: "
                      + ", ".join(f"{v:.0f}" for v in ms) + ")")
        if "vdi-viewer .vv" in vals and "remote-viewer .vv" in vals:
            print(f"  ratio vdi-viewer / remote-viewer, launched with a .vv: "
                  f"{vals['vdi-viewer .vv'] / vals['remote-viewer .vv']:.2f}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
