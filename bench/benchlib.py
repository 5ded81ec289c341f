"""Pieces the benchmarks share: ports, processes, the broker, its API.

Only the standard library; the scripts import it from their own directory.
"""
import http.client
import json
import os
import re
import signal
import socket
import ssl
import statistics
import subprocess
import tempfile
import time

TCK = os.sysconf("SC_CLK_TCK")

# One TLS context for every request (the broker's certificate is
# self-signed; benchmarks measure, they do not authenticate). Making one per
# request would load the system's CA bundle each time and measure Python.
CTX = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
CTX.check_hostname = False
CTX.verify_mode = ssl.CERT_NONE


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tail(path, n=5):
    """The last lines of a log, on one line (for error messages)."""
    try:
        with open(path, errors="replace") as f:
            return " | ".join(f.read().strip().splitlines()[-n:])
    except FileNotFoundError:
        return ""


def percentile(values, p):
    values = sorted(values)
    if not values:
        return float("nan")
    k = min(len(values) - 1, max(0, int(round(p / 100.0 * (len(values) - 1)))))
    return values[k]


def med(values):
    """Median of the values that are not None, or None."""
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def cpu_s(pid):
    """utime + stime of a whole process (all threads), in seconds; 0 once gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TCK
    except (FileNotFoundError, ProcessLookupError):
        return 0.0


def stop(proc, timeout=3):
    """SIGTERM, then SIGKILL if it does not go."""
    if proc and proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def procs_matching(text):
    """PIDs whose command line contains text."""
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/cmdline", "rb") as f:
                    if text.encode() in f.read():
                        out.append(int(d))
            except (FileNotFoundError, ProcessLookupError):
                pass
    return out


class Control:
    """vdi-vmm's control socket: JSON lines; events are kept."""

    def __init__(self, path, proc):
        """Connect once vdi-vmm (proc) has made its socket at path."""
        deadline = time.monotonic() + 20
        while not os.path.exists(path):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("vdi-vmm: no control socket")
            time.sleep(0.0005)
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(10)
        for _ in range(2000):
            try:
                self.sock.connect(path)
                break
            except (ConnectionRefusedError, FileNotFoundError):
                time.sleep(0.0005)
        self.buf = b""
        self.next_id = 1
        self.events = []

    def _line(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise RuntimeError("control socket closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def call(self, cmd, args=None):
        req = {"id": self.next_id, "cmd": cmd}
        if args is not None:
            req["args"] = args
        self.next_id += 1
        self.sock.sendall(json.dumps(req).encode() + b"\n")
        while True:
            msg = self._line()
            if msg.get("id") == req["id"]:
                if "error" in msg:
                    raise RuntimeError(f"{cmd}: {msg['error']}")
                return msg["ok"]
            self.events.append(msg)

    def wait_event(self, name, timeout):
        deadline = time.monotonic() + timeout
        while True:
            for e in self.events:
                if e.get("event") == name:
                    return e
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                self.events.append(self._line())
            except socket.timeout:
                return None
            finally:
                self.sock.settimeout(10)

    def close(self):
        self.sock.close()


def api(port, method, path, body=None, token=None, accept=None):
    """One HTTPS request to the broker on 127.0.0.1:port; (status, body bytes)."""
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=CTX, timeout=60)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    if accept:
        headers["Accept"] = accept
    conn.request(method, path, body=json.dumps(body) if body is not None else None,
                 headers=headers)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, data


class Broker:
    """vdi-broker on a fresh data directory, listening on a free port.

    config: the text of a configuration file, or None for the built-in demo
    pool. The broker leaves its VMMs running when it exits; stop() ends
    them too.
    """

    def __init__(self, build, config=None, log_level="warn", prefix="vdi-bench-broker-"):
        self.tmp = tempfile.mkdtemp(prefix=prefix)
        self.data = os.path.join(self.tmp, "var")
        self.bin = os.path.join(build, "broker/vdi-broker")
        args = []
        if config is not None:
            conf = os.path.join(self.tmp, "broker.conf")
            with open(conf, "w") as f:
                f.write(config)
            args = ["--config", conf]
        self.out = open(os.path.join(self.tmp, "broker.out"), "w+")
        self.proc = subprocess.Popen(
            [self.bin, *args, "--data-dir", self.data, "--listen", "127.0.0.1:0",
             "--log-level", log_level, "--vmm", os.path.join(build, "vmm/vdi-vmm"),
             "--guest", os.path.join(build, "vmm/guest/vdi-guest.elf")],
            stdout=self.out, stderr=subprocess.STDOUT)
        self.port = self.fingerprint = self.admin_pw = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.proc.poll() is None:
            self.out.seek(0)
            text = self.out.read()
            m = re.search(r"serving https://127\.0\.0\.1:(\d+)/", text)
            fp = re.search(r"TLS certificate SHA-256 fingerprint: (\S+)", text)
            ad = re.search(r"first start: created admin 'admin' with password (\S+)", text)
            if m and fp and ad:
                self.port, self.fingerprint, self.admin_pw = \
                    int(m.group(1)), fp.group(1), ad.group(1)
                break
            time.sleep(0.1)
        if not self.port:
            self.stop()
            raise RuntimeError("the broker did not start")
        self.origin = f"https://127.0.0.1:{self.port}"

    def add_user(self, name, password, group="users"):
        subprocess.run([self.bin, "--data-dir", self.data, "user", "add", name, "--group",
                        group, "--password-stdin"], input=password + "\n", text=True,
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def login(self, user, password):
        """A session token."""
        st, data = api(self.port, "POST", "/api/v1/login", {"user": user, "password": password})
        if st != 200:
            raise RuntimeError(f"login {user}: {st} {data[:200]}")
        return json.loads(data)["token"]

    def connect(self, token, pool, protocol, accept=None, timeout=300):
        """POST /api/v1/pools/POOL/connect, waiting while the desktop starts (503)."""
        deadline = time.monotonic() + timeout
        while True:
            st, data = api(self.port, "POST", f"/api/v1/pools/{pool}/connect",
                           {"protocol": protocol}, token, accept)
            if st == 200:
                return data if accept else json.loads(data)
            if st != 503 or time.monotonic() > deadline:
                raise RuntimeError(f"connect: {st} {data[:200]}")
            time.sleep(0.25)

    def vmm_pids(self):
        return [p for p in procs_matching(f"{self.data}/run/") if p != os.getpid()]

    def stop(self):
        stop(self.proc, 10)
        for pid in self.vmm_pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.out.close()
        subprocess.run(["rm", "-rf", self.tmp], check=False)
