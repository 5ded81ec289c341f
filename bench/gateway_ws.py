#!/usr/bin/env python3
"""Browser console gateway against websockify, in front of the same VNC server.

vdi-broker runs with one pool of one reference-guest desktop; the desktop's
VNC server (vdi-vmm, libvncserver) is reached three ways:

  direct     plain TCP to the VM's VNC port (the floor: no tunnel at all);
  gateway    wss://broker/api/v1/console?ticket=... (broker/gateway.c): a
             ticket from POST /api/v1/pools/NAME/connect {"protocol":"web"},
             the gateway answers the VM's VNC authentication itself;
  websockify Debian's websockify (python3-websockify, its default engine: a
             process per connection) with the broker's TLS certificate, in
             front of the same VNC port; the client authenticates with the
             one-time password from connect {"protocol":"vnc"}.

Both tunnels are TLS (wss), HTTP/1.1 upgrade, binary frames. Measured:

- throughput of one tunnel: the client asks for the whole 1024x768 screen
  in Raw encoding (3 MiB per update, no guest work: the server copies its
  framebuffer), one request at a time, until MIB mebibytes have arrived;
  MiB/s, and the relay's CPU time per GiB (broker, or every websockify
  process);
- round trip: a 1x1 non-incremental FramebufferUpdateRequest and its
  20-byte answer, ROUNDS times per way, in batches of 100 alternating
  between the ways; p50/p99, and what the tunnel adds to the direct round
  trip;
- memory per idle tunnel (measured first, once: an allocator reuses what
  earlier tunnels freed): TUNNELS tunnels opened one after the other, each
  through the RFB handshake to ServerInit, then left idle; the relay's
  proportional set size (PSS, /proc/PID/smaps_rollup; for websockify the
  listener and all its per-connection children) after, minus before,
  divided by TUNNELS.

usage: bench/gateway_ws.py [--build DIR] [--runs N] [--mib N] [--rounds N]
                           [--tunnels N] [--json FILE]
"""
import argparse
import base64
import ctypes
import ctypes.util
import json
import os
import re
import resource
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import time

from benchlib import Broker, cpu_s, free_port, med, percentile

POOL = "bench"

USER, PASSWORD = "bench", "bench password 1"
# The WebSocket client's TLS: self-signed certificates, HTTP/1.1 (the
# upgrade), as a browser on a pinned or accepted certificate would.
WS_CTX = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
WS_CTX.check_hostname = False
WS_CTX.verify_mode = ssl.CERT_NONE
WS_CTX.set_alpn_protocols(["http/1.1"])


# ---- byte streams: TCP, and RFB inside WebSocket binary messages ----

class Stream:
    """A socket read through a buffer; read(n) gives exactly n bytes."""

    CHUNK = 256 * 1024

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.pos = 0

    def _fill(self):
        data = self.sock.recv(self.CHUNK)
        if not data:
            raise ConnectionError("connection closed")
        self.buf, self.pos = data, 0

    def take(self, n):
        """Up to n bytes (at least 1)."""
        if self.pos >= len(self.buf):
            self._fill()
        out = self.buf[self.pos:self.pos + n]
        self.pos += len(out)
        return out

    def read_raw(self, n):
        parts = []
        while n:
            p = self.take(n)
            parts.append(p)
            n -= len(p)
        return b"".join(parts)

    # What RFB code calls: the payload stream.
    def read(self, n):
        return self.read_raw(n)

    def skip(self, n):
        while n:
            n -= len(self.take(n))

    def send(self, data):
        self.sock.sendall(data)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class WsStream(Stream):
    """RFB over WebSocket (RFC 6455): binary messages in, masked binary frames out."""

    def __init__(self, sock):
        super().__init__(sock)
        self.left = 0  # payload bytes left in the current frame

    def _frame(self):
        b0, b1 = self.read_raw(2)
        n = b1 & 0x7f
        if n == 126:
            n = struct.unpack(">H", self.read_raw(2))[0]
        elif n == 127:
            n = struct.unpack(">Q", self.read_raw(8))[0]
        if b1 & 0x80:
            raise ConnectionError("the server masked a frame")
        op = b0 & 0x0f
        if op in (0, 2):
            self.left = n
        elif op == 8:
            body = self.read_raw(n)
            code = struct.unpack(">H", body[:2])[0] if len(body) >= 2 else 1005
            raise ConnectionError(f"closed by the server: {code} {body[2:].decode(errors='replace')}")
        elif op == 9:
            self._send_frame(0xA, self.read_raw(n))
        else:
            self.read_raw(n)  # pong, or text (which RFB never uses)

    def _payload(self, n, keep):
        parts = []
        while n:
            if not self.left:
                self._frame()
                continue
            k = min(n, self.left)
            if keep:
                p = self.read_raw(k)
                parts.append(p)
            else:
                Stream.skip(self, k)
            self.left -= k
            n -= k
        return b"".join(parts)

    def read(self, n):
        return self._payload(n, True)

    def skip(self, n):
        self._payload(n, False)

    def _send_frame(self, op, data):
        n = len(data)
        head = bytes([0x80 | op])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack(">Q", n)
        mask = os.urandom(4)
        body = bytes(b ^ mask[i & 3] for i, b in enumerate(data))
        self.sock.sendall(head + mask + body)

    def send(self, data):
        self._send_frame(2, data)


