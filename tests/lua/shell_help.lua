-- shell_help.lua — help(): the overview lists what exists; help(name) for an
-- estimator prints its parameter schema from the plugin (name, default,
-- allowed range, doc); for a data source the same; for a function its line;
-- help(value) for functions, datasets and models; wb.doc adds entries.
local H = require "wb.help"
wb.plugin.load(os.getenv("WB_TEST_PLUGIN_DIR") .. "/shell_demo.so")

local function has(text, line, what)
  for l in (text .. "\n"):gmatch("(.-)\n") do
    if l:match(line) then return end
  end
  error(string.format("%s: no line matching %q in:\n%s", what, line, text), 2)
end
local function hasnt(text, pat, what)
  if text:find(pat, 1, true) then error(string.format("%s: %q should not be in:\n%s", what, pat, text), 2) end
end

-- the overview
local all = H.text()
has(all, "^wb %S+ %-%- an analysis workbench", "overview title")
has(all, "^functions:$", "overview functions")
has(all, "wb%.fit%s", "overview lists wb.fit")
has(all, "wb%.load%s", "overview lists wb.load")
has(all, "d:describe%s", "overview lists d:describe")
has(all, "m:predict%s", "overview lists m:predict")
has(all, "^estimators %(wb%.fit%(name, data, params%)", "overview estimators")
has(all, "^  .*shelldemo_mean", "overview lists the plugin's estimator")
has(all, "^data sources %(wb%.datagen%.name{%.%.%.}%):$", "overview sources")
has(all, "^  .*shelldemo%f[%s\0]", "overview lists the plugin's source")
for _, src in ipairs(wb.core.sources()) do has(all, "^  .*" .. src, "overview lists " .. src) end
for _, est in ipairs(wb.estimators()) do has(all, "^  .*" .. est, "overview lists " .. est) end
-- names documented but not loaded here are not listed
if not wb.gridsearch then hasnt(all, "wb.gridsearch", "overview") end

-- an estimator: the schema from the plugin
local e = H.text("shelldemo_mean")
has(e, "^shelldemo_mean %(transformer%): column means %(for the shell's tests%)$", "estimator title")
has(e, '^usage: m = wb%.fit%("shelldemo_mean", data, {scale = %.%.%., %.%.%.}%)$', "estimator usage")
has(e, "^parameters:$", "estimator parameters")
has(e, "^  name%s+default%s+allowed%s+meaning$", "schema header")
has(e, "^  scale%s+1%.0%s+a number > 0%s+multiply the means by this$", "number parameter with an open range")
has(e, '^  mode%s+plain%s+one of "plain", "squared"%s+plain means or their squares$', "string parameter with choices")
has(e, "^  iters%s+10%s+an integer in %[1, 100%]%s+how many times %(unused%)$", "integer parameter with a range")
has(e, "^  init%s+%-%s+a matrix %(table of rows or dataset%)%s+starting values %(unused%)$", "matrix parameter without default")
hasnt(e, "m:predict", "a transformer without predict")
-- a data source
local s = H.text("shelldemo")
has(s, "^wb%.datagen%.shelldemo %(data source%): rows r %+ j/10 with label r %% 2", "source title")
has(s, "^  n%s+%-%s+an integer in %[1, 1000000000000%]%s+rows$", "source n")
has(s, "^  features%s+3%s+an integer in %[1, 1000000%]%s+columns$", "source features")
has(s, "^  labels%s+true%s+a boolean%s+rows carry a label", "source labels")
assert(H.text("wb.datagen.shelldemo") == s, "help by the full name")
assert(H.text(wb.datagen.shelldemo) == s, "help by the function")

-- functions, by name and by value
has(H.text("wb.fit"), "^wb%.fit%(name, data, params%) %-> model", "help('wb.fit')")
has(H.text("fit"), "^wb%.fit%(name, data, params%) %-> model", "help('fit')")
has(H.text(wb.fit), "^wb%.fit%(name, data, params%) %-> model", "help(wb.fit)")
has(H.text(wb.plugin.load), "^wb%.plugin%.load%(path%)", "help(wb.plugin.load)")
has(H.text(help), "^help%(name%) or help%(value%)", "help(help)")
has(H.text("describe"), "^d:describe%(%) %-> per%-column count, mean, std, min, max", "help('describe')")
has(H.text("d:describe"), "^d:describe%(%)", "help('d:describe')")
local d = wb.datagen.shelldemo{n = 10}
has(H.text(d.describe), "^d:describe%(%)", "help(d.describe)")
has(H.text(d.rows), "^d:rows%(%) %-> number of rows$", "help of a C method")
has(H.text("m:predict"), "^m:predict%(data%)", "help('m:predict')")
has(H.text(wb.plugin), "^wb%.plugin%.load%(path%)", "help of a namespace lists its functions")
has(H.text(wb.plugin), "^wb%.plugin%.list%(%)", "help of a namespace lists its functions")

-- values: a dataset, a model
local hd = H.text(d)
has(hd, "^Dataset: 10 rows x 3 columns, labelled %(1 partition%)$", "help(dataset) shape")
has(hd, "d:describe", "help(dataset) methods")
local m = wb.fit("shelldemo_mean", d, {})
local hm = H.text(m)
has(hm, "^shelldemo_mean %(transformer%)", "help(model) estimator")
has(hm, "^  m%.means%s+m%.rows%s+m%.note$", "help(model) fields")

-- unknown things say so
has(H.text("nosuchthing"), "^no help for 'nosuchthing' %(help%(%) lists what there is%)$", "unknown name")
has(H.text(print), "^no help for this function", "undocumented function")

-- plugins document their functions with wb.doc
wb.shelltest_fn = function() end
wb.doc("wb.shelltest_fn", "wb.shelltest_fn() -- a test entry")
has(H.text(wb.shelltest_fn), "^wb%.shelltest_fn%(%) %-%- a test entry$", "wb.doc by value")
has(H.text("shelltest_fn"), "^wb%.shelltest_fn%(%) %-%- a test entry$", "wb.doc by name")
has(H.text(), "wb%.shelltest_fn", "wb.doc entries are listed")
local ok, err = pcall(wb.doc, 1, "x")
assert(not ok and err:find("bad argument #1 to 'doc' (name expected, got number)", 1, true), err)
ok, err = pcall(wb.doc, "x")
assert(not ok and err:find("bad argument #2 to 'doc' (text expected, got nil)", 1, true), err)

-- help() prints the same text
local printed
local real = print
print = function(s) printed = s end
help("shelldemo_mean")
print = real
assert(printed == e, "help() prints help.text()")
print("shell_help: all checks passed")
