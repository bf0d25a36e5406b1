#!/bin/bash
# cluster_tls.sh — no cluster data in clear on the wire. The loopback traffic
# of a head, two workers and a driver is captured (dumpcap, Wireshark's
# capture tool) while the driver puts an object, moves it worker to worker,
# calls a Lua function remotely and fits k-means on a dataset it made: each
# carries a marker made for the run. With TLS (the default, keyed by the
# token) and with the user's certificates, no marker and no token is in the
# capture and the handshakes are TLS 1.3; with --insecure-no-tls every marker
# is (so this test can fail). Certificates: a peer signed by another CA, or
# without one, is refused with the reason; options that do not go together
# are refused before anything starts. Skips (77) without dumpcap/tshark or
# without the right to capture on lo.
. "$(dirname "$0")/cluster_common.bash"
command -v dumpcap >/dev/null && command -v tshark >/dev/null ||
  { echo "SKIP: dumpcap/tshark not installed (apt-get install -y tshark)"; exit 77; }
timeout 5 dumpcap -i lo -a duration:1 -w "$T/probe.pcap" >/dev/null 2>&1 ||
  { echo "SKIP: cannot capture on lo (dumpcap needs CAP_NET_RAW)"; exit 77; }
TOKEN="tls-token-$(tr -dc a-z0-9 </dev/urandom | head -c 24)"
make_token "$T/tok" "$TOKEN"

# certificates: a cluster CA, one certificate for all (no host names are
# checked), and another CA with a certificate of its own
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=wb-test-ca \
  -keyout "$T/ca.key" -out "$T/ca.pem" >/dev/null 2>&1 || fail "openssl: a CA"
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=wb-node \
  -keyout "$T/node.key" -out "$T/node.csr" >/dev/null 2>&1 || fail "openssl: a request"
openssl x509 -req -in "$T/node.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial -days 2 \
  -out "$T/node.pem" >/dev/null 2>&1 || fail "openssl: a certificate"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=other-ca \
  -keyout "$T/other.key" -out "$T/other.pem" >/dev/null 2>&1 || fail "openssl: another CA"
chmod 600 "$T"/*.key
CERTS=(--tls-cert "$T/node.pem" --tls-key "$T/node.key" --tls-ca "$T/ca.pem")
LUACERTS="tls_cert = '$T/node.pem', tls_key = '$T/node.key', tls_ca = '$T/ca.pem'"

# one run: MODE (psk, certs, clear) -> the capture $T/MODE.pcap, the markers in $T/MODE.markers
run() {
  local mode=$1 opts=() lua=""
  case $mode in
    certs) opts=("${CERTS[@]}"); lua=", $LUACERTS" ;;
    clear) opts=(--insecure-no-tls); lua=", insecure_no_tls = true" ;;
  esac
  start_head "h_$mode" --token-file "$T/tok" "${opts[@]}"
  start_worker "w1_$mode" --address "$ADDR" --token-file "$T/tok" --threads 1 "${opts[@]}"
  start_worker "w2_$mode" --address "$ADDR" --token-file "$T/tok" --threads 1 "${opts[@]}"
  wait_for "$T/h_$mode.log" "worker 2 joined" || fail "$mode: the workers did not join"
  local ports port
  ports=${ADDR##*:}
  for port in $(sed -n 's/.*data port 127.0.0.1:\([0-9]*\)).*/\1/p' "$T/h_$mode.log"); do ports="$ports $port"; done
  [ "$(echo "$ports" | wc -w)" = 3 ] || fail "$mode: ports $ports"
  local filter
  filter=$(echo "$ports" | sed 's/\([0-9][0-9]*\)/tcp port \1/g; s/ tcp/ or tcp/g')
  dumpcap -i lo -f "$filter" -P -w "$T/$mode.pcap" >"$T/dumpcap_$mode.log" 2>&1 &
  local cap=$!
  PIDS+=("$cap")
  wait_for "$T/dumpcap_$mode.log" "Capturing on" || fail "$mode: dumpcap: $(cat "$T/dumpcap_$mode.log")"
  sleep 0.5
  # markers: 8 letters each (a dataset's marker is also a finite double)
  local m_put m_lua m_data
  m_put="WP$(tr -dc A-Z </dev/urandom | head -c 6)"
  m_lua="WL$(tr -dc A-Z </dev/urandom | head -c 6)"
  m_data="WD$(tr -dc A-Z </dev/urandom | head -c 6)"
  echo "$m_put $m_lua $m_data" >"$T/$mode.markers"
  timeout 120 "$WB" -e "
