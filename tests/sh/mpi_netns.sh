#!/bin/bash
# mpi_netns.sh — the MPI executor across three hosts, as the studies' three
# VMs: rank 0 (mpirun and the driver) in one network namespace, ranks 1 and
# 2 in two others, joined by veth links to a bridge, each with a host name of
# its own. Open MPI's launch agent (plm_rsh_agent) is a small script that
# runs the daemon with `ip netns exec` instead of ssh; MPI traffic goes over
# TCP on those links only. Results equal the local executor's bit for bit,
# an object moves from rank to rank, and a data file missing on one host
# (host b sees an empty folder: a mount namespace) gives an error naming the
# rank, its host and the path. Skips (77) unless root with iproute2, network
# namespaces and unshare.
. "$(dirname "$0")/mpi_common.bash"
if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null || ! command -v unshare >/dev/null; then
  echo "SKIP: needs root, iproute2 (ip) and unshare for network namespaces"; exit 77
fi
S=wbm$$
NS=("${S}h" "${S}a" "${S}b")
IPS=(10.231.9.1 10.231.9.2 10.231.9.3)
netns_cleanup() { for n in "${NS[@]}" "${S}br"; do ip netns del "$n" 2>/dev/null; done; cleanup_t; }
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
mkdir -p "$T/data"
# the launch agent: "agent HOST command..." as ssh would be called
cat >"$T/agent.sh" <<AGENT
#!/bin/bash
echo "agent: \$*" >>"$T/agent.log"
host=\$1; shift
case "\$host" in
  ${IPS[1]}) exec ip netns exec ${NS[1]} unshare --uts sh -c "hostname wb-a; \$*" ;;
  # host b lacks the data folder's files: an empty tmpfs over it
  ${IPS[2]}) exec ip netns exec ${NS[2]} unshare --uts --mount sh -c "hostname wb-b; mount -t tmpfs none $T/data; \$*" ;;
  *) echo "agent: unknown host \$host" >&2; exit 1 ;;
esac
AGENT
chmod +x "$T/agent.sh"
printf '%s slots=1\n' "${IPS[@]}" >"$T/hosts"
MPI3=(ip netns exec "${NS[0]}" mpirun --hostfile "$T/hosts" -np 3 --mca plm_rsh_agent "$T/agent.sh"
      --mca btl tcp,self --mca btl_tcp_if_include 10.231.9.0/24 --mca oob_tcp_if_include 10.231.9.0/24)

FITS="$SRC/tests/data/mpi/fits.lua"
"$WB" --threads 2 "$FITS" >"$T/local.txt" 2>"$T/local.err" || fail "local run: $(cat "$T/local.err")"
run_bounded 300 "${MPI3[@]}" "$WB" --threads 1 "$FITS"
[ "$RC" = 0 ] || fail "mpirun across the namespaces: exit $RC: $OUT"
printf '%s\n' "$OUT" >"$T/mpi.txt"
diff "$T/local.txt" "$T/mpi.txt" >"$T/diff" || fail "differs from local: $(cat "$T/diff")"
grep -q "agent: ${IPS[1]} .*orted" "$T/agent.log" && grep -q "agent: ${IPS[2]} .*orted" "$T/agent.log" ||
  fail "the agent did not start the daemons: $(cat "$T/agent.log")"
pass "3 ranks on 3 hosts (${IPS[*]}), daemons started by the netns agent: $(wc -l <"$T/mpi.txt") result lines equal to local bit for bit ($(printf %.1f "$SECS") s)"

"$WB" -e "wb.save(wb.datagen.classification{n = 200000, features = 5, seed = 2}, '$T/data/d.csv')" || fail "data file"
cat >"$T/hosts.lua" <<LUA
local e = wb.executor()
local hosts = {}
for _, r in ipairs(e.ranks) do hosts[#hosts + 1] = r.host end
assert(hosts[2] == "wb-a" and hosts[3] == "wb-b" and hosts[1] ~= "wb-a", table.concat(hosts, " "))
-- two 8 MB objects made on different ranks, then a task reading both: one
-- of them moves from rank to rank over the veth links
wb.plugin.load(os.getenv("WB_TEST_KERNELS")) -- the test-only kernels, sent to the ranks
local a = wb.core.submit("cluster.fill", {}, string.pack("<I8B", 8 << 20, 3))
local b = wb.core.submit("cluster.fill", {}, string.pack("<I8B", 8 << 20, 5))
wb.core.wait({a, b})
local ha, hb = wb.core.holder(a), wb.core.holder(b)
assert(ha >= 1 and hb >= 1 and ha ~= hb, "holders " .. ha .. " " .. hb)
local total, sum = string.unpack("<I8I8", wb.core.get(wb.core.submit("cluster.size", {a, b}, "")))
assert(total == 16 << 20 and sum == 16, "sizes " .. total .. " " .. sum)
-- and one object back to the driver
assert(#wb.core.get(a) == 8 << 20)
print(string.format("hosts %s; 8 MB objects on ranks %d and %d, one moved to the other's host", table.concat(hosts, " "), ha, hb))
-- the data file is on hosts h and a only
local ok, err = pcall(function() return wb.load("$T/data/d.csv"):describe() end)
assert(not ok, "loading succeeded on a host without the file")
print("missing file: " .. err:match("^[^\n]*"))
assert(err:find("rank 2 (wb-b): $T/data/d.csv: cannot open (No such file or directory)", 1, true), err)
LUA
run_bounded 300 "${MPI3[@]}" "$WB" --threads 1 "$T/hosts.lua"
[ "$RC" = 0 ] || fail "hosts, transfer, missing file: exit $RC: $OUT"
pass "$(printf '%s' "$OUT" | tr '\n' ';')"
