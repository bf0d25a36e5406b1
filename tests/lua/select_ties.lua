-- select_ties.lua — wb.split's stratified shares when remainders tie: the
-- leftover test rows go to the earlier classes (largest remainder, ties to
-- the smaller label), and the test/training counts of every class are exact
-- (worked by hand below).
package.path = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/lib/?.lua;" .. package.path
local TL = require("testlib")
local same = TL.same

local function counts(ds, ncls)
  local c = {}
  for g = 1, ncls do c[g] = 0 end
  for _, y in ipairs(wb.core.labels(ds)) do c[y + 1] = c[y + 1] + 1 end
  return c
end
-- classes of the given sizes, labels 0, 1, ..., rows interleaved
local function data(sizes)
  local rows, lab, left = {}, {}, {}
  for g, s in ipairs(sizes) do left[g] = s end
  local more = true
  while more do
    more = false
    for g = 1, #sizes do
      if left[g] > 0 then
        rows[#rows + 1] = {#rows + 1}
        lab[#lab + 1] = g - 1
        left[g] = left[g] - 1
        more = true
      end
    end
  end
  return wb.dataset(rows, lab)
end

-- {sizes, test, want test counts}
local cases = {
  -- 5 + 5 rows, 3 test: shares 1.5 and 1.5, floors 1 + 1, the tie to class 0
  {{5, 5}, 3, {2, 1}},
  -- 4 + 4 + 4, 4 test: shares 4/3 each, floors 1, the leftover to class 0
  {{4, 4, 4}, 4, {2, 1, 1}},
  -- 4 + 4 + 4, 5 test: shares 5/3 each, floors 1, two leftovers to classes 0, 1
  {{4, 4, 4}, 5, {2, 2, 1}},
  -- 3 + 6 + 3, 6 test: shares 1.5, 3, 1.5: the tie of classes 0 and 2 to class 0
  {{3, 6, 3}, 6, {2, 3, 1}},
  -- 7 + 3, 5 test: shares 3.5 and 1.5, floors 3 + 1, the tie to class 0
  {{7, 3}, 5, {4, 1}},
}
for _, c in ipairs(cases) do
  local d = data(c[1])
  local n = d:rows()
  for _, seed in ipairs{0, 1, 7} do
    local tr, te = wb.split(d, {test = c[2], seed = seed, stratify = true})
    local what = string.format("sizes {%s}, %d test, seed %d", table.concat(c[1], ", "), c[2], seed)
    same(counts(te, #c[1]), c[3], what .. ": test rows per class")
    local rest = {}
    for g = 1, #c[1] do rest[g] = c[1][g] - c[3][g] end
    same(counts(tr, #c[1]), rest, what .. ": training rows per class")
    TL.eq(te:rows() + tr:rows(), n, what .. ": every row")
  end
end
print("select_ties: all checks passed")
