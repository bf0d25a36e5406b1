-- tables_pandas: real CSV files shipped by Debian packages (R's and Python's
-- data), read by wb and by pandas.read_csv: the same rows, columns, column
-- names, kinds (number / text), missing values per column and distinct
-- values per text column. pandas runs here (/usr/bin/python3, or
-- $WB_PANDAS_PYTHON); a file or pandas that is absent fails the test, naming
-- the Debian package to install (scripts/setup.sh --test installs them all).
-- pandas reads with na_values=["?"] (wb's default missing tokens are pandas'
-- and "?"); a file whose lines lack trailing fields is read with
-- ragged = "fill", which is what pandas does with them.
package.path = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/lib/?.lua;" .. package.path
local TL = require("testlib")
local eq = TL.eq

local PY = os.getenv("WB_PANDAS_PYTHON") or "/usr/bin/python3"
local FILES = { -- path, options, the Debian package that ships it (scripts/setup.sh --test installs them)
  {"/usr/lib/R/site-library/palmerpenguins/extdata/penguins.csv", nil, "r-cran-palmerpenguins"},
  {"/usr/lib/R/site-library/palmerpenguins/extdata/penguins_raw.csv", nil, "r-cran-palmerpenguins"},
  {"/usr/share/R/doc/CRAN_mirrors.csv", {ragged = "fill"}, "r-base-core"},
  {"/usr/share/R/doc/BioC_mirrors.csv", nil, "r-base-core"},
  {"/usr/lib/python3/dist-packages/sklearn/datasets/data/iris.csv", nil, "python3-sklearn"},
  {"/usr/lib/python3/dist-packages/sklearn/datasets/data/diabetes_data_raw.csv.gz", nil, "python3-sklearn"}, -- gzip
  {"/usr/share/matplotlib/mpl-data/sample_data/percent_bachelors_degrees_women_usa.csv", nil, "python-matplotlib-data"},
  {"/usr/share/matplotlib/mpl-data/sample_data/msft.csv", nil, "python-matplotlib-data"},
}

local function exists(p)
  local f = io.open(p, "rb")
  if f then f:close() end
  return f ~= nil
end
-- nothing is skipped: a test that checked no file would pass saying nothing
if not os.execute(PY .. " -c 'import pandas' 2>/dev/null") then
  error("tables_pandas: no pandas for " .. PY .. " (Debian's python3-pandas; scripts/setup.sh --test installs it)")
end

-- pandas' view of a file: "rows R cols C", then per column "name<TAB>kind<TAB>missing<TAB>unique"
local script = os.tmpname()
local f = assert(io.open(script, "w"))
f:write([[
import sys
import pandas as pd
df = pd.read_csv(sys.argv[1], na_values=["?"])
print("rows %d cols %d" % df.shape)
for c in df.columns:
    s = df[c]
    text = s.dtype == object or s.dtype == bool
    print("%s\t%s\t%d\t%d" % (c, "text" if text else "number", int(s.isna().sum()), s.nunique() if text else -1))
]])
f:close()

local checked = 0
for _, spec in ipairs(FILES) do
  local path, opts = spec[1], spec[2] or {}
  if not exists(path) then
    error("tables_pandas: " .. path .. " is absent: install Debian's " .. spec[3] .. " (scripts/setup.sh --test does)")
  else
    local h = assert(io.popen(PY .. " " .. script .. " '" .. path .. "'"))
    local want = h:read("a")
    h:close()
    opts.label = false
    local d = wb.load(path, opts)
    local r = d:describe()
    local got = {string.format("rows %d cols %d", d:rows(), d:cols())}
    local names, types = d:names(), d:types()
    for j = 1, d:cols() do
      local row = r[j]
      got[#got + 1] = string.format("%s\t%s\t%d\t%d", names[j], types[j] == "category" and "text" or "number",
                                    row.missing, types[j] == "category" and row.unique or -1)
    end
    eq(table.concat(got, "\n") .. "\n", want, path .. ": wb and pandas")
    checked = checked + 1
    print(string.format("tables_pandas: %s: %d rows, %d columns, %d missing values, as pandas", path, d:rows(), d:cols(),
                        (function() local m = 0 for j = 1, d:cols() do m = m + r[j].missing end return m end)()))
  end
end
os.remove(script)
print(string.format("tables_pandas: ok (%d files)", checked))
