"""Hostile connection patterns against a running `moodreel serve` on 127.0.0.1, for
scripts/loadtest.sh. Standard library only; every phase is bounded in count and time.

Usage: hostile.py slowloris URL SLOW IDLE SECONDS
       hostile.py stalled URL UPLOADS MEGABYTES
       hostile.py bombs URL COUNT

slowloris: SLOW connections send a request head one byte a second and IDLE connections send
nothing; after SECONDS it prints how many the server had closed, and how long /api/v1/health took
meanwhile (the server must keep answering).

stalled: UPLOADS multipart uploads to /api/v1/analyze, each declaring MEGABYTES and sending all
but its last kilobyte, then stalling; prints how many were answered 503 at once (beyond the body
budget), 408 (stalled), something else, or not at all.

bombs: COUNT small PNGs that decode to 317 MB each (6300x6300, 16-bit RGBA: over the decode
budget, refused from the header) and COUNT that decode to 100 MB each (5000x5000, 8-bit RGBA:
within it), all sent at once to /api/v1/analyze; prints the statuses.
"""

import socket
import struct
import sys
import zlib
import threading
import time
import urllib.error
import urllib.request
from urllib.parse import urlparse


def connect(host: str, port: int) -> socket.socket:
    sock = socket.create_connection((host, port), timeout=30)
    sock.setblocking(True)
    return sock


def closed_by_server(sock: socket.socket) -> bool:
    """Whether the server has closed the connection (a read returns end of file or a reset)."""
    sock.settimeout(0.01)
    try:
        while True:
            data = sock.recv(4096)
            if not data:
                return True
    except (socket.timeout, BlockingIOError):
        return False
    except OSError:
        return True


def health_millis(url: str) -> float:
    started = time.monotonic()
    try:
        with urllib.request.urlopen(f"{url}/api/v1/health", timeout=10) as response:
            response.read()
            ok = response.status == 200
    except OSError:
        ok = False
    took = (time.monotonic() - started) * 1000
    return took if ok else float("inf")


def slowloris(url: str, slow: int, idle: int, seconds: int) -> None:
    parsed = urlparse(url)
    host, port = parsed.hostname, parsed.port
    head = f"GET /api/v1/health HTTP/1.1\r\nHost: {host}:{port}\r\nX-Slow: ".encode()
    slow_socks, idle_socks = [], []
    refused = 0
    for _ in range(slow):
        try:
            slow_socks.append(connect(host, port))
        except OSError:
            refused += 1
    for _ in range(idle):
        try:
            idle_socks.append(connect(host, port))
        except OSError:
            refused += 1
    health = []
    started = time.monotonic()
    sent = 0
    while time.monotonic() - started < seconds:
        for sock in slow_socks:
            if sent < len(head):
                byte = head[sent : sent + 1]
            else:
                byte = b"a"
            try:
                sock.send(byte)
            except OSError:
                pass
        sent += 1
        health.append(health_millis(url))
        time.sleep(1)
    slow_closed = sum(closed_by_server(sock) for sock in slow_socks)
    idle_closed = sum(closed_by_server(sock) for sock in idle_socks)
    for sock in slow_socks + idle_socks:
        sock.close()
    worst = max(health) if health else float("nan")
    print(
        f"slowloris: slow={slow} closed_by_server={slow_closed} idle={idle} "
        f"closed_by_server={idle_closed} connect_failed={refused} after={seconds}s "
        f"health_checks={len(health)} health_worst_ms={worst:.0f}"
    )


def stalled(url: str, uploads: int, megabytes: int) -> None:
    parsed = urlparse(url)
    host, port = parsed.hostname, parsed.port
    declared = megabytes * 1024 * 1024
    head = (
        f"POST /api/v1/analyze HTTP/1.1\r\nHost: {host}:{port}\r\n"
        "Content-Type: multipart/form-data; boundary=XYZ\r\n"
        f"Content-Length: {declared}\r\n\r\n"
        '--XYZ\r\nContent-Disposition: form-data; name="image"; filename="a"\r\n\r\n'
    ).encode()
    # All but the last kilobyte of the declared length.
    body_left = declared - len(head) + head.index(b"--XYZ") - 1024
    block = b"\x89PNG\r\n\x1a\n" + b"\x55" * (64 * 1024 - 8)
    results = []
    lock = threading.Lock()

    def one() -> None:
        status = "none"
        try:
            sock = connect(host, port)
            sock.sendall(head)
            sock.settimeout(0.5)
            try:
                first = sock.recv(64)
            except socket.timeout:
                first = b""
            if first:
                status = first.split(b" ")[1].decode() if b" " in first else "?"
            else:
                sock.settimeout(60)
                left = body_left
                while left > 0:
                    piece = block[: min(left, len(block))]
                    sock.sendall(piece)
                    left -= len(piece)
                first = sock.recv(64)
                status = first.split(b" ")[1].decode() if b" " in first else "closed"
            sock.close()
        except OSError as error:
            status = f"error:{type(error).__name__}"
        with lock:
            results.append(status)

    started = time.monotonic()
    threads = [threading.Thread(target=one) for _ in range(uploads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    took = time.monotonic() - started
    counts = {}
    for status in results:
        counts[status] = counts.get(status, 0) + 1
    summary = " ".join(f"{status}={count}" for status, count in sorted(counts.items()))
    print(
        f"stalled uploads: {uploads} x {megabytes} MB, all but 1 KB sent: {summary} "
        f"in {took:.1f}s; health_ms={health_millis(url):.0f}"
    )


def png(width: int, height: int, depth: int, colour: int) -> bytes:
    """A valid PNG of one flat colour, compressed row by row (it is small however large)."""
    channels = {0: 1, 2: 3, 6: 4}[colour]
    row = b"\0" + b"\0" * (width * channels * depth // 8)
    packer = zlib.compressobj(9)
    data = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", data)
        + chunk(b"IEND", b"")
    )


def post_photo(url: str, photo: bytes) -> str:
    boundary = "XYZ"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n'
        "Content-Type: image/png\r\n\r\n"
    ).encode() + photo + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(
        f"{url}/api/v1/analyze",
        data=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return str(response.status)
    except urllib.error.HTTPError as error:
        return str(error.code)
    except OSError as error:
        return f"error:{type(error).__name__}"


def bombs(url: str, count: int) -> None:
    deep = png(6300, 6300, 16, 6)
    wide = png(5000, 5000, 8, 6)
    results = {}
    lock = threading.Lock()

    def one(name: str, photo: bytes) -> None:
        status = post_photo(url, photo)
        with lock:
            results.setdefault(name, []).append(status)

    threads = [threading.Thread(target=one, args=("16-bit", deep)) for _ in range(count)]
    threads += [threading.Thread(target=one, args=("8-bit", wide)) for _ in range(count)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    took = time.monotonic() - started
    summary = "; ".join(
        f"{name} ({len(photo)} bytes): "
        + " ".join(f"{s}={results.get(name, []).count(s)}" for s in sorted(set(results.get(name, []))))
        for name, photo in (("16-bit", deep), ("8-bit", wide))
    )
    print(f"bombs: {count} of each at once: {summary} in {took:.1f}s")


def main() -> None:
    phase, url = sys.argv[1], sys.argv[2].rstrip("/")
    if phase == "slowloris":
        slowloris(url, int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
    elif phase == "stalled":
        stalled(url, int(sys.argv[3]), int(sys.argv[4]))
    elif phase == "bombs":
        bombs(url, int(sys.argv[3]))
    else:
        sys.exit(f"unknown phase {phase}")


if __name__ == "__main__":
    main()
