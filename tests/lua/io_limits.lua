-- io_limits: wb.load's max_rows= refuses a file of more rows with a clear
-- error (and reads one at the limit); a bad max_rows is an argument error.
local dir = string.format("io_limits_tmp_%d", math.random(1, 1 << 30))
assert(os.execute("mkdir -p " .. dir))
local p = dir .. "/rows.csv"
local f = assert(io.open(p, "wb"))
f:write("a,b,label\n1,2,0\n3,4,1\n5,6,0\n")
f:close()

local ok, err = pcall(function() return wb.load(p, {max_rows = 2}) end)
assert(not ok and err == p .. ": 3 rows, more than the limit of 2 rows (max_rows)", tostring(err))
local d = wb.load(p, {max_rows = 3})
assert(d:rows() == 3 and d:cols() == 2, "read at the limit: " .. d:rows() .. " x " .. d:cols())
for _, v in ipairs({0, -1, 2.5, "x"}) do
  ok, err = pcall(function() return wb.load(p, {max_rows = v}) end)
  local want = "bad argument #2 to 'load' (max_rows must be an integer >= 1, got " .. tostring(v) .. ")"
  assert(not ok and err:sub(-#want) == want, "max_rows=" .. tostring(v) .. ": " .. tostring(err))
end
os.execute("rm -rf " .. dir)
print("io_limits: ok")
