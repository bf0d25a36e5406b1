#!/usr/bin/python3
"""cluster_peer.py — a hand-written peer for the wb cluster protocol, used by
cluster_badpeers.sh, cluster_limits.sh and cluster_handshake.sh. The MACs are
computed here with Python's hmac module, independently of wb's code. It speaks
the frames without TLS (this Python has no TLS 1.3 external PSK): the head it
meets runs with --insecure-no-tls, and so do the driver and worker that meet
the fake head; that changes the transport only (with TLS the same frames
travel inside it).

  cluster_peer.py HOST:PORT CASE [TOKEN]
      a client of a head: it sends what a wb peer never would and reports what
      the head answered (CASE: garbage, http, oversized, truncated, version,
      good, wrongtoken, lastbyte: the right MAC with its last byte changed,
      wrongtoken3: three wrong-token handshakes in a row)
  cluster_peer.py --fake-head PORTFILE CASE TOKEN
      a fake head on 127.0.0.1 (its port written to PORTFILE once it listens):
      every client gets a HELLO; its AUTH is checked (printed: "client-proved-
      token" or "bad-client-mac", one line a connection) and answered with an
      AUTH_OK whose proof is CASE: good (the right one), wrongmac (32 bytes
      unrelated to the token) or lastbyte (the right one, its last byte
      changed). With good, the connection is then closed.
"""
import hashlib, hmac, os, socket, struct, sys

HELLO, AUTH, AUTH_OK, REJECT = 1, 2, 3, 4


def proto_version():
    """WB_PROTO_VERSION, read from the private protocol header of the tree
    under test, so the fake head speaks the version of the wb it meets."""
    here = os.path.dirname(os.path.abspath(__file__))
    src = os.environ.get("WB_SOURCE_DIR") or os.path.join(here, "..", "..")
    with open(os.path.join(src, "core", "src", "cluster", "proto.h")) as f:
        for line in f:
            if line.startswith("#define WB_PROTO_VERSION "):
                return int(line.split()[2])
    raise SystemExit("cluster_peer.py: no WB_PROTO_VERSION in proto.h")
ROLE_HEAD, ROLE_DRIVER = 1, 3


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


def fake_head(portfile, case, token):
    token = token.encode()
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(16)
    with open(portfile + ".tmp", "w") as f:
        f.write(str(ls.getsockname()[1]))
    os.rename(portfile + ".tmp", portfile)
    while True:
        c, _ = ls.accept()
        c.settimeout(30)
        try:
            nonce_s = os.urandom(32)
            c.sendall(frame(HELLO, b"WBCL" + struct.pack("<HB", proto_version(), ROLE_HEAD) + nonce_s))
            t, p = recv_frame(c)
            if t != AUTH or p is None or len(p) != 4 + 3 + 64:
                print("no-auth", t, flush=True)
                continue
            role = p[6]
            nonce_c, mac = p[7:39], p[39:71]
            want = hmac.new(token, b"wb-client" + nonce_s + nonce_c + bytes([role]), hashlib.sha256).digest()
            print("client-proved-token" if hmac.compare_digest(mac, want) else "bad-client-mac", "role", role,
                  flush=True)
            proof = hmac.new(token, b"wb-server" + nonce_c + nonce_s + bytes([role]), hashlib.sha256).digest()
            if case == "wrongmac":
                proof = hashlib.sha256(b"not the token" + nonce_c).digest()
            elif case == "lastbyte":
                proof = proof[:31] + bytes([proof[31] ^ 0x01])
            elif case != "good":
                raise SystemExit("unknown fake-head case " + case)
            c.sendall(frame(AUTH_OK, proof))
            if case != "good":  # a wrong proof: the client hangs up
                print("client-closed" if closed(c, 10) else "client-kept-open", flush=True)
        except OSError as e:
            print("error", e, flush=True)
        finally:
            c.close()


def main():
    if sys.argv[1] == "--fake-head":
        return fake_head(sys.argv[2], sys.argv[3], sys.argv[4])
    if sys.argv[2] == "wrongtoken3":  # in one process: quicker than 3 starts on a loaded machine
        for _ in range(3):
            client(sys.argv[1], "wrongtoken")
        return
    client(sys.argv[1], sys.argv[2])


def client(addr, case):
    host, port = addr.rsplit(":", 1)
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
    elif case in ("version", "good", "wrongtoken", "lastbyte"):
        token = sys.argv[3].encode()
        v = version + 1 if case == "version" else version  # the head's version (from HELLO), or the next one
        mac = hmac.new(token, b"wb-client" + nonce_s + nonce_c + bytes([ROLE_DRIVER]), hashlib.sha256).digest()
        if case == "wrongtoken":
            mac = bytes(32)
        elif case == "lastbyte":
            mac = mac[:31] + bytes([mac[31] ^ 0x01])
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
