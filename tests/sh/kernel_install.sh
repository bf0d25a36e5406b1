#!/bin/bash
# kernel_install.sh — `wb kernel install` writes a kernelspec Jupyter lists
# (--prefix, --user, --name; bad arguments refused), and `wb kernel -f` gives
# a clear error and exit status 2 for a connection file that is missing,
# malformed, of an unknown signature scheme or with bad fields.
. "$(dirname "$0")/kernel_common.bash"
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# --prefix (done by kernel_common.bash)
spec=$T/prefix/share/jupyter/kernels/wb
grep -q "installed in $spec" "$T/install.out" || fail "install --prefix: says where ($(cat "$T/install.out"))"
"$PY" - "$spec" "$WB" <<'PYEOF' || fail "kernel.json"
import json, sys
spec, wb = sys.argv[1], sys.argv[2]
k = json.load(open(spec + "/kernel.json"))
assert k["argv"] == [wb, "kernel", "-f", "{connection_file}"], k["argv"]
assert k["display_name"] == "wb (Lua)" and k["language"] == "lua" and k["interrupt_mode"] == "signal", k
for name, size in (("logo-32x32.png", 32), ("logo-64x64.png", 64)):
    data = open(spec + "/" + name, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", name
    w, h = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (w, h) == (size, size), (name, w, h)
assert open(spec + "/logo-svg.svg").read().lstrip().startswith("<svg"), "logo-svg.svg"
print("kernel.json:", json.dumps(k))
PYEOF
# Jupyter lists it
"$PY" -m jupyter_client.kernelspecapp list > "$T/list" 2>&1
grep -E "^ *wb +$spec\$" "$T/list" > /dev/null || fail "jupyter kernelspec list: $(cat "$T/list")"
"$PY" -c 'from jupyter_client.kernelspec import KernelSpecManager as M; s = M().get_kernel_spec("wb"); assert s.display_name == "wb (Lua)" and s.language == "lua"; print("found:", s.resource_dir)' || fail "KernelSpecManager does not find wb"

# --user: Jupyter's data folder; --name
JUPYTER_DATA_DIR=$T/userdata "$WB" kernel install --user --name wb-test > "$T/out" 2>&1 || fail "install --user: $(cat "$T/out")"
[ -f "$T/userdata/kernels/wb-test/kernel.json" ] || fail "install --user --name: no $T/userdata/kernels/wb-test/kernel.json"
JUPYTER_DATA_DIR= XDG_DATA_HOME= "$WB" kernel install > "$T/out" 2>&1 || fail "install (default --user): $(cat "$T/out")"
[ -f "$HOME/.local/share/jupyter/kernels/wb/kernel.json" ] || fail "install: not in ~/.local/share/jupyter/kernels/wb"

# bad arguments
expect() { # what status pattern command...
  local what=$1 want=$2 pat=$3
  shift 3
  "$@" > "$T/out" 2>&1
  local rc=$?
  [ $rc = "$want" ] || fail "$what: exit status $rc, wanted $want ($(cat "$T/out"))"
  grep -q -- "$pat" "$T/out" || fail "$what: no line matching '$pat' in: $(cat "$T/out")"
  echo "$what: $(head -n 1 "$T/out")"
}
expect "install --prefix without a folder" 2 "unknown argument '--prefix' (--prefix needs a folder)" "$WB" kernel install --prefix
expect "install --name with a slash" 2 "--name must be letters, digits" "$WB" kernel install --name a/b
expect "install --bogus" 2 "unknown argument '--bogus'" "$WB" kernel install --bogus
mkdir -p "$T/ro" && chmod 500 "$T/ro"
if [ "$(id -u)" != 0 ]; then
  expect "install into a read-only folder" 1 "cannot make the folder $T/ro/share" "$WB" kernel install --prefix "$T/ro"
fi

# connection files
expect "no -f" 2 "a connection file is needed (-f FILE)" "$WB" kernel
expect "an unknown argument" 2 "unknown argument '-x'" "$WB" kernel -x
expect "a missing file" 2 "connection file $T/none.json: cannot open it: No such file or directory" "$WB" kernel -f "$T/none.json"
conn() { printf '%s' "$1" > "$T/c.json"; }
GOOD='"ip": "127.0.0.1", "transport": "tcp", "shell_port": 50001, "iopub_port": 50002, "stdin_port": 50003, "control_port": 50004, "hb_port": 50005'
conn '{"ip": "127.0.0.1",
  "key": }'
expect "malformed JSON" 2 "connection file $T/c.json: line 2, column 10: unexpected token near '}'" "$WB" kernel -f "$T/c.json"
conn '[1, 2]'
expect "not an object" 2 "connection file $T/c.json: a JSON object expected" "$WB" kernel -f "$T/c.json"
conn "{$GOOD, \"key\": \"k\", \"signature_scheme\": \"hmac-md5\"}"
expect "an unknown signature scheme" 2 "signature_scheme \"hmac-md5\" is not supported (allowed: hmac-sha256)" "$WB" kernel -f "$T/c.json"
conn "{$GOOD, \"signature_scheme\": \"hmac-sha256\"}"
expect "no key" 2 "key must be a string (empty: messages are not signed), got nothing" "$WB" kernel -f "$T/c.json"
conn "{${GOOD/50001/\"x\"}, \"key\": \"k\"}"
expect "a port that is a string" 2 "shell_port must be an integer in 1..65535, got \"x\"" "$WB" kernel -f "$T/c.json"
conn "{${GOOD/50005/70000}, \"key\": \"k\"}"
expect "a port out of range" 2 "hb_port must be an integer in 1..65535, got 70000" "$WB" kernel -f "$T/c.json"
conn "{${GOOD/tcp/udp}, \"key\": \"k\"}"
expect "an unknown transport" 2 "transport must be \"tcp\" or \"ipc\", got \"udp\"" "$WB" kernel -f "$T/c.json"
conn "{${GOOD/127.0.0.1/10.255.255.254}, \"key\": \"k\"}"
expect "an address not of this machine" 2 "cannot listen on tcp://10.255.255.254:50001 (shell_port)" timeout 20 "$WB" kernel -f "$T/c.json"
conn "{$GOOD, \"key\": \"k\", \"key\": \"j\"}"
expect "a key given twice" 2 "duplicate object key near '\"key\"'" "$WB" kernel -f "$T/c.json"

[ $fails -eq 0 ] || { echo "$fails failures"; exit 1; }
echo "kernel_install: all passed"
