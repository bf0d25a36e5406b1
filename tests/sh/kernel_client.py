#!/usr/bin/python3
"""kernel_client.py — Jupyter's own client (Debian's python3-jupyter-client)
drives `wb kernel`: start, kernel_info, execute (results, streams, errors,
silent, store_history, user_expressions, rich output, progress), complete,
inspect, is_complete, history, io.read through input_request, interrupts (a
signal and interrupt_request), a local cluster kept between cells and
stopped at shutdown, restart, and messages with a bad signature, bad JSON,
an unknown type or a huge frame sent on a raw socket (dropped and logged, the
kernel keeps serving). Prints a transcript; exits 1 on the first failed
check. Run by kernel_client.sh, which installs the kernelspec."""
import hashlib
import hmac
import json
import os
import queue
import re
import sys
import time

import zmq
from jupyter_client.manager import KernelManager

T0 = time.time()
KERNEL_LOG = os.environ["WB_KERNEL_LOG"]
TMP = os.environ["WB_KERNEL_TMP"]


def say(*a):
    print("[%6.2f]" % (time.time() - T0), *a, flush=True)


def check(cond, what):
    if not cond:
        say("FAIL:", what)
        raise SystemExit(1)
    say("ok:", what)


def short(v, n=160):
    s = v if isinstance(v, str) else json.dumps(v)
    return s if len(s) <= n else s[:n] + "...(%d chars)" % len(s)


def start(**kw):
    km = KernelManager(kernel_name="wb")
    log = open(KERNEL_LOG, "ab")
    t = time.time()
    km.start_kernel(stderr=log, stdout=log, **kw)
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=60)
    say("kernel started and ready in %.3f s (pid %d)" % (time.time() - t, km.provisioner.process.pid))
    return km, kc


def run(kc, code, timeout=60, **kw):
    """execute code; (reply content, [iopub messages of the request])"""
    out = []
    reply = kc.execute_interactive(code, timeout=timeout, output_hook=out.append, **kw)
    say(">>>", short(code, 100))
    for m in out:
        if m["msg_type"] != "status":
            say("   ", m["msg_type"], short(m["content"]))
    say("    reply:", reply["content"]["status"], "count", reply["content"].get("execution_count"))
    return reply["content"], out


def of_type(msgs, t):
    return [m["content"] for m in msgs if m["msg_type"] == t]


def shell_reply(kc, msg_id, timeout=30):
    while True:
        m = kc.get_shell_msg(timeout=timeout)
        if m["parent_header"].get("msg_id") == msg_id:
            return m["content"]


def main():
    km, kc = start()
    try:
        session(km, kc)
    finally:
        kc.stop_channels()
        if km.has_kernel:
            km.shutdown_kernel(now=True)