wb.connect('$ADDR', {token_file = '$T/tok', workers = 2 $lua})
local o = wb.core.put(string.rep('$m_put', 4096))
local ex = wb.executor()
local from = wb.core.holder(o)
wb.core.replicate(o, ex.worker_list[1].id == from and ex.worker_list[2].id or ex.worker_list[1].id)
assert(wb.core.get(o) == string.rep('$m_put', 4096), 'put')
local f = wb.remote(function(s) return s .. '!' end)
assert(f('$m_lua'):get() == '$m_lua!', 'remote')
local v = string.unpack('<d', '$m_data')
local rows = {}
for i = 1, 3000 do rows[i] = i % 2 == 0 and {v, i} or {i, v} end
local m = wb.fit('kmeans', wb.dataset(rows), {k = 2, seed = 1})
print('fit', m.k or 2)
" >"$T/driver_$mode.out" 2>&1 || fail "$mode: the driver: $(cat "$T/driver_$mode.out")"
  grep -q "^fit" "$T/driver_$mode.out" || fail "$mode: no fit: $(cat "$T/driver_$mode.out")"
  sleep 0.5
  kill -INT "$cap"
  wait "$cap" 2>/dev/null
  kill "$HEAD_PID"
  wait "$HEAD_PID" 2>/dev/null
}

# markers (and the token) found in a capture: "name=count ..."
found() {
  /usr/bin/python3 - "$T/$1.pcap" "$TOKEN" $(cat "$T/$1.markers") <<'PY'
import sys
data = open(sys.argv[1], "rb").read()
names = ["token", "put", "lua", "dataset"]
print(" ".join("%s=%d" % (n, data.count(m.encode())) for n, m in zip(names, sys.argv[2:])), "bytes=%d" % len(data))
PY
}

for mode in psk certs clear; do run "$mode"; done
for mode in psk certs; do
  out=$(found "$mode")
  echo "$out" | grep -q "^token=0 put=0 lua=0 dataset=0 bytes=" || fail "$mode: in clear in the capture: $out"
  bytes=${out##*bytes=}
  [ "$bytes" -gt 100000 ] || fail "$mode: the capture holds only $bytes bytes"
  # what tshark sees: TLS 1.3 handshakes on every port, application data
  ports=$(tshark -r "$T/$mode.pcap" -T fields -e tcp.dstport -Y "tcp.flags.syn == 1 && tcp.flags.ack == 0" 2>/dev/null | sort -u)
  dec=""
  for p in $ports; do dec="$dec -d tcp.port==$p,tls"; done
  hellos=$(tshark -r "$T/$mode.pcap" $dec -Y "tls.handshake.type == 1 && tls.handshake.extensions.supported_version == 0x0304" 2>/dev/null | wc -l)
  appdata=$(tshark -r "$T/$mode.pcap" $dec -Y "tls.record.content_type == 23" 2>/dev/null | wc -l)
  [ "$hellos" -ge 3 ] || fail "$mode: $hellos TLS 1.3 ClientHellos in the capture"
  [ "$appdata" -ge 10 ] || fail "$mode: $appdata TLS application data records"
  pass "$mode: nothing in clear ($out); $hellos TLS 1.3 ClientHellos, $appdata application data packets"
done
out=$(found clear)
echo "$out" | grep -q "^token=0 put=[1-9][0-9]* lua=[1-9][0-9]* dataset=[1-9][0-9]* bytes=" ||
  fail "--insecure-no-tls: the markers should be in clear: $out"
pass "--insecure-no-tls: the markers are in clear ($out; the token never is)"

# --- certificates that do not fit
start_head hc --token-file "$T/tok" "${CERTS[@]}"
out=$("$WB" -e "print(pcall(wb.connect, '$ADDR', {token_file = '$T/tok', timeout = 5,
  tls_cert = '$T/other.pem', tls_key = '$T/other.key', tls_ca = '$T/other.pem'}))" 2>&1)
