-- bench/generate.lua -- data generation against scikit-learn in one run:
-- wb.datagen.classification and scikit-learn's make_classification (the peer
-- script bench/peers/sklearn_peer.py gen) on the same shape, n x d with
-- d/2 informative and d/2 redundant features, 2 classes.
--
--   wb bench/generate.lua [N [D [ROUNDS]]]      defaults: 1000000 10 5
--
-- The two alternate round by round (the machine is shared: a burst of other
-- work then hits both); the figure is the ratio of the medians, with the
-- ratio of the best times beside it. wb's time covers the whole call: the
-- tasks on the executor, the partitions in memory, the dataset made.
local N = math.tointeger(tonumber(arg[1] or "1000000"))
local D = math.tointeger(tonumber(arg[2] or "10"))
local ROUNDS = math.tointeger(tonumber(arg[3] or "5"))
assert(N and N >= 1 and D and D >= 2 and ROUNDS and ROUNDS >= 1, "usage: wb bench/generate.lua [N [D [ROUNDS]]]")

local B = dofile((debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/common.lua")
local PEERS = B.peers_dir("sklearn_peer.py")
local median, min = B.median, B.min

local load = B.loadavg()
print(string.format("wb %s, %d threads; make_classification %d x %d, %d rounds; load average %s",
                    wb.version(), wb.executor().threads, N, D, ROUNDS, load))

local wbt, skt = {}, {}
for r = 1, ROUNDS do
  collectgarbage()
  local t0 = wb.now()
  local d = wb.datagen.classification{n = N, features = D, informative = D // 2, redundant = D // 2,
                                      classes = 2, seed = r}
  wbt[r] = wb.now() - t0
  assert(d:rows() == N and d:cols() == D)
  d = nil
  collectgarbage()
  if PEERS then
    local h = assert(io.popen(string.format("/usr/bin/python3 %s/sklearn_peer.py gen --n %d --d %d 2>&1",
                                            PEERS, N, D)))
    local out = h:read("a")
    h:close()
    local s = out:match('"step": "generate".-"seconds": ([%d.e-]+)')
    skt[r] = tonumber(s)
    if not skt[r] then
      print("the scikit-learn peer failed:\n" .. out)
      PEERS = nil
    end
  end
  io.write(string.format("round %d: wb %.4f s%s\n", r, wbt[r], skt[r] and string.format(", scikit-learn %.4f s", skt[r]) or ""))
end
print(string.format("%-14s %10s %10s %12s", "", "median s", "min s", "rows/s"))
print(string.format("%-14s %10.4f %10.4f %12.3g", "wb", median(wbt), min(wbt), N / median(wbt)))
if #skt == ROUNDS then
  print(string.format("%-14s %10.4f %10.4f %12.3g", "scikit-learn", median(skt), min(skt), N / median(skt)))
  print(string.format("speed-up of wb over scikit-learn: %.1fx (medians), %.1fx (best times)",
                      median(skt) / median(wbt), min(skt) / min(wbt)))
else
  print("scikit-learn: not measured (bench/peers/sklearn_peer.py not found or it failed)")
end
