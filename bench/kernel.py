#!/usr/bin/python3
"""bench/kernel.py WB [N_STARTS] [N_EXECUTES] — the Jupyter kernel's start
time and the round trip of executing `1+1`, measured from a client of its
own (pyzmq and jupyter_client's Session, which signs and checks messages):

  start:  from launching `wb kernel -f FILE` to the kernel_info reply (the
          request is queued by ZeroMQ before the kernel listens), compared
          with `wb -e ''` (the same Lua state and plugins, no sockets)
  1+1:    from sending execute_request to receiving execute_reply on shell,
          and to the idle status on iopub (the front end's "done")

Medians (and the 10th and 90th percentiles) over the runs; the machine is
shared, so medians are what to compare. Uses Debian's python3-jupyter-client."""
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import zmq
from jupyter_client.session import Session


def free_ports(n):
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def q(xs):
    xs = sorted(xs)
    return statistics.median(xs), xs[len(xs) // 10], xs[(9 * len(xs)) // 10]


def start_kernel(wb, tmp):
    key = os.urandom(16).hex()
    names = ["shell_port", "iopub_port", "stdin_port", "control_port", "hb_port"]
    info = dict(zip(names, free_ports(5)), ip="127.0.0.1", transport="tcp", key=key,
                signature_scheme="hmac-sha256", kernel_name="wb")
    path = os.path.join(tmp, "kernel-%d.json" % time.monotonic_ns())
    with open(path, "w") as f:
        json.dump(info, f)
    return info, path


def main():
    wb = os.path.abspath(sys.argv[1])
    nstart = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    nexec = int(sys.argv[3]) if len(sys.argv) > 3 else 500
    tmp = tempfile.mkdtemp()
    ctx = zmq.Context()
    starts, plain = [], []
    for i in range(nstart):
        t = time.perf_counter()
        subprocess.run([wb, "-e", ""], check=True)
        plain.append(time.perf_counter() - t)
        info, path = start_kernel(wb, tmp)
        session = Session(key=info["key"].encode())
        shell = ctx.socket(zmq.DEALER)
        shell.setsockopt(zmq.LINGER, 0)
        shell.setsockopt(zmq.RECONNECT_IVL, 5) # (ZeroMQ's 100 ms between tries would count as start time)
        shell.connect("tcp://127.0.0.1:%d" % info["shell_port"])
        t = time.perf_counter()
        proc = subprocess.Popen([wb, "kernel", "-f", path], stderr=subprocess.DEVNULL)
        session.send(shell, "kernel_info_request", {})
        if not shell.poll(30000):
            sys.exit("no kernel_info reply in 30 s")
        session.recv(shell)
        starts.append(time.perf_counter() - t)
        if i < nstart - 1:
            session.send(shell, "shutdown_request", {"restart": False})
            shell.poll(5000)
            proc.wait(10)
            shell.close()
    # the last kernel stays for the round trips
    iopub = ctx.socket(zmq.SUB)
    iopub.setsockopt(zmq.SUBSCRIBE, b"")
    iopub.connect("tcp://127.0.0.1:%d" % info["iopub_port"])
    time.sleep(0.5)
    while iopub.poll(100):
        iopub.recv_multipart()
    reply_t, idle_t = [], []
    for i in range(nexec + 20):
        t = time.perf_counter()
        msg = session.send(shell, "execute_request", {"code": "1+1", "silent": False, "store_history": True,
                                                     "user_expressions": {}, "allow_stdin": False})
        shell.poll(10000)
        r = session.recv(shell)[1]
        t1 = time.perf_counter()
        assert r["content"]["status"] == "ok", r
        while True:
            iopub.poll(10000)
            m = session.recv(iopub)[1]
            if m["parent_header"].get("msg_id") == msg["header"]["msg_id"] and m["msg_type"] == "status" \
                    and m["content"]["execution_state"] == "idle":
                break
        t2 = time.perf_counter()
        if i >= 20:
            reply_t.append(t1 - t)
            idle_t.append(t2 - t)
    session.send(shell, "shutdown_request", {"restart": False})
    shell.poll(5000)
    proc.wait(10)
    print("kernel start to kernel_info reply (%d runs): median %.3f s (p10 %.3f, p90 %.3f)" % ((nstart,) + q(starts)))
    print("wb -e '' for comparison (%d runs):          median %.3f s (p10 %.3f, p90 %.3f)" % ((nstart,) + q(plain)))
    print("execute 1+1 to execute_reply (%d runs):    median %.3f ms (p10 %.3f, p90 %.3f)" %
          ((nexec,) + tuple(1000 * x for x in q(reply_t))))
    print("execute 1+1 to idle on iopub (%d runs):    median %.3f ms (p10 %.3f, p90 %.3f)" %
          ((nexec,) + tuple(1000 * x for x in q(idle_t))))


if __name__ == "__main__":
    main()
