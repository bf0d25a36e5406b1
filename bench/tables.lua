-- bench/tables.lua FILE -- one wb.load of a CSV (plain or compressed), in a
-- process of its own so that its peak memory is the read's (bench/tables.sh
-- runs it beside bench/peers/pandas_csv.py and alternates them).
--
-- Prints one line: "wb SECONDS PEAK_RSS_BYTES BASE_RSS_BYTES ROWS COLS MISSING CPU"
-- (BASE: the process's peak before the read; MISSING: missing values over all
-- columns, to compare with pandas'; CPU: the read's user + system seconds,
-- all threads).
local path = assert(arg[1], "usage: wb bench/tables.lua FILE")
collectgarbage()
local base = wb.core.peak_rss()
local c = os.clock()
local t = wb.now()
local d = wb.load(path, {label = false})
local secs = wb.now() - t
local cpu = os.clock() - c
local peak = wb.core.peak_rss()
local missing = 0
local r = d:describe_raw()
for j = 1, d:cols() do missing = missing + (d:rows() - r.count[j]) end
print(string.format("wb %.4f %d %d %d %d %d %.4f", secs, peak, base, d:rows(), d:cols(), math.tointeger(missing), cpu))