echo "$out" | grep -q "false	cluster: the certificate of the head at $ADDR is not trusted: .* (tls_ca)" ||
  fail "a driver of another CA: $out"
wait_for "$T/hc.log" "dropped peer 127.0.0.1:[0-9]*: authentication failed (its certificate: \|dropped peer 127.0.0.1:[0-9]*: TLS handshake failed" ||
  fail "the head did not log the untrusted driver: $(cat "$T/hc.log")"
pass "another CA: $(echo "$out" | cut -c7-120)"
out=$("$WB" -e "print(pcall(wb.connect, '$ADDR', {token_file = '$T/tok', timeout = 5}))" 2>&1)
echo "$out" | grep -q "false	cluster: the head at $ADDR could not prove it knows the cluster token (it offered a certificate instead: is it set up with --tls-cert?)" ||
  fail "a driver keyed by the token at a head with certificates: $out"
wait_for "$T/hc.log" "dropped peer 127.0.0.1:[0-9]*: TLS handshake failed: " || fail "the head did not log the driver"
pass "token at a head with certificates: $(echo "$out" | cut -c7-)"
out=$("$WB" -e "print(pcall(wb.connect, '$ADDR', {token_file = '$T/tok', timeout = 5, $LUACERTS}))" 2>&1)
echo "$out" | grep -q "true" || fail "certificates at a head with certificates: $out"
# the right certificates and a wrong token: refused by the challenge-response inside TLS
# (the same messages as ever, and the head counts it as a failed authentication)
out=$("$WB" -e "print(pcall(wb.connect, '$ADDR', {token = 'wrong-token-0123456789abcdef', timeout = 5, $LUACERTS}))" 2>&1)
echo "$out" | grep -q "false	cluster: the head at $ADDR refused the connection: authentication failed: wrong cluster token" ||
  fail "certificates and a wrong token: $out"
pass "certificates with a wrong token: $(echo "$out" | cut -c7-)"
out=$("$WB" -e "print(pcall(wb.connect, '$ADDR', {token_file = '$T/tok', tls_ca = '$T/ca.pem'}))" 2>&1)
echo "$out" | grep -q "false	.*tls_cert, tls_key and tls_ca go together" || fail "tls_ca alone: $out"
"$WB" head --token-file "$T/tok" --tls-cert "$T/node.pem" >"$T/bad.out" 2>&1; rc=$?
[ "$rc" = 2 ] && grep -q "wb head: TLS: tls_cert, tls_key and tls_ca go together" "$T/bad.out" || fail "head --tls-cert alone: $rc $(cat "$T/bad.out")"
"$WB" worker --address 127.0.0.1:1 --token-file "$T/tok" --tls-cert "$T/node.pem" --tls-key "$T/node.key" \
  --tls-ca "$T/ca.pem" --insecure-no-tls >"$T/bad.out" 2>&1; rc=$?
[ "$rc" = 2 ] && grep -q "exclude each other" "$T/bad.out" || fail "worker certificates and --insecure-no-tls: $rc $(cat "$T/bad.out")"
"$WB" head --port 0 --token-file "$T/tok" --tls-cert "$T/missing.pem" --tls-key "$T/node.key" --tls-ca "$T/ca.pem" \
  >"$T/bad.out" 2>&1; rc=$?
[ "$rc" = 1 ] && grep -q "wb head: TLS: --tls-cert $T/missing.pem: " "$T/bad.out" || fail "a missing certificate: $rc $(cat "$T/bad.out")"
pass "options that do not go together, a missing file: refused before starting"
