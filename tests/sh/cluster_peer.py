#!/usr/bin/python3
"""cluster_peer.py — a hand-written peer for the wb cluster protocol, used by
cluster_badpeers.sh: it sends what a wb peer never would and reports what the
head answered. It speaks the frames without TLS (this Python has no TLS 1.3
external PSK): the head runs with --insecure-no-tls, which changes the
transport only (with TLS the same frames travel inside it).
Usage: cluster_peer.py HOST:PORT CASE [TOKEN]"""
import hashlib, hmac, os, socket, struct, sys

HELLO, AUTH, AUTH_OK, REJECT = 1, 2, 3, 4
ROLE_DRIVER = 3


def recv_exact(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            return None
        b += c
    return b


def recv_frame(s):
    h = recv_exact(s, 8)
    if h is None:
        return None, None
    n, t, f = struct.unpack("<IHH", h)
    return t, recv_exact(s, n)


def frame(t, payload, length=None):
    return struct.pack("<IHH", len(payload) if length is None else length, t, 0) + payload


def closed(s, secs=3):
    """True when the peer closes the connection (it may send a REJECT first)"""
    s.settimeout(secs)
    try:
        while True:
            c = s.recv(4096)
            if not c:
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


def main():
    host, port = sys.argv[1].rsplit(":", 1)
    case = sys.argv[2]
    s = socket.create_connection((host, int(port)), timeout=5)
    t, hello = recv_frame(s)
    assert t == HELLO and hello[:4] == b"WBCL", "no HELLO"
    version, role = struct.unpack("<HB", hello[4:7])
    nonce_s = hello[7:39]
    nonce_c = os.urandom(32)
    if case == "garbage":
        s.sendall(os.urandom(300))
        print("closed" if closed(s) else "open")
    elif case == "http":
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        print("closed" if closed(s) else "open")
    elif case == "oversized":
        s.sendall(frame(AUTH, b"", length=1 << 30))
        print("closed" if closed(s) else "open")
    elif case == "truncated":
        s.sendall(frame(AUTH, b"WBCL\x01\x00", length=100))
        s.shutdown(socket.SHUT_WR)
        print("closed" if closed(s) else "open")
    elif case in ("version", "good", "wrongtoken"):
        token = sys.argv[3].encode()
        v = version + 1 if case == "version" else version  # the head's version (from HELLO), or the next one
        mac = hmac.new(token, b"wb-client" + nonce_s + nonce_c + bytes([ROLE_DRIVER]), hashlib.sha256).digest()
        if case == "wrongtoken":
            mac = bytes(32)
        s.sendall(frame(AUTH, b"WBCL" + struct.pack("<HB", v, ROLE_DRIVER) + nonce_c + mac))
        t, p = recv_frame(s)
        if t == REJECT:
            code, n = struct.unpack("<iI", p[:8])
            print("reject", code, p[8:8 + n].decode())
        elif t == AUTH_OK:
            want = hmac.new(token, b"wb-server" + nonce_c + nonce_s + bytes([ROLE_DRIVER]), hashlib.sha256).digest()
            print("auth_ok", "head-proved-token" if hmac.compare_digest(p, want) else "bad-server-mac",
                  "token-absent" if token not in hello + p else "token-SEEN")
        else:
            print("unexpected", t)
    else:
        raise SystemExit("unknown case " + case)


main()