def ws_connect(port, path, origin, subprotocol):
    """A TLS WebSocket client on 127.0.0.1:port; returns a WsStream."""
    raw = socket.create_connection(("127.0.0.1", port), timeout=60)
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock = WS_CTX.wrap_socket(raw, server_hostname="127.0.0.1")
    key = base64.b64encode(os.urandom(16)).decode()
    req = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
           f"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: {subprotocol}\r\n"
           f"Origin: {origin}\r\n\r\n")
    sock.sendall(req.encode())
    s = WsStream(sock)
    head = b""
    while b"\r\n\r\n" not in head:
        head += s.read_raw(1)
        if len(head) > 8192:
            raise ConnectionError("no end to the upgrade answer")
    status = head.split(b"\r\n", 1)[0].decode(errors="replace")
    if " 101 " not in status + " ":
        raise ConnectionError(f"upgrade refused: {status}")
    return s


def tcp_connect(port):
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return Stream(sock)


# ---- RFB: just enough of a client ----

_vnc = None


def vnc_des(challenge, password):
    """VNC authentication's answer, computed by libvncclient itself."""
    global _vnc
    if _vnc is None:
        _vnc = ctypes.CDLL(ctypes.util.find_library("vncclient") or "libvncclient.so.1")
        _vnc.rfbClientEncryptBytes.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    buf = ctypes.create_string_buffer(challenge, 16)
    _vnc.rfbClientEncryptBytes(buf, password.encode())
    return buf.raw[:16]


class Rfb:
    """An RFB 3.8 client session up to ServerInit, then Raw updates."""

    def __init__(self, stream, password=None):
        self.s = stream
        version = stream.read(12)
        if not version.startswith(b"RFB 003."):
            raise ConnectionError(f"not RFB: {version!r}")
        stream.send(b"RFB 003.008\n")
        n = stream.read(1)[0]
        if n == 0:
            ln = struct.unpack(">I", stream.read(4))[0]
            raise ConnectionError("refused: " + stream.read(ln).decode(errors="replace"))
        types = stream.read(n)
        if password is not None and 2 in types:
            stream.send(b"\x02")
            stream.send(vnc_des(stream.read(16), password))
        elif 1 in types:
            stream.send(b"\x01")
        else:
            raise ConnectionError(f"no usable security type in {list(types)}")
        if struct.unpack(">I", stream.read(4))[0] != 0:
            raise ConnectionError("VNC authentication failed")
        stream.send(b"\x01")  # ClientInit: shared
        w, h = struct.unpack(">HH", stream.read(4))
        fmt = stream.read(16)
        name_len = struct.unpack(">I", stream.read(4))[0]
        stream.read(name_len)
        self.w, self.h, self.bpp = w, h, fmt[0] // 8

    def raw_only(self):
        self.s.send(struct.pack(">BxHi", 2, 1, 0))  # SetEncodings [Raw]

    def update(self, x, y, w, h):
        """One non-incremental update of a region; returns the bytes it took."""
        self.s.send(struct.pack(">BBHHHH", 3, 0, x, y, w, h))
        while True:
            t = self.s.read(1)[0]
            if t == 0:
                break
            if t == 2:  # Bell
                continue
            if t == 3:  # ServerCutText
                ln = struct.unpack(">3xI", self.s.read(7))[0]
                self.s.skip(ln)
                continue
            raise ConnectionError(f"unexpected server message {t}")
        nrects = struct.unpack(">xH", self.s.read(3))[0]
        total = 4
        for _ in range(nrects):
            rx, ry, rw, rh, enc = struct.unpack(">HHHHi", self.s.read(12))
            total += 12
            if enc != 0:
                raise ConnectionError(f"unexpected encoding {enc}")
            n = rw * rh * self.bpp
            self.s.skip(n)
            total += n
        return total

    def close(self):
        self.s.close()