def session(km, kc):
    # kernel_info
    kc.kernel_info()
    info = kc.get_shell_msg(timeout=10)["content"]
    say("kernel_info:", short(info, 400))
    check(info["protocol_version"] == "5.3" and info["implementation"] == "wb", "kernel_info: protocol 5.3, wb")
    check(info["language_info"]["name"] == "lua" and info["language_info"]["file_extension"] == ".lua",
          "kernel_info: language lua")

    # execute: a value, execution counts
    r, out = run(kc, "1+1")
    res = of_type(out, "execute_result")
    check(r["status"] == "ok" and r["execution_count"] == 1, "1+1: ok, execution_count 1")
    check(len(res) == 1 and res[0]["data"]["text/plain"] == "2" and res[0]["execution_count"] == 1,
          "1+1: execute_result text/plain '2'")
    check(of_type(out, "execute_input")[0]["code"] == "1+1", "execute_input broadcast")
    r, out = run(kc, "x = 41")
    check(r["execution_count"] == 2 and not of_type(out, "execute_result"), "an assignment: no result, count 2")

    # streams
    r, out = run(kc, "print('hello', 42) io.write('no newline') io.stderr:write('to stderr\\n')")
    text = "".join(s["text"] for s in of_type(out, "stream") if s["name"] == "stdout")
    errs = "".join(s["text"] for s in of_type(out, "stream") if s["name"] == "stderr")
    check(text == "hello\t42\nno newline", "print and io.write: stdout stream %r" % text)
    check(errs == "to stderr\n", "io.stderr:write: stderr stream")

    # silent and store_history
    r, out = run(kc, "x = x + 1 print('quiet')", silent=True)
    check(r["status"] == "ok" and not [m for m in out if m["msg_type"] not in ("status",)],
          "silent: nothing broadcast but the status")
    r, out = run(kc, "x", store_history=False)
    check(of_type(out, "execute_result")[0]["data"]["text/plain"] == "42" and r["execution_count"] == 3,
          "silent ran (x = 42); store_history=false keeps the count at 3")
    r, out = run(kc, "y = 1", user_expressions={"a": "x + 1", "b": "x +", "c": "'\\xff'"})
    ue = r["user_expressions"]
    check(ue["a"]["status"] == "ok" and ue["a"]["data"]["text/plain"] == "43", "user_expressions: x + 1 = 43")
    check(ue["b"]["status"] == "error" and "expression" in ue["b"]["evalue"], "user_expressions: an error")
    check(ue["c"]["data"]["text/plain"] == "\ufffd", "a byte that is not UTF-8 arrives as U+FFFD")

    # errors: the prompt's message
    r, out = run(kc, "error('boom')")
    e = of_type(out, "error")
    check(r["status"] == "error" and r["evalue"] == "stdin:1: boom", "error: reply with the message")
    check(len(e) == 1 and e[0]["traceback"][0] == "wb: stdin:1: boom", "error: broadcast, 'wb: message' first")
    r, out = run(kc, "wb.fit('no_such_estimator', wb.dataset({{1}}), {})")
    check(r["status"] == "error" and "no_such_estimator" in r["evalue"], "a wb error: %s" % r["evalue"])
    r, out = run(kc, "x = = 1")
    check(r["status"] == "error" and "unexpected symbol" in r["evalue"], "a syntax error")

    # rich output
    run(kc, "d = wb.datagen.classification{n = 500, features = 4, informative = 2, redundant = 2, seed = 1}")
    r, out = run(kc, "d")
    data = of_type(out, "execute_result")[0]["data"]
    check(data["text/plain"].startswith("Dataset: 500 rows x 4 columns"), "dataset: text/plain as the prompt")
    html = data.get("text/html", "")
    check("<table" in html and "<th>x1</th>" in html and "<th>label</th>" in html and "&#8942;" in html,
          "dataset: text/html table with its columns and the gap row")
    # category columns and a category label: their text, not codes; the label by its name
    r, out = run(kc, "local p = os.tmpname() local f = io.open(p, 'w') "
                     "f:write('mass,island,species\\n3750,Torgersen,Adelie\\n,Biscoe,Gentoo\\n4200,,Adelie\\n') "
                     "f:close() t = wb.load(p, {format = 'csv', label = 'species'}) os.remove(p)\nt")
    html = of_type(out, "execute_result")[0]["data"].get("text/html", "")
    check("<th>island</th>" in html and ">Torgersen<" in html and ">Biscoe<" in html and ">nan<" in html
          and "<th>species</th>" in html and ">Gentoo<" in html and ">Adelie<" in html,
          "a dataset's category cells and label as text, missing as nan: %s" % html)
    r, out = run(kc, "d:describe()")
    html = of_type(out, "execute_result")[0]["data"].get("text/html", "")
    check("<table" in html and ">mean</th>" in html, "describe(): a result table as HTML")
    r, out = run(kc, "km = wb.fit('kmeans', d, {k = 3, seed = 0})\nkm")
    data = of_type(out, "execute_result")[0]["data"]
    check(data["text/plain"].startswith("kmeans model") and "centers" in data.get("text/html", ""),
          "model: text/plain and text/html")
    r, out = run(kc, "{{estimator = 'a', accuracy = 0.5}, {estimator = 'b', accuracy = 0.75}}")
    html = of_type(out, "execute_result")[0]["data"].get("text/html", "")
    check(">accuracy</th>" in html and ">0.75<" in html, "a list of records as a table")
    r, out = run(kc, "wb.plot.scatter(wb.fit('pca', d, {components = 2}):transform(d), {color = d:labels()})")
    data = of_type(out, "execute_result")[0]["data"]
    svg = data.get("image/svg+xml", "")
    check("<svg" in svg and svg.count("<circle") >= 100, "a chart: image/svg+xml with its points")
    check(data["text/plain"].startswith("<SVG chart"), "a chart: a short text/plain")
    r, out = run(kc, "wb.display(d:slice(1, 3), 'text') print('after')")
    disp = of_type(out, "display_data")
    check(len(disp) == 2 and "<table" in disp[0]["data"]["text/html"] and disp[1]["data"]["text/plain"] == "text",
          "wb.display: two display_data")
    order = [m["msg_type"] for m in out if m["msg_type"] in ("display_data", "stream")]
    check(order == ["display_data", "display_data", "stream"], "outputs in the order made: %s" % order)

    # progress: a display made, updated in place, cleared at the end
    r, out = run(kc, "for i = 1, 12 do wb.core.progress('work', i, 12, 'step ' .. i) "
                     "local t = wb.now() while wb.now() - t < 0.1 do end end")
    shown = of_type(out, "display_data")
    upd = of_type(out, "update_display_data")
    check(len(shown) == 1 and shown[0]["transient"]["display_id"].startswith("wb-progress"),
          "progress: one display with a display_id")
    check(len(upd) >= 3 and all(u["transient"] == shown[0]["transient"] for u in upd), "progress: updated in place")
    check(re.match(r"work \d+/12 \(\d+%\)", shown[0]["data"]["text/plain"]) is not None, "progress: the prompt's line")
    check(upd[-1]["data"]["text/plain"] == "", "progress: cleared when done")

    # completion, help, is_complete
    def complete(code, pos=None):
        c = kc.complete(code, len(code) if pos is None else pos, reply=True, timeout=10)["content"]
        say("complete", repr(code), "->", short(c["matches"], 120), c["cursor_start"], c["cursor_end"])
        return c
    c = complete("wb.da")
    check("wb.datagen" in c["matches"] and "wb.dataset(" in c["matches"] and c["cursor_start"] == 0
          and c["cursor_end"] == 5, "complete: wb.da")
    c = complete("s = 'é' d:hea")
    check(c["matches"] == ["d:head("] and c["cursor_start"] == 8 and c["cursor_end"] == 13,
          "complete: a method, cursor counted in characters")
    os.makedirs(os.path.join(TMP, "files"), exist_ok=True)
    open(os.path.join(TMP, "files", "data.csv"), "w").close()
    os.makedirs(os.path.join(TMP, "files", "dir"), exist_ok=True)
    code = "d = wb.load('%s/files/d" % TMP
    c = complete(code)
    check(sorted(c["matches"]) == ["%s/files/data.csv" % TMP, "%s/files/dir/" % TMP]
          and c["cursor_start"] == code.index("'") + 1, "complete: file names inside a string")
    i = kc.inspect("wb.fit(", 3, reply=True, timeout=10)["content"]
    check(i["found"] and i["data"]["text/plain"].startswith("wb.fit(name, data, params)"), "inspect: wb.fit")
    i = kc.inspect("wb.fit('kmeans', d)", 10, reply=True, timeout=10)["content"]
    check(i["found"] and "kmeans (clusterer)" in i["data"]["text/plain"], "inspect: an estimator's name in a string")
    i = kc.inspect("no_such_thing", 3, reply=True, timeout=10)["content"]
    check(not i["found"], "inspect: nothing for an unknown name")
    for code, want in [("for i = 1, 3 do", "incomplete"), ("{1,", "incomplete"), ("x = = 1", "invalid"),
                       ("1+1", "complete"), ("=x", "complete")]:
        kc.is_complete(code)
        st = kc.get_shell_msg(timeout=10)["content"]["status"]
        check(st == want, "is_complete %r: %s" % (code, st))

    # a failed cell: the cells queued behind it are aborted (stop_on_error)
    first = kc.execute("local t = wb.now() while wb.now() - t < 0.5 do end error('stop here')")
    second = kc.execute("never = true")
    r1, r2 = shell_reply(kc, first), shell_reply(kc, second)
    check(r1["status"] == "error" and r2["status"] == "aborted", "stop_on_error: the next cell is aborted")
    r, out = run(kc, "never == nil")
    check(of_type(out, "execute_result")[0]["data"]["text/plain"] == "true", "the aborted cell did not run")

    # history
    h = kc.history(hist_access_type="tail", n=3, reply=True, timeout=10)["content"]["history"]
    say("history tail 3:", h)
    check(len(h) == 3 and h[-1][2] == "never == nil" and h[0][1] < h[1][1] < h[2][1], "history: tail")
    h = kc.history(hist_access_type="search", pattern="x = *", output=True, reply=True, timeout=10)["content"]
    check([e[2][0] for e in h["history"]] == ["x = 41", "x = = 1"], "history: search")

    # io.read through input_request
    r, out = run(kc, "io.write('name? ') local s = io.read() print('got [' .. s .. ']')", allow_stdin=True,
                 stdin_hook=lambda m: kc.input("wb user"))
    text = "".join(s["text"] for s in of_type(out, "stream"))
    check(text == "name? got [wb user]\n", "io.read: input_request answered")
    r, out = run(kc, "return io.read('n')", allow_stdin=True, stdin_hook=lambda m: kc.input("12.5"))
    check(of_type(out, "execute_result")[0]["data"]["text/plain"] == "12.5", "io.read('n'): a number")
    r, out = run(kc, "s = io.read()", allow_stdin=True, stdin_hook=lambda m: km.interrupt_kernel())
    check(r["status"] == "error" and r["evalue"] == "interrupted!", "io.read: an interrupt while it waits")
    r, out = run(kc, "s = io.read()", allow_stdin=False)
    check(r["status"] == "error" and r["evalue"].startswith("stdin:1: io.read: this front end takes no input"),
          "io.read without stdin: %s" % r["evalue"])

    # interrupts: the front end's (SIGINT) during a long fit, then interrupt_request
    run(kc, "big = wb.datagen.classification{n = 400000, features = 20, seed = 1}", timeout=120)
    for how in ("signal", "message"):
        t = time.time()
        msg_id = kc.execute("m = wb.fit('gbdt', big, {n_trees = 2000, max_depth = 8})")
        time.sleep(1.5)
        if how == "signal":
            km.interrupt_kernel()
        else:
            kc.control_channel.send(kc.session.msg("interrupt_request", {}))
        r = shell_reply(kc, msg_id, timeout=60)
        say("interrupt (%s): reply after %.2f s: %s %s" % (how, time.time() - t, r["status"], r.get("evalue")))
        check(r["status"] == "error" and r["evalue"] == "interrupted!" and time.time() - t < 20,
              "interrupt (%s): the fit stops with 'interrupted!'" % how)
        r, out = run(kc, "m == nil and x")
        check(of_type(out, "execute_result")[0]["data"]["text/plain"] == "42", "after the interrupt: state kept")

    # a local cluster: kept between cells, stopped at shutdown
    r, out = run(kc, "wb.cluster{workers = 2, threads = 1} e = wb.executor() "
                     "return e.kind, e.workers, e.address, e.worker_list[1].pid, e.worker_list[2].pid", timeout=120)
    parts = of_type(out, "execute_result")[0]["data"]["text/plain"].split("\t")
    check(parts[0] == "cluster" and parts[1] == "2", "wb.cluster{workers = 2}: %s" % parts[:3])
    worker_pids = [int(parts[3]), int(parts[4])]
    port = parts[2].split(":")[1]
    r, out = run(kc, "c = wb.datagen.blobs{n = 20000, features = 2, centers = 3, seed = 2}\n"
                     "wb.executor().kind, c:executor(), wb.fit('kmeans', c, {k = 3, seed = 0}).iterations > 0",
                 timeout=120)
    check(of_type(out, "execute_result")[0]["data"]["text/plain"] == "cluster\tcluster\ttrue",
          "the next cell: the cluster is still there, work runs on it")

    # bad messages on a raw socket
    raw_messages(km, kc)

    # restart: a new process, a fresh state
    pid = km.provisioner.process.pid
    km.restart_kernel(now=False)
    kc.wait_for_ready(timeout=60)
    check(km.provisioner.process.pid != pid, "restart: a new kernel process")
    gone = wait_gone(worker_pids + [pid], 20)
    check(gone, "restart: the old kernel and its cluster's workers %s are gone" % worker_pids)
    check(not procs_with("127.0.0.1:" + port), "restart: nothing listens for the old cluster any more")
    r, out = run(kc, "x == nil, wb.executor().kind")
    check(of_type(out, "execute_result")[0]["data"]["text/plain"] == "true\tlocal" and r["execution_count"] == 1,
          "restart: fresh state, count from 1, the local executor")

    # shutdown
    pid = km.provisioner.process.pid
    km.shutdown_kernel(now=False)
    check(wait_gone([pid], 10), "shutdown: the kernel process is gone")


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ")[1][0] != "Z"
    except OSError:
        return False


