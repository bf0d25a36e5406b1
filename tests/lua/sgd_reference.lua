-- sgd_reference.lua — sgd against scikit-learn's SGDClassifier with the L1
-- and elasticnet penalties (cumulative L1, Tsuruoka et al.), learning rates
-- optimal, constant and invscaling, with and without an intercept, two and
-- three classes (one-vs-rest). The references come from
-- tests/data/sgd_reference.py; wb runs one shard without shuffling, so both
-- see the rows in the same order with the same learning rates. Stated
-- tolerance: every coefficient and intercept within 1e-12 (relative to the
-- larger of 1 and its size), and the same coefficients exactly zero.
package.path = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/lib/?.lua;" .. package.path
local TL = require("testlib")
local check = TL.check
TL.need_estimator("sgd")
local src = assert(os.getenv("WB_SOURCE_DIR"), "WB_SOURCE_DIR is not set")
local ref = dofile(src .. "/tests/data/sgd_reference.lua")

-- the data: six features, then the 2-class and the 3-class label
local rows, y2, y3 = {}, {}, {}
local f = assert(io.open(src .. "/tests/data/sgd_data.csv"))
f:read("l")
for line in f:lines() do
  local v = {}
  for x in line:gmatch("[^,]+") do v[#v + 1] = tonumber(x) end
  rows[#rows + 1] = {v[1], v[2], v[3], v[4], v[5], v[6]}
  y2[#y2 + 1], y3[#y3 + 1] = v[7], v[8]
end
f:close()
check(#rows == 240, "240 rows, got " .. #rows)
local data = {[2] = wb.dataset(rows, y2), [3] = wb.dataset(rows, y3)}

TL.check(#ref >= 7, "the reference cases")
for _, c in ipairs(ref) do
  local p = {tol = false, shuffle = false, shards = 1}
  for k, v in pairs(c.params) do p[k] = v end
  local m = wb.fit("sgd", data[c.classes], p)
  local coef = m.coef
  if type(coef[1]) ~= "table" then coef = {coef} end
  check(#coef == #c.coef, c.name .. ": " .. #coef .. " coefficient rows, want " .. #c.coef)
  local md, zeros = 0, 0
  for k = 1, #c.coef do
    for j = 1, 6 do
      local got, want = coef[k][j], c.coef[k][j]
      md = math.max(md, math.abs(got - want) / math.max(1, math.abs(want)))
      check((got == 0) == (want == 0), string.format("%s: coefficient %d,%d is %.17g, scikit-learn's %.17g", c.name, k, j, got, want))
      if got == 0 then zeros = zeros + 1 end
    end
    md = math.max(md, math.abs(m.intercept[k] - c.intercept[k]) / math.max(1, math.abs(c.intercept[k])))
  end
  print(string.format("%-20s max relative difference %.3g, %d zero coefficients", c.name, md, zeros))
  check(md <= 1e-12, c.name .. ": differs from scikit-learn by " .. md)
  check(zeros == c.zeros, c.name .. ": zeros")
end
print("sgd_reference: all checks passed")
