#!/usr/bin/python3
"""make_seeds.py WB_BINARY — (re)writes the seed corpora of the fuzz targets
in tests/fuzz/corpus/<target>/seed-*: small valid inputs of each kind.
Regression inputs (crash-*, named after what they once broke) are kept.

Text files are written literally; NPY files with NumPy; protocol messages by
the layouts documented in core/src/cluster/proto.c; models and parameter encodings
by the wb binary itself (so they are what wb writes)."""
import functools
import gzip
import os
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")


def put(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


def clear_seeds():
    if not os.path.isdir(CORPUS):
        return
    for t in os.listdir(CORPUS):
        for f in os.listdir(os.path.join(CORPUS, t)):
            if f.startswith("seed-"):
                os.unlink(os.path.join(CORPUS, t, f))


def text_seeds():
    put("libsvm", "basic", "1 1:0.5 3:2\n0 2:1\n1 1:-1.25e-3 2:7 3:1e10\n")
    put("libsvm", "comments", "# a comment\n\n2 1:1 # trailing\n-1 qid:3 2:0.5\n\n")
    put("libsvm", "crlf", "1 1:1\r\n0 1:2 4:3\r\n")
    put("libsvm", "special", "0.5 1:nan 2:inf 3:-inf 5:-0\n3 1:1.7976931348623157e308 2:5e-324\n")
    put("libsvm", "zero-based", b"1 0:1 2:3\n0 1:2\n\x00\x01")
    put("libsvm", "features", b"1 1:1\n0 2:2\n\x00\x32")
    put("libsvm", "meta", b"1 1:1\n0 2:2\n\x00\x34")
    put("libsvm", "labels-only", "1\n0\n1\n")
    put("csv", "header", "a,b,label\n1,2,0\n3.5,-4,1\n5e3,6,0\n")
    put("csv", "noheader", "1,2,3\n4,5,6\n")
    put("csv", "quoted", '"x 1","y,2",target\n" 1 ",2,1\n"3",,0\n')
    put("csv", "bom-blank", "\xef\xbb\xbfa,b\n\n1,2\n\n3,4\n")
    put("csv", "nan-inf", "a,b,y\nnan,inf,1\n-inf,-0,0\n")
    put("csv", "semicolon", b"a;b;c\n1;2;3\n4;5;6\n\x00\x20")
    put("csv", "label-first", b"1,2,3\n4,5,6\n\x00\x09")
    put("csv", "label-name", b"x,label,z\n1,0,3\n4,1,6\n\x00\x12")
    put("csv", "crlf", "a,b\r\n1,2\r\n3,4\r\n")
    # gzip: two members cut inside a quoted field, then trailing garbage
    text = b'a,b,note\n1,2,"x, ""y""\nz"\n3,4,NA\n5,6,"w"\n'
    gz = lambda b: gzip.compress(b, mtime=0)
    put("csv", "gzip-members", gz(text[:20]) + gz(text[20:]))
    put("csv", "gzip-garbage", gz(text) + b"junk")
    put("meta", "studies", '{\n  "num_samples": 1000000,\n  "num_features": 10,\n'
        '  "num_classes": 2,\n  "dataset_size": 212311040\n}\n')
    put("meta", "partial", '{"num_features": 3}')
    put("meta", "extra", '{"name": "x\\"y", "list": [1, 2, {"a": null}], "num_samples": 5, '
        '"ok": true, "num_classes": 0}')
    put("meta", "empty", "{}")
    # the columns part as the writer makes it: names, types, levels, label;
    # a Latin-1 level (a byte that is not UTF-8) as the data had it
    put("meta", "columns", '{\n  "num_samples": 3,\n  "num_features": 3,\n  "num_classes": 3,\n  "dataset_size": 352,\n  "columns": [\n    {"name": "island", "type": "category", "levels": ["Biscoe", "Dream", "Torgersen"]},\n    {"name": "bill", "type": "number"},\n    {"name": "sex", "type": "category", "levels": ["female", "male"]}\n  ],\n  "label": {"name": "species", "levels": ["Adelie", "Chinstrap", "Gentoo"]}\n}\n')
    put("meta", "latin1-levels", b'{\n  "num_samples": 2,\n  "num_features": 2,\n  "num_classes": 0,\n  "dataset_size": 160,\n  "columns": [\n    {"name": "city", "type": "category", "levels": ["Paris", "caf\xe9"]},\n    {"name": "x", "type": "number"}\n  ]\n}\n')


def npy_seeds():
    import io
    import numpy as np

    def npy(a, version=None):
        b = io.BytesIO()
        if version:
            np.lib.format.write_array(b, a, version=version)
        else:
            np.save(b, a)
        return b.getvalue()

    x = np.arange(12, dtype="<f8").reshape(4, 3) / 7
    put("npy", "f8", npy(x))
    put("npy", "f4", npy(x.astype("<f4")))
    put("npy", "vector", npy(np.array([1.5, -2, 3], dtype="<f8")))
    put("npy", "v2", npy(x, version=(2, 0)))
    put("npy", "v3", npy(x, version=(3, 0)))
    put("npy", "labels-f8", npy(x) + npy(np.array([0, 1, 0, 1], dtype="<f8")))
    put("npy", "labels-i4", npy(x) + npy(np.array([0, 1, 2, 1], dtype="<i4")))
    put("npy", "labels-u1", npy(x[:2]) + npy(np.array([1, 0], dtype="|u1")))
    put("npy", "labels-b1", npy(x[:2]) + npy(np.array([True, False])))
    put("npy", "nan", npy(np.array([[np.nan, np.inf], [-np.inf, -0.0]])))


# ---------------------------------------------------------- protocol

TYPES = {"HELLO": 1, "AUTH": 2, "AUTH_OK": 3, "REJECT": 4, "REGISTER": 10, "WELCOME": 11,
         "WORKERS": 12, "HEARTBEAT": 13, "SUBMIT": 20, "TASKS": 21, "DONE": 22, "PUT_DECL": 23,
         "HOLD": 24, "RELEASE": 25, "DROP": 26, "LOCATE": 27, "LOCATION": 28, "REPUT": 29,
         "FREED": 30, "PULL": 31, "REPLICATE": 32, "INPUT_LOST": 33, "FETCH": 40, "OBJ": 41,
         "OBJ_ERR": 42, "PUT": 43, "PLUGINS": 34, "WSTATS": 35, "JOB": 36, "PING": 14}
ORDER = list(TYPES.values())  # the order of WB_MSG_LIST (fuzz_proto_msg's type byte)


def u8(v): return struct.pack("<B", v)
def u16(v): return struct.pack("<H", v)
def u32(v): return struct.pack("<I", v)
def i32(v): return struct.pack("<i", v)
def u64(v): return struct.pack("<Q", v)
def i64(v): return struct.pack("<q", v)
def f64(v): return struct.pack("<d", v)
def s(b):
    if isinstance(b, str):
        b = b.encode()
    return u32(len(b)) + b


def wstat(typ, has_y=0, size=0, rows=0, cols=0, row0=0):
    return u8(typ) + u8(has_y) + u64(size) + i64(rows) + i64(cols) + i64(row0)


def part(rows, cols, row0=0, has_y=1):
    return wstat(2, has_y, rows * cols * 8 + (rows * 8 if has_y else 0), rows, cols, row0)


def messages():
    nonce = bytes(range(32))
    mac = bytes(range(32, 64))
    plugins = u32(2) + s("datagen") + s("0.1.0") + s("kmeans") + s("0.1.0")
    task = (u64(0x10000000001) + u32(0) + u8(0) + u64(0) + i64(4096) + u32(0) + u32(0) + u32(1) +
            u64(0x10000000002) + u16(2) + u32(1) + u32(2))
    bsum = (u64(0x10000000003) + u32(1) + u8(1) + u64(3) + i64(-1) + u32(1) + u32(0xffffffff) + u32(1) +
            u64(0x10000000002) + u16(0))
    tasks = u32(2) + s("io.parse") + s("kmeans.assign") + u32(1) + s(b"\x00\x01arg") + u32(2) + task + bsum
    loc = u64(7) + i32(0) + u32(1) + u64(0) + s("")
    lost = u64(8) + i32(-5) + u32(0) + u64(9) + s("input 9 was lost with worker 2")
    return {
        "HELLO": b"WBCL" + u16(1) + u8(1) + nonce,
        "AUTH": b"WBCL" + u16(1) + u8(2) + nonce + mac,
        "AUTH_OK": mac,
        "REJECT": i32(-9) + s("authentication failed: wrong cluster token"),
        "REGISTER": u32(4) + u64(1 << 30) + s("127.0.0.1") + u16(40123) + u32(4242) + plugins +
                    u32(3) + s("io.scan") + s("io.parse") + s("kmeans.assign"),
        "WELCOME": u32(1) + u32(1000) + u32(10000) + u16(7879) + plugins,
        "WORKERS": u32(2) + u32(1) + s("127.0.0.1") + u16(40001) + u32(2) + u32(100) + u8(1) + plugins +
                   u32(2) + s("localhost") + u16(40002) + u32(1) + u32(101) + u8(0) + u32(0),
        "HEARTBEAT": u64(1 << 20) + u64(1 << 30) + u64(12) + u32(1) + u32(3) + u64(100) + u64(2) + i64(50 << 20),
        "SUBMIT": tasks,
        "TASKS": tasks,
        "DONE": u32(3) + u64(0x10000000001) + i32(0) + u32(1) + part(4096, 3) + s("") + u8(0) +
                u64(0x10000000003) + i32(0) + u32(1) + wstat(1, 0, 24) + s("") + u8(1) + s(bytes(24)) +
                u64(0x10000000004) + i32(-4) + u32(0) + wstat(0) + s("io.parse: bad value") + u8(0),
        "PUT_DECL": u32(1) + u64(5) + u32(1) + part(10, 2, 0, 0),
        "HOLD": u32(2) + u64(5) + part(10, 2, 0, 0) + u64(6) + wstat(1, 0, 100),
        "RELEASE": u32(2) + u64(5) + u64(6),
        "DROP": u32(1) + u64(5),
        "LOCATE": u32(1) + u64(5),
        "LOCATION": u32(2) + loc + u64(6) + i32(-5) + u32(0) + u64(0) + s("object 6 is lost"),
        "REPUT": u32(1) + loc,
        "FREED": u32(0),
        "PULL": u32(1) + u64(5) + u16(2) + u32(1) + u32(3),
        "REPLICATE": u32(1) + loc,
        "INPUT_LOST": u32(1) + lost,
        "FETCH": u32(3) + u64(1) + u64(2) + u64(3),
        "OBJ": u64(5) + part(10, 2),
        "OBJ_ERR": u32(1) + u64(5) + i32(-5) + u32(0) + u64(0) + s("not here"),
        "PUT": u64(6) + wstat(1, 0, 16),
        "PLUGINS": plugins,
        "WSTATS": f64(12.5) + f64(3.25) + i64(40 << 20) + u32(2) + s("gbdt.wave") + u16(0) + f64(10.0) + f64(10.25) +
                  u8(1) + s("kmeans.assign") + u16(1) + f64(11.0) + f64(11.5) + u8(0) + u32(1) + f64(12.0) + u8(1) +
                  s("joined the head at 127.0.0.1:7878 (1 thread, data port 127.0.0.1:40001)"),
        "JOB": u32(2) + s("gridsearch") + f64(3) + f64(24) + f64(5.5) + s("best accuracy 0.91 at C=1") +
               s("logreg") + f64(12) + f64(100) + f64(0.75) + s("iter 12 objective 0.31"),
        "PING": b"",
    }


def frame(name, payload):
    return u32(len(payload)) + u16(TYPES[name]) + u16(0) + payload


def proto_seeds():
    msgs = messages()
    for name, payload in msgs.items():
        put("proto_msg", name.lower(), u8(ORDER.index(TYPES[name])) + payload)
    # streams as each side sees them: the handshake, then a session
    put("proto_frame", "worker-to-head", frame("AUTH", msgs["AUTH"]) + frame("REGISTER", msgs["REGISTER"]) +
        frame("HEARTBEAT", msgs["HEARTBEAT"]) + frame("DONE", msgs["DONE"]) + frame("HOLD", msgs["HOLD"]))
    put("proto_frame", "head-to-driver", frame("HELLO", msgs["HELLO"]) + frame("AUTH_OK", msgs["AUTH_OK"]) +
        frame("WELCOME", msgs["WELCOME"]) + frame("WORKERS", msgs["WORKERS"]) + frame("DONE", msgs["DONE"]) +
        frame("LOCATION", msgs["LOCATION"]) + frame("FREED", msgs["FREED"]))
    put("proto_frame", "driver-to-head", frame("AUTH", msgs["AUTH"]) + frame("SUBMIT", msgs["SUBMIT"]) +
        frame("PUT_DECL", msgs["PUT_DECL"]) + frame("RELEASE", msgs["RELEASE"]) +
        frame("LOCATE", msgs["LOCATE"]) + frame("REPLICATE", msgs["REPLICATE"]))
    put("proto_frame", "head-to-worker", frame("HELLO", msgs["HELLO"]) + frame("AUTH_OK", msgs["AUTH_OK"]) +
        frame("WELCOME", msgs["WELCOME"]) + frame("TASKS", msgs["TASKS"]) + frame("DROP", msgs["DROP"]) +
        frame("PULL", msgs["PULL"]))
    put("proto_frame", "peer", frame("AUTH", msgs["AUTH"]) + frame("FETCH", msgs["FETCH"]) +
        frame("PUT", msgs["PUT"]) + bytes(16) + frame("OBJ", msgs["OBJ"]))
    put("proto_frame", "reject", frame("REJECT", msgs["REJECT"]))


# ---------------------------------------------------------- wb-made

WB_SCRIPT = r"""
local dir = arg[1]
local function write(name, bytes)
  local f = assert(io.open(dir .. "/" .. name, "wb")); f:write(bytes); f:close()
end
local d = wb.datagen.blobs{n = 200, features = 3, centers = 3, seed = 1}
local km = wb.fit("kmeans", d, {k = 3, seed = 0, max_iter = 5})
km:save(dir .. "/kmeans.wbm")
local sc = wb.fit("scaler", d)
sc:save(dir .. "/scaler.wbm")
local lr = wb.fit("logreg", wb.datagen.classification{n = 100, features = 4, informative = 2, redundant = 2,
                                                       classes = 2, seed = 2}, {C = 0.5, max_iter = 5})
lr:save(dir .. "/logreg.wbm")
-- model_use: one small model of each estimator on 3 columns (2 for the
-- two-class ones), as fuzz_model_use's datasets have
local x3 = wb.datagen.classification{n = 60, features = 3, informative = 2, redundant = 0, classes = 3,
                                     clusters_per_class = 1, seed = 3}
local x2 = wb.datagen.classification{n = 60, features = 2, informative = 2, redundant = 0, classes = 2, seed = 4}
local use = {
  logreg2 = wb.fit("logreg", x2, {max_iter = 20}),
  logreg3 = wb.fit("logreg", x3, {max_iter = 20}),
  sgd_hinge = wb.fit("sgd", x3, {epochs = 3, tol = false}),
  sgd_log = wb.fit("sgd", x2, {loss = "log_loss", epochs = 3, tol = false}),
  sgd_huber = wb.fit("sgd", x3, {loss = "modified_huber", epochs = 3, tol = false}),
  gbdt_binary = wb.fit("gbdt", x2, {n_trees = 3, max_leaves = 4, min_samples_leaf = 5}),
  gbdt_multi = wb.fit("gbdt", x3, {n_trees = 2, max_leaves = 3, min_samples_leaf = 5}),
  gbdt_reg = wb.fit("gbdt", x3, {objective = "regression", n_trees = 2, max_leaves = 3, min_samples_leaf = 5}),
  kmeans = wb.fit("kmeans", x3, {k = 3, seed = 0, max_iter = 5}),
  kmeans_sil = wb.fit("kmeans", x3, {k = 2, seed = 0, max_iter = 5, score = "silhouette"}),
  kmeans_db = wb.fit("kmeans", x3, {k = 3, seed = 0, max_iter = 5, score = "davies_bouldin"}),
  pca_whiten = wb.fit("pca", x3, {components = 2, whiten = true}),
  pca3 = wb.fit("pca", x3, {}),
  scaler = wb.fit("scaler", x3, {}),
  pipe_lr = wb.fit(wb.pipeline{{"scaler"}, {"logreg", {max_iter = 10}}}, x3),
  pipe_km = wb.fit(wb.pipeline{{"pca", {components = 2}}, {"kmeans", {k = 2, max_iter = 3}}}, x3),
}
for name, m in pairs(use) do m:save(dir .. "/use-" .. name .. ".wbm") end
write("params-basic", wb.core.params_encode{k = 3, C = 0.5, penalty = "l1", fit_intercept = true})
write("params-matrix", wb.core.params_encode{init = {{1, 2}, {3, 4}, {5, 6}}, name = "x"})
write("params-empty", wb.core.params_encode{})
"""


def wb_seeds(wb):
    with tempfile.TemporaryDirectory() as tmp:
        script = os.path.join(tmp, "seeds.lua")
        with open(script, "w") as f:
            f.write(WB_SCRIPT)
        subprocess.run([wb, script, tmp], check=True)
        for m in ("kmeans", "scaler", "logreg"):
            with open(os.path.join(tmp, m + ".wbm"), "rb") as f:
                data = f.read()
            put("model", m + "-file", data)
            put("model", m + "-encoding", data[len(b"WBMODEL 1\n"):])
        # model_use: byte 0 picks the dataset (0: 3 columns with labels 0..2,
        # 3: 2 columns with labels 0, 1), then the file or its encoding
        for f in sorted(os.listdir(tmp)):
            if not f.startswith("use-"):
                continue
            with open(os.path.join(tmp, f), "rb") as fh:
                data = fh.read()
            name = f[len("use-"):-len(".wbm")]
            ds = bytes([3 if name in ("logreg2", "sgd_log", "gbdt_binary") else 0])
            put("model_use", name + "-file", ds + data)
            put("model_use", name + "-encoding", ds + data[len(b"WBMODEL 1\n"):])
        for p in ("params-basic", "params-matrix", "params-empty"):
            with open(os.path.join(tmp, p), "rb") as f:
                put("params_decode", p[len("params-"):], f.read())


def params_seeds():
    # fuzz_params reads its input as a program building a Lua table (see
    # push_table/push_value there): an entry count, then per entry a key
    # (selector byte, then a string: 192 + length + bytes for a literal) and
    # a value (kind byte, then its bytes: an index into the special numbers)
    def key(name):
        return bytes([0, 192, len(name)]) + name.encode()
    def integer(i):  # special integers: 0 1 -1 2 3 4 5 10 16 100 1000 4096 ...
        return bytes([0, [0, 1, -1, 2, 3, 4, 5, 10, 16, 100, 1000, 4096].index(i)])
    def num(x):  # special numbers: 0 -0 1 -1 0.5 2 3 ...
        return bytes([1, {0.0: 0, 1.0: 2, -1.0: 3, 0.5: 4, 2.0: 5, 3.0: 6, 0.1: 21}[x]])
    def string(v):
        return bytes([3, 192, len(v)]) + v.encode()
    def boolean(b):
        return bytes([2, 1 if b else 0])
    def matrix(rows):
        out = bytes([5, len(rows), len(rows[0])])
        for r in rows:
            for x in r:
                out += bytes([{0.0: 0, 1.0: 2, -1.0: 3, 0.5: 4, 2.0: 5, 3.0: 6}[x]])
        return out
    def table(*entries):
        return bytes([len(entries)]) + b"".join(k + v for k, v in entries)
    put("params", "empty", b"\x00")
    put("params", "kmeans", table((key("k"), integer(3)), (key("seed"), integer(0)), (key("max_iter"), integer(5))))
    put("params", "kmeans-init", table((key("k"), integer(2)), (key("init"), matrix([[1.0, 2.0], [3.0, 0.5]]))))
    put("params", "logreg", table((key("C"), num(0.5)), (key("penalty"), string("l1")),
                                  (key("fit_intercept"), boolean(True))))
    put("params", "sgd", table((key("loss"), string("hinge")), (key("alpha"), num(0.1)), (key("epochs"), integer(5))))
    put("params", "pca", table((key("components"), integer(2)), (key("whiten"), boolean(False))))
    put("params", "blobs", table((key("n"), integer(100)), (key("features"), integer(2)), (key("centers"), integer(3))))
    put("params", "scaler", table((key("with_mean"), boolean(True)), (key("with_std"), boolean(False))))


def pgcopy_seeds():
    # fuzz_pgcopy: a column count byte, a kind byte per column (kind - 1:
    # 0 bool, 1 int2, 2 int4, 3 int8, 4 oid, 5 float4, 6 float8, 7 date,
    # 8 timestamp, 9 time, 10 text, 11 text read as a number), a seed byte for
    # the pieces, then PostgreSQL's binary COPY data (big-endian)
    sig = b"PGCOPY\n\xff\r\n\x00"
    def head(ext=b""):
        return sig + struct.pack(">ii", 0, len(ext)) + ext
    def field(b):
        return struct.pack(">i", -1) if b is None else struct.pack(">i", len(b)) + b
    def row(*fields):
        return struct.pack(">h", len(fields)) + b"".join(field(f) for f in fields)
    end = struct.pack(">h", -1)
    def inp(kinds, seed, data):
        return bytes([len(kinds) - 1]) + bytes(kinds) + bytes([seed]) + data
    rows3 = (row(struct.pack(">q", 1), struct.pack(">d", 0.5), b"x") +
             row(struct.pack(">q", 2), None, "yy\u00e9".encode()) +
             row(None, struct.pack(">d", -1e300), None))
    put("pgcopy", "int8-float8-text", inp([3, 6, 10], 7, head() + rows3 + end))
    put("pgcopy", "truncated", inp([3, 6, 10], 3, head() + rows3))
    put("pgcopy", "extension", inp([3, 6, 10], 1, head(b"\x01\x02\x03") + rows3 + end))
    put("pgcopy", "bool-int-real-date-ts",
        inp([0, 1, 2, 5, 7, 8], 11,
            head() + row(b"\x01", struct.pack(">h", -5), struct.pack(">i", 7), struct.pack(">f", 1.5),
                         struct.pack(">i", 7305), struct.pack(">q", 631152000000000)) +
            row(b"\x00", None, struct.pack(">i", -2147483648), struct.pack(">f", -0.0),
                struct.pack(">i", 2147483647), struct.pack(">q", -9223372036854775808)) + end))
    put("pgcopy", "time-textnum", inp([9, 11], 5, head() + row(struct.pack(">q", 3600000000), b"3.25") +
                                      row(None, b"") + row(struct.pack(">q", 1), b" -1e3 ") + end))
    put("pgcopy", "oid", inp([4], 2, head() + row(struct.pack(">I", 4000000000)) + end))
    put("pgcopy", "levels", inp([10, 10], 9, head() + b"".join(row(("L%d" % (i % 70)).encode(), b"a") for i in range(80)) + end))


def jmsg_seeds():
    """Jupyter messages as fuzz_jmsg.c reads them: a flags byte, then frames
    with 2-byte lengths; signed here with Python's hmac (key "fuzz-key")."""
    import hashlib, hmac, json
    def frames(*fs):
        return b"".join(struct.pack("<H", len(f)) + f for f in fs)
    def msg(msg_type, content, ids=(b"client-1",), parent=None, flags=0, key=b"fuzz-key", sign=True):
        header = {"msg_id": "a1b2c3", "msg_type": msg_type, "session": "s1", "username": "u",
                  "date": "2026-01-01T00:00:00.000000Z", "version": "5.3"}
        parts = [json.dumps(x).encode() for x in (header, parent or {}, {}, content)]
        sig = hmac.new(key, b"".join(parts), hashlib.sha256).hexdigest().encode() if sign else b""
        return bytes([flags]) + frames(*ids, b"<IDS|MSG>", sig, *parts)
    put("jmsg", "kernel-info", msg("kernel_info_request", {}))
    put("jmsg", "execute", msg("execute_request", {"code": "1+1", "silent": False, "store_history": True,
                                                   "user_expressions": {"x": "1"}, "allow_stdin": True}))
    put("jmsg", "complete", msg("complete_request", {"code": "wb.da \u00e9", "cursor_pos": 5},
                                ids=(b"a", b"b\x00c")))
    put("jmsg", "input-reply", msg("input_reply", {"value": "\u00fc text"}, ids=(),
                                   parent={"msg_id": "p", "msg_type": "input_request"}))
    put("jmsg", "unsigned", msg("shutdown_request", {"restart": True}, flags=2, sign=False))
    put("jmsg", "harness-signed", msg("history_request", {"hist_access_type": "tail", "n": 3}, flags=1, sign=False))
    put("jmsg", "bad-signature", msg("kernel_info_request", {}, key=b"other-key"))


def gbdt_wire_seeds():
    # fuzz_gbdt_wire: nodes byte (1 + b % 4), entries (1 + v % 700, 2 bytes
    # little-endian), a mode byte (odd: 8-byte histogram values to encode;
    # even: a message in the wire form of plugins/gbdt/wire.h to decode)
    def zz(v):
        return ((v << 1) ^ (v >> 63)) & (2**64 - 1)

    def width(m):
        w = 0
        while m:
            w += 1
            m >>= 8
        return w

    def encode(nodes, E):
        # per node: dense, 3 zero bytes, nnz, hbar (entry 0's Hs // N); the
        # bitmap unless dense; per 64-entry segment the widths wG | wH << 4,
        # wN; records G, Hs - N hbar, N zig-zagged (wrapping)
        out = struct.pack("<IIq", 0x48424247, len(nodes), E)
        for h in nodes:  # h: E (G, Hs, N)
            nnz = sum(1 for t in h if any(t))
            hbar = h[0][1] // h[0][2] if nnz and h[0][2] > 0 and h[0][1] >= 0 else 0
            z = [(zz(t[0]), zz(t[1] - t[2] * hbar), zz(t[2])) if any(t) else None for t in h]
            dense = 1 if nnz == E and nnz > 0 else 0
            out += bytes([dense, 0, 0, 0]) + struct.pack("<Iq", nnz, hbar)
            if not nnz:
                continue
            if not dense:
                bits = bytearray((E + 7) // 8)
                for e, t in enumerate(z):
                    if t:
                        bits[e >> 3] |= 1 << (e & 7)
                out += bytes(bits)
            segs = [[t for t in z[s:s + 64] if t] for s in range(0, E, 64)]
            ws = [[width(functools.reduce(lambda a, b: a | b, [t[i] for t in seg], 0)) for i in range(3)] for seg in segs]
            for w in ws:
                out += bytes([w[0] | w[1] << 4, w[2]])
            for seg, w in zip(segs, ws):
                for t in seg:
                    for i in range(3):
                        out += t[i].to_bytes(8, "little")[:w[i]]
        return out + bytes(8)

    def head(nn, E, mode):
        return bytes([nn - 1, (E - 1) & 255, (E - 1) >> 8, mode])

    sparse = [(0, 0, 0)] * 10
    sparse[3] = (-5, 7, 2)
    sparse[9] = (1 << 40, 3, 1)
    dense = [(i - 3, 2 * i + 1, i + 1) for i in range(10)]
    empty = [(0, 0, 0)] * 10
    put("gbdt_wire", "sparse-dense-empty", head(3, 10, 0) + encode([sparse, dense, empty], 10))
    wide = [((-1) ** e * (e * 977) ** 3, e * 65537, e) for e in range(1, 301)]
    put("gbdt_wire", "wide-300", head(1, 300, 2) + encode([wide], 300))
    extreme = [(-(2**63), 2**63 - 1, -1)] + [(0, 0, 0)] * 6
    put("gbdt_wire", "extreme", head(1, 7, 4) + encode([extreme], 7))
    put("gbdt_wire", "truncated", head(3, 10, 0) + encode([sparse, dense, empty], 10)[:-12])
    put("gbdt_wire", "values", head(2, 16, 1) + b"".join(struct.pack("<q", (i * 7919) % 500 - 250) for i in range(96)))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: make_seeds.py WB_BINARY")
    clear_seeds()
    text_seeds()
    npy_seeds()
    proto_seeds()
    params_seeds()
    pgcopy_seeds()
    gbdt_wire_seeds()
    wb_seeds(sys.argv[1])
    jmsg_seeds()
