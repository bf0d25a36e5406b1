#!/bin/bash
# cluster_netns.sh — a cluster across three hosts, as the studies' set-up: the
# head (and the driver) in one network namespace, two workers in two others,
# joined by a bridge. The head binds a non-loopback address and warns loudly;
# workers reach it and each other (objects move worker to worker); results
# equal the local executor's. Skips (77) unless root with iproute2 and
# network namespaces available.
. "$(dirname "$0")/cluster_common.bash"
if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null; then
  echo "SKIP: needs root and iproute2 (ip) for network namespaces"; exit 77
fi
S=wb$$
NS=("${S}h" "${S}a" "${S}b")
IPS=(10.231.7.1 10.231.7.2 10.231.7.3)
netns_cleanup() { for n in "${NS[@]}" "${S}br"; do ip netns del "$n" 2>/dev/null; done; cleanup; }
trap netns_cleanup EXIT
if ! ip netns add "${S}br" 2>"$T/ns.err"; then
  echo "SKIP: cannot make network namespaces here: $(cat "$T/ns.err")"; exit 77
fi
ip -n "${S}br" link add br0 type bridge && ip -n "${S}br" link set br0 up || fail "bridge"
for i in 0 1 2; do
  n=${NS[$i]}
  ip netns add "$n" || fail "netns $n"
  ip link add "${S}v$i" type veth peer name "${S}p$i" || fail "veth"
  ip link set "${S}v$i" netns "$n"
  ip link set "${S}p$i" netns "${S}br"
  ip -n "${S}br" link set "${S}p$i" master br0 up
  ip -n "$n" addr add "${IPS[$i]}/24" dev "${S}v$i"
  ip -n "$n" link set "${S}v$i" up
  ip -n "$n" link set lo up
done

make_token "$T/tok" "netns-token-0123456789abcdef"
rm -f "$T/head.ready"
ip netns exec "${NS[0]}" "$WB" head --host "${IPS[0]}" --port 0 --dashboard-port 0 --token-file "$T/tok" \
  --ready-file "$T/head.ready" >"$T/head.out" 2>"$T/head.log" &
PIDS+=($!)
for _ in $(seq 200); do [ -s "$T/head.ready" ] && break; sleep 0.05; done
ADDR=$(sed -n 1p "$T/head.ready")
[ "$ADDR" != "${ADDR#${IPS[0]}:}" ] || fail "head address $ADDR"
grep -q "WARNING: the head listens on ${IPS[0]}:[0-9]*, which is reachable from other" "$T/head.log" ||
  fail "no warning for a non-loopback address"
pass "head in ${NS[0]} at $ADDR warns that it is reachable from other machines"
for i in 1 2; do
  ip netns exec "${NS[$i]}" "$WB" worker --address "$ADDR" --token-file "$T/tok" --threads 1 --plugin "$KERNELS" \
    >"$T/w$i.out" 2>"$T/w$i.log" &
  PIDS+=($!)
done
wait_for "$T/head.log" "worker 2 joined" 15 || fail "the workers did not reach the head across the namespaces"
grep -q "data port ${IPS[1]}:[0-9]*\|data port ${IPS[2]}:[0-9]*" "$T/head.log" || fail "workers' data ports"
cat > "$T/drive.lua" <<LUA
wb.plugin.load("$KERNELS")
local gen = {n = 150000, features = 6, informative = 3, redundant = 3, seed = 5}
local L = wb.datagen.classification(gen):describe()
local Lk = wb.fit("kmeans", wb.datagen.swiss_roll{n = 60000, seed = 2}, {k = 4, seed = 1})
local info = wb.connect("$ADDR", {token_file = "$T/tok", workers = 2, timeout = 10})
local ex = wb.executor()
local hosts = {}
for _, w in ipairs(ex.worker_list) do hosts[#hosts + 1] = w.address:match("^(.*):") end
table.sort(hosts)
assert(hosts[1] == "${IPS[1]}" and hosts[2] == "${IPS[2]}", "worker data ports: " .. table.concat(hosts, " "))
local C = wb.datagen.classification(gen):describe()
for j = 1, 6 do assert(L[j].mean == C[j].mean and L[j].std == C[j].std, "describe") end
local Ck = wb.fit("kmeans", wb.datagen.swiss_roll{n = 60000, seed = 2}, {k = 4, seed = 1})
assert(Lk.inertia == Ck.inertia, "kmeans")
-- an object made on one worker, copied to the other (worker to worker)
local o = wb.core.submit("cluster.fill", {}, string.pack("<I8B", 8 << 20, 3))
wb.core.wait({o})
local from = wb.core.holder(o)
local to = ex.worker_list[1].id == from and ex.worker_list[2].id or ex.worker_list[1].id
wb.core.replicate(o, to)
assert(#wb.core.get(o) == 8 << 20)
print(string.format("workers at %s and %s; results equal to local; 8 MB moved from worker %d to %d", hosts[1], hosts[2], from, to))
LUA
out=$(ip netns exec "${NS[0]}" timeout 120 "$WB" "$T/drive.lua" 2>&1) || fail "driver: $out"
pass "$out"
