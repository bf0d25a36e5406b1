-- bench/io.lua -- file formats: write and read speed of LIBSVM, NPY and CSV for
-- N x D generated data, scikit-learn's dump_svmlight_file / load_svmlight_file
-- on the same shape in the same invocation, and the peak memory (whole
-- process, /usr/bin/time -v) of loading the LIBSVM file next to
-- scikit-learn's load_svmlight_file.
--
--   wb bench/io.lua [N [D [DIR [REPEATS]]]]     defaults: 1000000 10 /tmp 3
--   (bench/io.sh runs it with the build's wb)
--
-- Times are medians of REPEATS runs; MB are 10^6 bytes of the file (NPY: the
-- features and the labels file). Every read is checked against the written
-- data (describe() bit for bit).
local N = math.tointeger(tonumber(arg[1] or "1000000"))
local D = math.tointeger(tonumber(arg[2] or "10"))
local DIR = arg[3] or "/tmp"
local REPEATS = math.tointeger(tonumber(arg[4] or "3"))
assert(N and N >= 1 and D and D >= 2 and REPEATS and REPEATS >= 1,
       "usage: wb bench/io.lua [N [D [DIR [REPEATS]]]]")
local WB = arg[-1] or "wb"
local PY = "/usr/bin/python3"

local B = dofile((debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/common.lua")
local PEERS = B.peers_dir("svmlight_peer.py")
local median = B.median
local function run(cmd)
  local h = assert(io.popen(cmd))
  local out = h:read("a")
  h:close()
  return out
end
local function sh_quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end
local function filesize(p)
  local f = io.open(p, "rb")
  if not f then return 0 end
  local n = f:seek("end")
  f:close()
  return n
end
local function same_describe(a, b)
  for _, k in ipairs{"count", "mean", "std", "min", "max"} do
    for j = 1, #a[k] do
      if string.pack("<d", a[k][j]) ~= string.pack("<d", b[k][j]) then return false end
    end
  end
  return true
end

local loadavg = B.loadavg
print(string.format("wb %s, %d threads; %d x %d, files in %s, median of %d; load average %s (other work on the machine slows every figure)",
                    wb.version(), wb.executor().threads, N, D, DIR, REPEATS, loadavg()))
local t0 = wb.now()
local data = wb.datagen.classification{n = N, features = D, informative = D // 2, redundant = D // 2,
                                       classes = 2, seed = 1}
print(string.format("generated in %.3f s", wb.now() - t0))
local ref = data:describe_raw()
local data_bytes = N * (D + 1) * 8 -- loaded features + labels

local results = {}
-- NPY is read twice: memory-mapped (the default: partitions view the file,
-- pages come in when used) and into memory (mmap = false)
for _, fmt in ipairs{"libsvm", "npy", "npy-mem", "csv"} do
  local ext = fmt == "npy-mem" and "npy" or fmt
  local p = DIR .. "/wb_bench_io." .. ext
  local tw, tr = {}, {}
  for _ = 1, REPEATS do
    collectgarbage()
    local t = wb.now()
    wb.save(data, p)
    tw[#tw + 1] = wb.now() - t
  end
  local mb = (filesize(p) + (ext == "npy" and filesize(DIR .. "/wb_bench_io.labels.npy") or 0)) / 1e6
  local cr = {}
  for _ = 1, REPEATS do
    collectgarbage()
    local t, c = wb.now(), os.clock()
    local e = wb.load(p, {mmap = fmt ~= "npy-mem"})
    tr[#tr + 1] = wb.now() - t
    cr[#cr + 1] = os.clock() - c
    assert(e:rows() == N and e:cols() == D and e:has_labels(), fmt .. ": wrong shape read back")
    assert(same_describe(ref, e:describe_raw()), fmt .. ": the data read back differs")
    e:free()
  end
  local r = {format = fmt, mb = mb, write_s = median(tw), read_s = median(tr), read_cpu = median(cr)}
  r.write_mb_s, r.read_mb_s = mb / r.write_s, mb / r.read_s
  results[#results + 1] = r
  print(string.format("%-7s %7.1f MB  write %6.3f s %7.0f MB/s   read %6.3f s %7.0f MB/s  (%.3f CPU s: %.0f MB per CPU s)",
                      fmt, mb, r.write_s, r.write_mb_s, r.read_s, r.read_mb_s, r.read_cpu, mb / r.read_cpu))
end

-- the peer: scikit-learn writes and parses a LIBSVM file of the same shape
local peer
if PEERS then
  local out = run(string.format("%s %s %d %d %s 2>&1", PY, sh_quote(PEERS .. "/svmlight_peer.py"), N, D,
                                sh_quote(DIR .. "/wb_bench_io_peer.libsvm")))
  local line = out:match("({[^\n]*\"svmlight\"[^\n]*})")
  if line then
    peer = {}
    for k, v in line:gmatch('"([%w_]+)": ([%d%.]+)') do peer[k] = tonumber(v) end
  else
    print("peer failed: " .. out)
  end
else
  print("peer: bench/peers/svmlight_peer.py not found")
end
local lib = results[1]
if peer then
  print(string.format("sklearn %7.1f MB  write %6.3f s %7.0f MB/s   read %6.3f s %7.0f MB/s", peer.mb, peer.write_s,
                      peer.mb / peer.write_s, peer.read_s, peer.read_mb_s))
  print(string.format("LIBSVM ratio wb/sklearn: write %.1fx faster, read %.1fx faster (MB/s)",
                      lib.write_mb_s / (peer.mb / peer.write_s), lib.read_mb_s / peer.read_mb_s))
end
-- NPY's reference: NumPy's own np.save / np.load (into memory) of the same shape
local np_script = string.format([[
import json, time, numpy as np
X = np.random.default_rng(0).standard_normal((%d, %d)); y = (X[:, 0] > 0).astype(np.float64)
p = %q
t = time.perf_counter(); np.save(p + '.npy', X); np.save(p + '.labels.npy', y); tw = time.perf_counter() - t
t = time.perf_counter(); X2 = np.load(p + '.npy'); y2 = np.load(p + '.labels.npy'); tr = time.perf_counter() - t
print(json.dumps({"mb": (X.nbytes + y.nbytes) / 1e6, "write_s": tw, "read_s": tr}))
]], N, D, DIR .. "/wb_bench_io_numpy")
local out = run(string.format("%s -c %s 2>&1", PY, sh_quote(np_script)))
os.remove(DIR .. "/wb_bench_io_numpy.npy")
os.remove(DIR .. "/wb_bench_io_numpy.labels.npy")
local npr = {}
for k, v in out:gmatch('"([%w_]+)": ([%d%.e%-]+)') do npr[k] = tonumber(v) end
if npr.read_s then
  local mine = results[3] -- npy read into memory
  print(string.format("numpy   %7.1f MB  write %6.3f s %7.0f MB/s   read %6.3f s %7.0f MB/s", npr.mb, npr.write_s,
                      npr.mb / npr.write_s, npr.read_s, npr.mb / npr.read_s))
  print(string.format("NPY ratio wb/numpy: write %.1fx, read into memory %.1fx (MB/s)",
                      mine.write_mb_s / (npr.mb / npr.write_s), mine.read_mb_s / (npr.mb / npr.read_s)))
else
  print("numpy reference failed: " .. out)
end
print(string.format("target LIBSVM read >= 500 MB/s: %s (%.0f MB/s wall; the kernels used %.3f CPU s, i.e. %.0f MB/s " ..
                    "on %d idle cores)", lib.read_mb_s >= 500 and "met" or "NOT met", lib.read_mb_s, lib.read_cpu,
                    lib.mb / lib.read_cpu * wb.executor().threads, wb.executor().threads))

-- memory: peak RSS of a process that only starts, and of one that loads the file
local function peak_kb(cmd)
  local out = run("/usr/bin/time -v " .. cmd .. " 2>&1 >/dev/null")
  local kb = out:match("Maximum resident set size %(kbytes%): (%d+)")
  if not kb then error("could not measure: " .. cmd .. "\n" .. out) end
  if out:match("Command exited with non%-zero status") then error("failed: " .. cmd .. "\n" .. out) end
  return tonumber(kb)
end
local lpath = DIR .. "/wb_bench_io.libsvm"
wb.save(data, lpath)
local wb_start = peak_kb(string.format("%s -e %s", sh_quote(WB), sh_quote("assert(wb.version())")))
local wb_load = peak_kb(string.format("%s -e %s", sh_quote(WB),
  sh_quote(string.format("local d = wb.load(%q); assert(d:rows() == %d)", lpath, N))))
local sk_start = peak_kb(string.format("%s -c %s", PY, sh_quote("import sklearn.datasets")))
local sk_load = peak_kb(string.format("%s -c %s", PY,
  sh_quote(string.format("from sklearn.datasets import load_svmlight_file; X, y = load_svmlight_file(%q); assert X.shape[0] == %d", lpath, N))))
local MB = 1024 * 1024
print(string.format("memory, loading %.1f MB of LIBSVM into %.1f MiB of data (features + labels):", lib.mb, data_bytes / MB))
print(string.format("  wb      peak %7.1f MiB, start-up %6.1f MiB: +%.1f MiB = %.2f x the data", wb_load / 1024,
                    wb_start / 1024, (wb_load - wb_start) / 1024, (wb_load - wb_start) * 1024 / data_bytes))
print(string.format("  sklearn peak %7.1f MiB, start-up %6.1f MiB: +%.1f MiB = %.2f x the data", sk_load / 1024,
                    sk_start / 1024, (sk_load - sk_start) / 1024, (sk_load - sk_start) * 1024 / data_bytes))
print(string.format("target peak <= 1.5 x data + start-up: %s", (wb_load - wb_start) * 1024 <= 1.5 * data_bytes and "met" or "NOT met"))

for _, f in ipairs{"libsvm", "npy", "csv", "libsvm.meta", "npy.meta", "csv.meta", "labels.npy"} do
  os.remove(DIR .. "/wb_bench_io." .. f)
end
os.remove(DIR .. "/wb_bench_io_peer.libsvm")
print("load average at the end: " .. loadavg())
