-- shell_candidates.lua — the candidates TAB offers at the wb> prompt
-- (wb/complete.lua): globals and keywords, wb. names and nested ones
-- (wb.datagen.<TAB>: the data sources, through the proxy), methods of a
-- dataset, a model (only those of its estimator), a string, a table with
-- methods; model fields; nothing for unknown paths.
package.path = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/lib/?.lua;" .. package.path
local TL = require("testlib")
local C = require "wb.complete"
wb.plugin.load(os.getenv("WB_TEST_PLUGIN_DIR") .. "/shell_demo.so")

local function list(word) return table.concat(C.complete(word), " ") end
local eq = TL.eq
local function contains(word, items, what)
  local set = {}
  for _, c in ipairs(C.complete(word)) do set[c] = true end
  for _, i in ipairs(items) do
    if not set[i] then error(string.format("%s: '%s' lacks %s (got: %s)", what, word, i, list(word)), 2) end
  end
end
local function lacks(word, items, what)
  local set = {}
  for _, c in ipairs(C.complete(word)) do set[c] = true end
  for _, i in ipairs(items) do
    if set[i] then error(string.format("%s: '%s' offers %s", what, word, i), 2) end
  end
end

-- globals, keywords
eq(list("hel"), "help(", "a global function")
eq(list("whi"), "while", "a keyword")
eq(list("retu"), "return", "a keyword")
contains("pr", {"print("}, "globals")
eq(list("nosuchglobal"), "", "no candidate")
-- wb. names, nested ones
eq(list("wb.fi"), "wb.fit(", "wb.fit")
contains("wb.", {"wb.fit(", "wb.load(", "wb.datagen", "wb.plugin", "wb.core", "wb.threads("}, "wb.")
eq(list("wb.plugin.lo"), "wb.plugin.load(", "nested table")
eq(list("wb.datagen.sh"), "wb.datagen.shelldemo(", "a data source through the proxy")
local want = {}
for _, src in ipairs(wb.core.sources()) do want[#want + 1] = "wb.datagen." .. src .. "(" end
table.sort(want)
eq(list("wb.datagen."), table.concat(want, " "), "all data sources")
contains("wb.datagen.", {"wb.datagen.shelldemo("}, "the test plugin's source")
lacks("wb.", {"wb._private"}, "names with _")
eq(list("string.for"), "string.format(", "a library table")
-- methods of a dataset
d = wb.datagen.shelldemo{n = 10}
eq(list("d:desc"), "d:describe(", "a dataset method written in Lua")
eq(list("d:row"), "d:row( d:rows(", "dataset methods written in C")
contains("d:", {"d:head(", "d:slice(", "d:labels(", "d:names(", "d:show(", "d:save("}, "dataset methods")
lacks("d:", {"d:rows_table(", "d:describe_raw("}, "internal dataset methods")
eq(list("d."), "", "a dataset has no fields")
-- a model: methods of its estimator only, fields with "."
m = wb.fit("shelldemo_mean", d, {})
contains("m:", {"m:save(", "m:params(", "m:fields(", "m:estimator("}, "model methods")
lacks("m:", {"m:predict(", "m:predict_proba(", "m:transform(", "m:score(", "m:score_raw("}, "methods this estimator lacks")
eq(list("m."), "m.means m.note m.rows", "model fields")
eq(list("m.ro"), "m.rows", "a model field")
-- strings, tables with methods
s = "abc"
eq(list("s:upp"), "s:upper(", "a string method")
local T = require "wb.table"
tbl = T.new({"a"}, {{a = 1}})
contains("tbl:", {"tbl:export(", "tbl:format(", "tbl:column("}, "methods of a result table")
contains("tbl.", {"tbl.columns"}, "fields of a result table")
-- a metatable can offer its own names
obj = setmetatable({}, {__complete = function() return {"alpha", "beta"} end})
eq(list("obj."), "obj.alpha( obj.beta(", "__complete")
-- paths that go nowhere, or are not names
eq(list("nosuch.x"), "", "unknown table")
eq(list("d:rows():"), "", "a call in the path")
eq(list("wb.fit.x"), "", "a function in the path")
eq(list("1."), "", "a number")
-- a failing __index does not break completion
bad = setmetatable({}, {__index = function() error("no") end})
eq(list("bad.x.y"), "", "an __index that raises")
print("shell_candidates: all checks passed")