# ---- processes ----

def pss_kib(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            m = re.search(r"^Pss:\s+(\d+) kB", f.read(), re.M)
        return int(m.group(1)) if m else 0
    except (FileNotFoundError, ProcessLookupError):
        return 0


def tree(pid):
    """pid and its descendants."""
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                kids.setdefault(ppid, []).append(int(d))
            except (FileNotFoundError, ProcessLookupError, IndexError):
                pass
    out, unvisited = [], [pid]
    while unvisited:
        p = unvisited.pop()
        out.append(p)
        unvisited.extend(kids.get(p, []))
    return out


def tree_cpu(pid):
    return sum(cpu_s(p) for p in tree(pid))


def tree_pss(pid):
    return sum(pss_kib(p) for p in tree(pid))


def wait_port(port, proc, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.1)
    return False


def wait_idle(pid, timeout=300):
    """Until a process uses under 5% of a core over a second (the guest booted)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        c0 = cpu_s(pid)
        time.sleep(1.0)
        if cpu_s(pid) - c0 < 0.05:
            return
    raise RuntimeError("the desktop never went idle")


class Ways:
    """Opens an RFB session each way to the same desktop."""

    def __init__(self, broker, token, ws_port, vnc_port):
        self.b, self.ws_port, self.vnc_port = broker, ws_port, vnc_port
        self.connect = lambda protocol: broker.connect(token, POOL, protocol)

    def open(self, way):
        if way == "direct":
            pw = self.connect("vnc")["password"]
            return Rfb(tcp_connect(self.vnc_port), pw)
        if way == "gateway":
            t = self.connect("web")["ticket"]
            return Rfb(ws_connect(self.b.port, f"/api/v1/console?ticket={t}", self.b.origin,
                                  "vdi-console"))
        pw = self.connect("vnc")["password"]
        return Rfb(ws_connect(self.ws_port, "/", f"https://127.0.0.1:{self.ws_port}", "binary"),
                   pw)


def measure_throughput(ways, way, mib, relay_cpu):
    r = ways.open(way)
    try:
        r.raw_only()
        r.update(0, 0, r.w, r.h)  # warm
        c0, t0, got = relay_cpu(), time.monotonic(), 0
        while got < mib * 1024 * 1024:
            got += r.update(0, 0, r.w, r.h)
        dt, cpu = time.monotonic() - t0, relay_cpu() - c0
    finally:
        r.close()
    return {"mib_s": got / dt / 1048576, "relay_cpu_s_per_gib": cpu / (got / 2 ** 30)}


def measure_rtt(ways, order, rounds):
    sessions = {w: ways.open(w) for w in order}
    lat = {w: [] for w in order}
    try:
        for s in sessions.values():
            s.raw_only()
            for _ in range(20):
                s.update(0, 0, 1, 1)
        for _ in range(0, rounds, 100):
            for w in order:
                s = sessions[w]
                for _ in range(100):
                    t0 = time.perf_counter()
                    s.update(0, 0, 1, 1)
                    lat[w].append(time.perf_counter() - t0)
    finally:
        for s in sessions.values():
            s.close()
    return {w: {"p50_ms": percentile(v, 50) * 1e3, "p99_ms": percentile(v, 99) * 1e3}
            for w, v in lat.items()}


def measure_memory(ways, way, n, relay_pss):
    time.sleep(1.0)
    before = relay_pss()
    opened = []
    try:
        for _ in range(n):
            opened.append(ways.open(way))
        time.sleep(2.0)
        after = relay_pss()
    finally:
        for s in opened:
            s.close()
    time.sleep(2.0)  # let the relay and the VM's server see the closes
    return {"before_kib": before, "after_kib": after, "per_tunnel_kib": (after - before) / n}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(os.path.dirname(__file__), "..", "build"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--mib", type=int, default=192, help="MiB per throughput measurement")
    ap.add_argument("--rounds", type=int, default=2000, help="round trips per way per run")
    ap.add_argument("--tunnels", type=int, default=500, help="idle tunnels for memory")
    ap.add_argument("--ways", default="direct,gateway,websockify",
                    help="throughput and round trip: which ways, in this order")
    ap.add_argument("--json")
    a = ap.parse_args()
    for path in ("broker/vdi-broker", "vmm/vdi-vmm", "vmm/guest/vdi-guest.elf"):
        if not os.path.exists(os.path.join(a.build, path)):
            sys.exit(f"bench: {os.path.join(a.build, path)} missing; build first")
    if not shutil.which("websockify"):
        sys.exit("bench: websockify missing (apt-get install python3-websockify)")
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        sys.exit("bench: /dev/kvm is not usable here")
    # Two descriptors per tunnel in each relay and one in the VM's server.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 4 * a.tunnels + 256
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))

    # Killed (SIGTERM): still end the broker, its desktop and websockify.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("bench: terminated"))
    broker = Broker(a.build, config=f"[console]\nmax_tunnels = {a.tunnels + 16}\n"
                    f"max_tunnels_per_user = {a.tunnels + 16}\n"
                    f"[pool {POOL}]\nsize = 1\nspares = 0\nmax_vms = 1\nmemory = 64\n"
                    f"entitle = group:users\n", prefix="vdi-bench-gateway-")
    wsify = wslog = None
    res = {"throughput": {"direct": [], "gateway": [], "websockify": []},
           "rtt": [], "memory": {"gateway": [], "websockify": []}}
    try:
        broker.add_user(USER, PASSWORD)
        token = broker.login(USER, PASSWORD)
        first = broker.connect(token, POOL, "vnc")
        vnc_port = first["port"]
        vmms = broker.vmm_pids()
        if len(vmms) != 1:
            raise RuntimeError(f"expected one vdi-vmm, found {vmms}")
        vmm = vmms[0]
        print(f"desktop {first['vm']} on VNC port {vnc_port}, waiting for its guest to go "
              "idle", flush=True)
        wait_idle(vmm)
        ws_port = free_port()
        wslog = open(os.path.join(broker.tmp, "websockify.log"), "w")
        cert = os.path.join(broker.data, "tls/server-cert.pem")
        key = os.path.join(broker.data, "tls/server-key.pem")
        wsify = subprocess.Popen(["websockify", "--cert", cert, "--key", key, "--ssl-only",
                                  f"127.0.0.1:{ws_port}", f"127.0.0.1:{vnc_port}"],
                                 stdout=wslog, stderr=subprocess.STDOUT)
        if not wait_port(ws_port, wsify):
            raise RuntimeError("websockify did not start")
        ways = Ways(broker, token, ws_port, vnc_port)
        relay_cpu = {"direct": lambda: cpu_s(vmm), "gateway": lambda: cpu_s(broker.proc.pid),
                     "websockify": lambda: tree_cpu(wsify.pid)}
        relay_pss = {"gateway": lambda: pss_kib(broker.proc.pid),
                     "websockify": lambda: tree_pss(wsify.pid)}
        order = a.ways.split(",")
        # Memory first and once: a relay's allocator reuses what earlier
        # tunnels freed, so only its first tunnels show what a tunnel costs.
        for way in ("gateway", "websockify") if a.tunnels else ():
            m = measure_memory(ways, way, a.tunnels, relay_pss[way])
            res["memory"][way].append(m)
            print(f"memory {way:10s} {a.tunnels} idle tunnels: "
                  f"{m['before_kib'] / 1024:.1f} -> {m['after_kib'] / 1024:.1f} MiB, "
                  f"{m['per_tunnel_kib']:.1f} KiB per tunnel", flush=True)
        for i in range(a.runs):
            for way in order if i % 2 == 0 else order[::-1]:
                t = measure_throughput(ways, way, a.mib, relay_cpu[way])
                res["throughput"][way].append(t)
                print(f"run {i + 1} throughput {way:10s} {t['mib_s']:7.1f} MiB/s, "
                      f"relay CPU {t['relay_cpu_s_per_gib']:.2f} s per GiB", flush=True)
            rtt = measure_rtt(ways, order if i % 2 == 0 else order[::-1], a.rounds)
            res["rtt"].append(rtt)
            print(f"run {i + 1} round trip  " + ", ".join(
                f"{w} {v['p50_ms']:.3f}/{v['p99_ms']:.3f} ms" for w, v in rtt.items()),
                flush=True)
    finally:
        if wsify:
            for p in tree(wsify.pid)[1:]:
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            wsify.kill()
            wsify.wait()
            wslog.close()
        broker.stop()

    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1)
    if set(order) != {"direct", "gateway", "websockify"}:
        return  # a partial run (--ways): the lines above are the result
    tp = {w: med([r["mib_s"] for r in v]) for w, v in res["throughput"].items()}
    cpu = {w: med([r["relay_cpu_s_per_gib"] for r in v]) for w, v in res["throughput"].items()}
    rtt = {w: {k: med([r[w][k] for r in res["rtt"]]) for k in ("p50_ms", "p99_ms")}
           for w in ("direct", "gateway", "websockify")}
    mem = {w: med([r["per_tunnel_kib"] for r in v]) for w, v in res["memory"].items()}
    added = {w: {k: rtt[w][k] - rtt["direct"][k] for k in ("p50_ms", "p99_ms")}
             for w in ("gateway", "websockify")}
    print(f"\nmedian of {a.runs} run(s); ratio = gateway / websockify")
    print("| | direct | gateway | websockify | ratio |\n|---|---|---|---|---|")
    print(f"| throughput, one tunnel (MiB/s) | {tp['direct']:.0f} | {tp['gateway']:.0f} | "
          f"{tp['websockify']:.0f} | {tp['gateway'] / tp['websockify']:.2f} |")
    print(f"| relay CPU per GiB relayed (s) | {cpu['direct']:.2f} (vdi-vmm) | "
          f"{cpu['gateway']:.2f} | {cpu['websockify']:.2f} | "
          f"{cpu['gateway'] / cpu['websockify']:.2f} |")
    for k, label in (("p50_ms", "p50"), ("p99_ms", "p99")):
        print(f"| round trip {label} (ms) | {rtt['direct'][k]:.3f} | {rtt['gateway'][k]:.3f} | "
              f"{rtt['websockify'][k]:.3f} | {rtt['gateway'][k] / rtt['websockify'][k]:.2f} |")
        print(f"| added by the tunnel, {label} (ms) | | {added['gateway'][k]:.3f} | "
              f"{added['websockify'][k]:.3f} | "
              f"{added['gateway'][k] / added['websockify'][k]:.2f} |")
    if mem["gateway"] is not None and mem["websockify"] is not None:
        print(f"| memory per idle tunnel, {a.tunnels} open (KiB) | | {mem['gateway']:.1f} | "
              f"{mem['websockify']:.1f} | {mem['gateway'] / mem['websockify']:.3f} |")


if __name__ == "__main__":
    main()