def wait_gone(pids, secs):
    t = time.time()
    while time.time() - t < secs:
        if not any(alive(p) for p in pids):
            return True
        time.sleep(0.1)
    return False


def procs_with(text):
    found = []
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                with open("/proc/%s/cmdline" % p, "rb") as f:
                    if text.encode() in f.read():
                        found.append(int(p))
            except OSError:
                pass
    return found


def raw_messages(km, kc):
    """messages made by hand on a DEALER socket of our own"""
    ci = km.get_connection_info()
    key = ci["key"] if isinstance(ci["key"], bytes) else ci["key"].encode()
    ctx = zmq.Context()
    s = ctx.socket(zmq.DEALER)
    s.setsockopt(zmq.LINGER, 0)
    s.connect("tcp://%s:%d" % (ci["ip"], ci["shell_port"]))
    time.sleep(0.3)

    def parts(msg_type, msg_id):
        h = {"msg_id": msg_id, "msg_type": msg_type, "session": "raw", "username": "t",
             "date": "2026-01-01T00:00:00Z", "version": "5.3"}
        return [json.dumps(x).encode() for x in (h, {}, {}, {})]

    def send(ps, sig=None):
        if sig is None:
            sig = hmac.new(key, b"".join(ps), hashlib.sha256).hexdigest().encode()
        s.send_multipart([b"<IDS|MSG>", sig] + ps)

    def replies(secs):
        got = []
        t = time.time()
        while time.time() - t < secs:
            if s.poll(100):
                got.append(s.recv_multipart())
        return got

    log_before = open(KERNEL_LOG, "rb").read().count(b"\n")
    send(parts("kernel_info_request", "bad-sig"), sig=b"0" * 64)
    send(parts("kernel_info_request", "no-sig"), sig=b"")
    good = parts("kernel_info_request", "bad-json")
    good[3] = b'{"code": '
    send(good)
    send(parts("no_such_request", "unknown"))
    send([b"x" * 200, b"{}", b"{}", b"{}"])
    huge = parts("kernel_info_request", "huge")
    huge[3] = b'{"pad": "' + b"x" * (65 << 20) + b'"}'
    send(huge)
    got = replies(3.0)
    check(not got, "bad signature, no signature, bad JSON, unknown type, huge frame: no reply")
    send(parts("kernel_info_request", "good"))
    got = replies(3.0)
    check(len(got) == 1 and json.loads(got[0][3])["msg_id"] == "good", "then a good message: its reply")
    sig = hmac.new(key, b"".join(got[0][2:6]), hashlib.sha256).hexdigest().encode()
    check(got[0][1] == sig, "the reply carries the right signature")
    log = open(KERNEL_LOG, "rb").read().decode(errors="replace").splitlines()[log_before:]
    for line in log:
        say("kernel log:", short(line, 200))
    check(sum("bad signature" in l for l in log) == 2, "the kernel logged the two bad signatures")
    check(any("header: bad JSON" in l for l in log) or any("content: bad JSON" in l for l in log),
          "the kernel logged the bad JSON")
    check(any("unknown message type 'no_such_request'" in l for l in log), "the kernel logged the unknown type")
    check(any("more than" in l for l in log), "the kernel logged the huge message")
    s.close()
    ctx.term()
    r, out = run(kc, "x")
    check(of_type(out, "execute_result")[0]["data"]["text/plain"] == "42", "the kernel keeps serving")


if __name__ == "__main__":
    main()
    say("all checks passed")
