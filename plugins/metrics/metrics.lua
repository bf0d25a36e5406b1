-- metrics.lua — wb.metrics.*: classification metrics as map/reduce over the
-- partitions of the truth (kernels in metrics.c). Runs at load with the wb
-- table. wb.metrics stays a plain table that other plugins add to.
--
--   wb.metrics.accuracy(truth, pred)
--   wb.metrics.precision / recall / f1(truth, pred, {average = "binary"|"macro"|"weighted"|"micro", pos_label = })
--   wb.metrics.balanced_accuracy(truth, pred)
--   wb.metrics.confusion(truth, pred)       -> table (rows: truth, columns: prediction) with .matrix, .classes
--   wb.metrics.report(truth, pred)          -> per-class precision, recall, f1, support
--   wb.metrics.roc_auc(truth, score)        -- score: a vector, or one column per class (one-vs-rest, macro)
--   wb.metrics.log_loss(truth, proba, {eps =, labels =})
--   wb.metrics.mse / rmse / mae / r2(truth, pred)   -- regression
--
-- truth: a labelled dataset (its labels), a vector, or a table of numbers;
-- pred: a vector (or a dataset of one column) or a table of numbers.
-- wb.scoring holds the pieces grid search shares: metric names, the reduce
-- from a kernel's partial results to a score, and whether higher is better.
local wb = ...
local T = require("wb.table")
local SH = require("wb.show")
wb.metrics = wb.metrics or {}
local M = wb.metrics
local S = {}
wb.scoring = S

local DSMT = debug.getregistry()["wb.Dataset"]
local function is_dataset(x) return getmetatable(x) == DSMT end

local SRC_LABELS, SRC_COL0 = 0, 1

-- a Lua table -> a vector or dataset; errors name this function's argument,
-- not wb.vector's (found by tests/lua/api_sweep.lua)
local function convert(f, x, argn, fname)
  local ok, v = pcall(f, x)
  if ok then return v end
  local why = tostring(v):match("bad argument #%d+ to '[^']*' %((.*)%)$") or tostring(v)
  error(string.format("bad argument #%d to '%s' (%s)", argn, fname, why), 0)
end

-- truth -> dataset, source
local function truth_of(x, argn, fname)
  if type(x) == "table" and getmetatable(x) == nil then
    if #x == 0 then error(string.format("bad argument #%d to '%s' (empty table)", argn, fname), 0) end
    return convert(wb.vector, x, argn, fname), SRC_COL0
  end
  if is_dataset(x) then
    if x:has_labels() then return x, SRC_LABELS end
    if x:is_vector() or x:cols() == 1 then return x, SRC_COL0 end
    error(string.format("bad argument #%d to '%s' (a dataset without labels: the truth must be a labelled dataset or a vector)", argn, fname), 0)
  end
  error(string.format("bad argument #%d to '%s' (a labelled dataset, a vector or a table of numbers expected, got %s)", argn, fname, type(x)), 0)
end

-- predictions (labels, scores or probabilities) -> dataset
local function pred_of(x, argn, fname, what)
  if type(x) == "table" and getmetatable(x) == nil then
    if #x == 0 then error(string.format("bad argument #%d to '%s' (empty table)", argn, fname), 0) end
    if type(x[1]) == "table" then return convert(wb.dataset, x, argn, fname) end
    return convert(wb.vector, x, argn, fname)
  end
  if is_dataset(x) then return x end
  error(string.format("bad argument #%d to '%s' (%s expected as a vector, a dataset or a table of numbers, got %s)", argn, fname, what, type(x)), 0)
end

local function header(tsrc, psrc, ncls, flags, eps)
  return string.pack("<i4i4i4i4d", tsrc, psrc, ncls or 0, flags or 0, eps or 0)
end

local function layout(d)
  local objs = wb.core.map("metrics.layout", d, nil, "")
  local L = {}
  for i, o in ipairs(objs) do
    local r0, rows = string.unpack("<i8i8", wb.core.get(o))
    L[i] = {r0, rows}
  end
  return L
end

-- one task per partition of the truth, with the prediction partitions that
-- hold the same rows; returns the result bytes of each task
local function run_pairs(kernel, truth, pred, arg)
  local tparts, pparts = wb.core.parts(truth), wb.core.parts(pred)
  local tl, pl = layout(truth), layout(pred)
  local fut = {}
  for i, tp in ipairs(tparts) do
    local a, b = tl[i][1], tl[i][1] + tl[i][2]
    local ins = {tp}
    for j, pp in ipairs(pparts) do
      local c, e = pl[j][1], pl[j][1] + pl[j][2]
      if c < b and e > a then ins[#ins + 1] = pp end
    end
    fut[i] = wb.core.submit(kernel, ins, arg)
  end
  wb.core.wait(fut)
  local out = {}
  for i, f in ipairs(fut) do out[i] = wb.core.get(f) end
  return out
end

local function check_rows(truth, pred, fname, what)
  if truth:rows() ~= pred:rows() then
    error(string.format("bad argument #2 to '%s' (%d %s for %d rows of truth)", fname, pred:rows(), what, truth:rows()), 0)
  end
end

-- raise a kernel error with the function's name in front
local function call(fname, f, ...)
  local ok, a, b = pcall(f, ...)
  if not ok then error(fname .. ": " .. tostring(a):gsub("^[%w_.]+: ", ""), 0) end
  return a, b
end

-- ------------------------------------------------------------ reductions
-- wb.scoring is reachable from Lua: its functions check their arguments
-- (found by tests/lua/api_sweep.lua: "attempt to ..." errors, errors named
-- after string.pack or table.sort, table addresses, control bytes and 70 KB
-- values in messages)

-- raised at the line that called the wb.scoring function: depth counts the
-- calls from sargerr_at up to that function (sargerr: 2, from a helper: 3)
local function sargerr_at(depth, argn, fname, fmt, ...)
  error(string.format("bad argument #%d to '%s' (%s)", argn, fname, string.format(fmt, ...)), depth + 2)
end
local function sargerr(argn, fname, fmt, ...) sargerr_at(2, argn, fname, fmt, ...) end
local function helper_argerr(argn, fname, fmt, ...) sargerr_at(3, argn, fname, fmt, ...) end

-- a value as a message shows it: no addresses, no long strings, no control bytes
local function shown(v)
  if type(v) == "number" then return SH.num(v) end
  if type(v) == "boolean" then return tostring(v) end
  if type(v) == "string" then
    if #v <= 40 and v:find("^[%w_.%-]+$") then return v end -- a plain word as it is
    return (string.format("%q", v:sub(1, 40)):gsub("\\\n", "\\n"))
  end
  return type(v)
end

local function is_key(v) return type(v) == "number" and v == v end -- a class or block index (not NaN)

-- a merged confusion: {classes = sorted numbers, counts = {[t] = {[p] = count}}, n = total}
local function check_cf(cf, argn, fname)
  if type(cf) ~= "table" then helper_argerr(argn + 1, fname, "confusion expected (as merge_confusion returns), got %s", type(cf)) end
  if type(cf.classes) ~= "table" or type(cf.counts) ~= "table" or type(cf.n) ~= "number" then
    helper_argerr(argn + 1, fname, "confusion expected: a table with classes, counts and n (as merge_confusion returns)")
  end
  for i, c in ipairs(cf.classes) do
    if not is_key(c) then helper_argerr(argn + 1, fname, "classes[%d] must be a number, got %s", i, shown(c)) end
  end
  for t, row in pairs(cf.counts) do
    if not is_key(t) or type(row) ~= "table" then
      helper_argerr(argn + 1, fname, "counts must map a class to a table of counts, got %s = %s", shown(t), shown(row))
    end
    for p, c in pairs(row) do
      if not is_key(p) or type(c) ~= "number" then
        helper_argerr(argn + 1, fname, "counts[%s] must map a class to a count, got %s = %s", shown(t), shown(p), shown(c))
      end
    end
  end
end

-- kernel results (strings of packed doubles, or lists of numbers), each
-- {count, then count records of `width` numbers, the first `nkeys` of
-- each a class or block index} -> lists of numbers
local function records(results, fname, width, nkeys)
  if type(results) ~= "table" then helper_argerr(1, fname, "list of kernel results expected, got %s", type(results)) end
  local out = {}
  for i, r in ipairs(results) do
    if type(r) == "string" then
      if #r < 8 or #r % 8 ~= 0 then helper_argerr(1, fname, "result %d: %d bytes, not a list of doubles", i, #r) end
      r = wb.core.unpack_doubles(r)
    elseif type(r) ~= "table" then
      helper_argerr(1, fname, "result %d must be a string of doubles or a list of numbers, got %s", i, type(r))
    end
    local n = math.tointeger(r[1])
    if not n or n < 0 or n > (#r - 1) // width then
      helper_argerr(1, fname, "result %d: a count of records in 0..%d expected first, got %s", i, (#r - 1) // width, shown(r[1]))
    end
    for k = 2, 1 + n * width do
      local v = r[k]
      if type(v) ~= "number" or ((k - 2) % width < nkeys and v ~= v) then -- keys are not NaN
        helper_argerr(1, fname, "result %d: value %d must be a number, got %s", i, k, shown(v))
      end
    end
    out[#out + 1] = r
  end
  return out
end

-- add per-block sums in a fixed pairwise tree over the block index, so the
-- result never depends on how the rows were cut into partitions
function S.tree_sum(blocks)
  if type(blocks) ~= "table" then sargerr(1, "tree_sum", "list of blocks {index, values...} expected, got %s", type(blocks)) end
  local len
  for i, b in ipairs(blocks) do
    if type(b) ~= "table" or not is_key(b[1]) then
      sargerr(1, "tree_sum", "block %d must be a list {index, values...}, got %s", i, type(b) == "table" and "no index" or type(b))
    end
    len = len or #b
    if #b ~= len then sargerr(1, "tree_sum", "block %d has %d numbers, block 1 has %d", i, #b, len) end
    for k = 2, len do
      if type(b[k]) ~= "number" then sargerr(1, "tree_sum", "block %d: value %d must be a number, got %s", i, k, shown(b[k])) end
    end
  end
  table.sort(blocks, function(a, b) return a[1] < b[1] end)
  local v = {}
  for i, b in ipairs(blocks) do v[i] = b end
  local width = #v > 0 and #v[1] - 1 or 0
  while #v > 1 do
    local nv = {}
    for i = 1, #v, 2 do
      local a, b = v[i], v[i + 1]
      if b then
        local s = {a[1]}
        for k = 2, width + 1 do s[k] = a[k] + b[k] end
        nv[#nv + 1] = s
      else
        nv[#nv + 1] = a
      end
    end
    v = nv
  end
  return v[1]
end

-- decode metrics.confusion results into {classes, counts[t][p], n}
function S.merge_confusion(results)
  local counts, seen, n = {}, {}, 0
  for _, v in ipairs(records(results, "merge_confusion", 3, 2)) do
    for i = 0, v[1] - 1 do
      local t, p, c = v[2 + 3 * i], v[3 + 3 * i], v[4 + 3 * i]
      counts[t] = counts[t] or {}
      counts[t][p] = (counts[t][p] or 0) + c
      seen[t], seen[p] = true, true
      n = n + c
    end
  end
  local classes = {}
  for c in pairs(seen) do classes[#classes + 1] = c end
  table.sort(classes)
  return {classes = classes, counts = counts, n = n}
end

local function per_class(cf)
  local tp, fp, fn, sup = {}, {}, {}, {}
  for k, c in ipairs(cf.classes) do
    tp[k], fp[k], fn[k], sup[k] = 0, 0, 0, 0
    for _, t in ipairs(cf.classes) do
      local row = cf.counts[t]
      local v = row and row[c] or 0
      if t == c then tp[k] = v else fp[k] = fp[k] + v end
    end
    local row = cf.counts[c] or {}
    for p, v in pairs(row) do
      sup[k] = sup[k] + v
      if p ~= c then fn[k] = fn[k] + v end
    end
  end
  return tp, fp, fn, sup
end

local function ratio(a, b) if b == 0 then return 0 end return a / b end

local function class_list(cf)
  local s = {}
  for i, c in ipairs(cf.classes) do s[i] = SH.num(c) end
  return table.concat(s, ", ")
end

-- precision, recall or f1 from a merged confusion
function S.prf(cf, which, opts, fname)
  check_cf(cf, 0, "prf")
  if which ~= "precision" and which ~= "recall" and which ~= "f1" then
    sargerr(2, "prf", "which must be \"precision\", \"recall\" or \"f1\", got %s", shown(which))
  end
  if opts ~= nil and type(opts) ~= "table" then sargerr(3, "prf", "table of options expected, got %s", type(opts)) end
  if fname ~= nil and (type(fname) ~= "string" or #fname > 64 or not fname:find("^[%w_.]+$")) then
    sargerr(4, "prf", "fname must be a function name, got %s", shown(fname))
  end
  fname = fname or "prf"
  opts = opts or {}
  local avg = opts.average or "binary"
  local tp, fp, fn, sup = per_class(cf)
  local function value(k)
    if which == "precision" then return ratio(tp[k], tp[k] + fp[k]) end
    if which == "recall" then return ratio(tp[k], tp[k] + fn[k]) end
    return ratio(2 * tp[k], 2 * tp[k] + fp[k] + fn[k])
  end
  if avg == "binary" then
    if #cf.classes > 2 then
      error(string.format("%s: the targets have %d classes (%s): choose average = \"macro\", \"weighted\" or \"micro\"",
        fname, #cf.classes, class_list(cf)), 0)
    end
    local pos = opts.pos_label
    if pos == nil then
      pos = cf.classes[#cf.classes]
      for _, c in ipairs(cf.classes) do if c == 1 then pos = 1 end end
    end
    for k, c in ipairs(cf.classes) do if c == pos then return value(k) end end
    error(string.format("%s: pos_label %s is not one of the classes (%s)", fname, shown(pos), class_list(cf)), 0)
  elseif avg == "macro" then
    local s = 0
    for k = 1, #cf.classes do s = s + value(k) end
    return s / #cf.classes
  elseif avg == "weighted" then
    local s, w = 0, 0
    for k = 1, #cf.classes do s = s + sup[k] * value(k); w = w + sup[k] end
    return ratio(s, w)
  elseif avg == "micro" then
    local a, b, c = 0, 0, 0
    for k = 1, #cf.classes do a = a + tp[k]; b = b + fp[k]; c = c + fn[k] end
    if which == "precision" then return ratio(a, a + b) end
    if which == "recall" then return ratio(a, a + c) end
    return ratio(2 * a, 2 * a + b + c)
  end
  error(string.format("%s: average must be \"binary\", \"macro\", \"weighted\" or \"micro\", got %s", fname, shown(avg)), 0)
end

function S.accuracy(cf)
  check_cf(cf, 0, "accuracy")
  local ok = 0
  for t, row in pairs(cf.counts) do ok = ok + (row[t] or 0) end
  return ratio(ok, cf.n)
end

function S.balanced_accuracy(cf)
  check_cf(cf, 0, "balanced_accuracy")
  local tp, _, fn = per_class(cf)
  local s, k = 0, 0
  for i, c in ipairs(cf.classes) do
    if cf.counts[c] then s = s + ratio(tp[i], tp[i] + fn[i]); k = k + 1 end
  end
  return ratio(s, k)
end

-- decode metrics.logloss results -> mean loss
function S.merge_logloss(results)
  local blocks = {}
  for _, v in ipairs(records(results, "merge_logloss", 3, 1)) do
    for i = 0, v[1] - 1 do blocks[#blocks + 1] = {v[2 + 3 * i], v[3 + 3 * i], v[4 + 3 * i]} end
  end
  if #blocks == 0 then sargerr(1, "merge_logloss", "no blocks: the truth has no rows") end
  local t = S.tree_sum(blocks)
  return ratio(t[2], t[3])
end

-- metric names usable in grid search: what each needs from the model
-- (labels, probabilities or the estimator's own score) and its direction
S.metrics = {
  accuracy = {needs = "labels"}, balanced_accuracy = {needs = "labels"},
  precision = {needs = "labels"}, recall = {needs = "labels"}, f1 = {needs = "labels"},
  precision_macro = {needs = "labels"}, recall_macro = {needs = "labels"}, f1_macro = {needs = "labels"},
  precision_weighted = {needs = "labels"}, recall_weighted = {needs = "labels"}, f1_weighted = {needs = "labels"},
  f1_micro = {needs = "labels"},
  roc_auc = {needs = "proba"}, log_loss = {needs = "proba", lower = true},
  score = {needs = "score"},
}
S.metrics.neg_log_loss = {needs = "proba", negate = true} -- scikit-learn's scorer name: higher is better

function S.names()
  local n = {}
  for k in pairs(S.metrics) do n[#n + 1] = k end
  table.sort(n)
  return n
end

-- a score from a merged confusion for a label metric name
function S.from_confusion(name, cf)
  local m = type(name) == "string" and S.metrics[name]
  if not m or m.needs ~= "labels" then
    local names = {}
    for _, k in ipairs(S.names()) do if S.metrics[k].needs == "labels" then names[#names + 1] = k end end
    sargerr(1, "from_confusion", "a metric on labels expected (%s), got %s", table.concat(names, ", "), shown(name))
  end
  check_cf(cf, 1, "from_confusion")
  if name == "accuracy" then return S.accuracy(cf) end
  if name == "balanced_accuracy" then return S.balanced_accuracy(cf) end
  local which, avg = name:match("^(%w+)_(%a+)$")
  if not which then which, avg = name, "binary" end
  return S.prf(cf, which, {average = avg}, name)
end

-- ---------------------------------------------------------------- metrics

-- predicted class names matched to the truth's by text: when both hold
-- categories with different level sets (a test file loaded on its own, a
-- class missing from it), the predictions become the truth's codes (-1 for
-- a class the truth does not know), through an ordinal encoder whose
-- categories are the truth's levels
local function jstr(v)
  return '"' .. v:gsub('[%c"\\]', function(c)
    local map = {['"'] = '\\"', ['\\'] = '\\\\', ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t'}
    return map[c] or string.format("\\u%04x", c:byte())
  end) .. '"'
end
local function same_levels(a, b)
  if #a ~= #b then return false end
  for i = 1, #a do if a[i] ~= b[i] then return false end end
  return true
end
local function by_class_name(t, tsrc, p)
  local tl = tsrc == SRC_LABELS and t:label_levels() or (t:cols() == 1 and t:levels(1)) or nil
  local pl = p:cols() == 1 and p:levels(1) or nil
  if not tl or not pl or same_levels(tl, pl) or not wb.core.estimator_info("ordinal") then return p end
  local cats = {}
  for i, s in ipairs(tl) do cats[i] = jstr(s) end
  local enc = wb.core.model_new("ordinal", {handle_unknown = "use_encoded_value", unknown_value = -1})
  enc:set("categories", "[[" .. table.concat(cats, ",") .. "]]")
  enc:set("columns", {1})
  enc:set("n_features", 1)
  return enc:transform(p)
end

local function confusion_of(fname, truth, pred)
  local t, tsrc = truth_of(truth, 1, fname)
  local p = pred_of(pred, 2, fname, "predictions")
  check_rows(t, p, fname, "predictions")
  if p:cols() ~= 1 then
    error(string.format("bad argument #2 to '%s' (predicted labels expected: one column, got %d)", fname, p:cols()), 0)
  end
  p = by_class_name(t, tsrc, p)
  local res = call(fname, run_pairs, "metrics.confusion", t, p, header(tsrc, SRC_COL0))
  return S.merge_confusion(res)
end

function M.accuracy(truth, pred) return S.accuracy(confusion_of("accuracy", truth, pred)) end
function M.balanced_accuracy(truth, pred) return S.balanced_accuracy(confusion_of("balanced_accuracy", truth, pred)) end

local function opts_of(o, argn, fname)
  if o ~= nil and type(o) ~= "table" then
    error(string.format("bad argument #%d to '%s' (table of options expected, got %s)", argn, fname, type(o)), 0)
  end
  return o or {}
end

for _, which in ipairs{"precision", "recall", "f1"} do
  M[which] = function(truth, pred, opts)
    opts = opts_of(opts, 3, which)
    local cf = confusion_of(which, truth, pred)
    local ok, v = pcall(S.prf, cf, which, opts, which)
    if not ok then error(v, 0) end
    return v
  end
end

function M.confusion(truth, pred)
  local cf = confusion_of("confusion", truth, pred)
  local cols = {"truth"}
  for _, c in ipairs(cf.classes) do cols[#cols + 1] = SH.num(c) end
  local rows, matrix = {}, {}
  for i, t in ipairs(cf.classes) do
    local r, mr = {truth = t}, {}
    for j, p in ipairs(cf.classes) do
      local v = cf.counts[t] and cf.counts[t][p] or 0
      r[cols[j + 1]] = v
      mr[j] = v
    end
    rows[i], matrix[i] = r, mr
  end
  local tab = T.new(cols, rows, "confusion matrix (rows: truth, columns: prediction)")
  tab.matrix, tab.classes = matrix, cf.classes
  return tab
end

function M.report(truth, pred)
  local cf = confusion_of("report", truth, pred)
  local tp, fp, fn, sup = per_class(cf)
  local rows = {}
  for k, c in ipairs(cf.classes) do
    rows[k] = {class = c, precision = ratio(tp[k], tp[k] + fp[k]), recall = ratio(tp[k], tp[k] + fn[k]),
               f1 = ratio(2 * tp[k], 2 * tp[k] + fp[k] + fn[k]), support = sup[k]}
  end
  for _, avg in ipairs{"macro", "weighted"} do
    rows[#rows + 1] = {class = avg, precision = S.prf(cf, "precision", {average = avg}, "report"),
                       recall = S.prf(cf, "recall", {average = avg}, "report"),
                       f1 = S.prf(cf, "f1", {average = avg}, "report"), support = cf.n}
  end
  rows[#rows + 1] = {class = "accuracy", f1 = S.accuracy(cf), support = cf.n}
  return T.new({"class", "precision", "recall", "f1", "support"}, rows)
end

-- the sorted distinct values of the truth
local function distinct(fname, t, tsrc)
  if type(fname) ~= "string" or #fname > 64 or not fname:find("^[%w_.]+$") then
    sargerr(1, "distinct", "fname must be a function name, got %s", shown(fname))
  end
  if not is_dataset(t) then sargerr(2, fname, "dataset expected, got %s", type(t)) end
  if tsrc ~= SRC_LABELS and tsrc ~= SRC_COL0 then
    sargerr(3, fname, "source must be %d (the labels) or %d (column 1), got %s", SRC_LABELS, SRC_COL0, shown(tsrc))
  end
  if tsrc == SRC_LABELS and not t:has_labels() then sargerr(2, fname, "a dataset without labels") end
  local fut = {}
  for i, o in ipairs(wb.core.parts(t)) do fut[i] = wb.core.submit("metrics.distinct", {o}, header(tsrc, 0)) end
  call(fname, wb.core.wait, fut)
  local seen, out = {}, {}
  for _, f in ipairs(fut) do
    local v = wb.core.unpack_doubles(wb.core.get(f))
    for i = 2, v[1] + 1 do if not seen[v[i]] then seen[v[i]] = true; out[#out + 1] = v[i] end end
  end
  table.sort(out)
  return out
end
S.distinct = distinct

local function classes_opt(opts, fname, t, tsrc)
  if opts.labels then
    if type(opts.labels) ~= "table" or #opts.labels < 2 then
      error(string.format("bad argument #3 to '%s' (labels must be a table of two or more classes)", fname), 0)
    end
    local c = {}
    for i, v in ipairs(opts.labels) do
      if type(v) ~= "number" or v ~= v then
        error(string.format("bad argument #3 to '%s' (labels[%d] must be a number, got %s)", fname, i, type(v)), 0)
      end
      c[i] = v
    end
    table.sort(c)
    return c
  end
  return distinct(fname, t, tsrc)
end

local function pack_classes(c) return wb.core.pack_doubles(c) end

function M.log_loss(truth, proba, opts)
  local fname = "log_loss"
  opts = opts_of(opts, 3, fname)
  local t, tsrc = truth_of(truth, 1, fname)
  local p = pred_of(proba, 2, fname, "probabilities")
  check_rows(t, p, fname, "rows of probabilities")
  local cls = classes_opt(opts, fname, t, tsrc)
  if #cls < 2 then
    error(string.format("%s: the truth has a single class (%s): give labels = {...}", fname, SH.num(cls[1])), 0)
  end
  if p:cols() ~= #cls and not (p:cols() == 1 and #cls == 2) then
    error(string.format("bad argument #2 to '%s' (%d columns of probabilities for %d classes)", fname, p:cols(), #cls), 0)
  end
  local eps = opts.eps or 2.220446049250313e-16
  if type(eps) ~= "number" or not (eps >= 0 and eps < 0.5) then
    error(string.format("bad argument #3 to '%s' (eps must be a number in [0, 0.5), got %s)", fname,
                        type(eps) == "number" and SH.num(eps) or type(eps)), 0)
  end
  local res = call(fname, run_pairs, "metrics.logloss", t, p, header(tsrc, SRC_COL0, #cls, 1, eps) .. pack_classes(cls))
  return S.merge_logloss(res)
end

-- ROC AUC: binary from one column of scores (the larger class is positive),
-- or one-vs-rest macro average from one column per class
function M.roc_auc(truth, score, opts)
  local fname = "roc_auc"
  opts = opts_of(opts, 3, fname)
  local t, tsrc = truth_of(truth, 1, fname)
  local p = pred_of(score, 2, fname, "scores")
  check_rows(t, p, fname, "scores")
  local cls = classes_opt(opts, fname, t, tsrc)
  if #cls < 2 then
    error(string.format("%s: only one class (%s) is present in the truth: ROC AUC is not defined", fname, SH.num(cls[1])), 0)
  end
  local res = call(fname, run_pairs, "metrics.auc_sort", t, p, header(tsrc, SRC_COL0, #cls) .. pack_classes(cls))
  local objs = {}
  for i, s in ipairs(res) do objs[i] = wb.core.put(s, t) end -- on the data's executor
  local merged = call(fname, function()
    local f = wb.core.submit("metrics.auc_merge", objs, "")
    return wb.core.get(f)
  end)
  local v = wb.core.unpack_doubles(merged)
  local s = 0
  for i = 2, v[1] + 1 do s = s + v[i] end
  return s / v[1]
end

-- regression: per-block sums (metrics.regress) added in a fixed tree, so
-- the value does not depend on the partitions; r2 takes a second pass for
-- the truth's squared deviations from its mean (as scikit-learn computes it)
local function regression_sums(fname, truth, pred, mean)
  local t, tsrc = truth_of(truth, 1, fname)
  local p = pred_of(pred, 2, fname, "predictions")
  check_rows(t, p, fname, "predictions")
  if p:cols() ~= 1 then
    error(string.format("bad argument #2 to '%s' (predictions expected: one column, got %d)", fname, p:cols()), 0)
  end
  if t:rows() == 0 then error(string.format("%s: the truth has no rows", fname), 0) end
  local rest = mean and wb.core.pack_doubles({mean}) or ""
  local res = call(fname, run_pairs, "metrics.regress", t, p, header(tsrc, SRC_COL0, 0, mean and 1 or 0) .. rest)
  local blocks = {}
  for _, v in ipairs(records(res, fname, 5, 1)) do
    for i = 0, v[1] - 1 do blocks[#blocks + 1] = {v[2 + 5 * i], v[3 + 5 * i], v[4 + 5 * i], v[5 + 5 * i], v[6 + 5 * i]} end
  end
  local s = S.tree_sum(blocks)
  return s[2], s[3], s[4], s[5] -- rows, then the sums
end

function M.mse(truth, pred)
  local n, sse = regression_sums("mse", truth, pred)
  return sse / n
end
function M.rmse(truth, pred)
  local n, sse = regression_sums("rmse", truth, pred)
  return math.sqrt(sse / n)
end
function M.mae(truth, pred)
  local n, _, sae = regression_sums("mae", truth, pred)
  return sae / n
end
-- 1 - SSE / SST; a constant truth gives 1 for a perfect prediction, else 0
-- (scikit-learn's r2_score with its default force_finite)
function M.r2(truth, pred)
  local n, sse, _, st = regression_sums("r2", truth, pred)
  local _, sst = regression_sums("r2", truth, pred, st / n)
  if sst == 0 then return sse == 0 and 1.0 or 0.0 end
  return 1 - sse / sst
end

-- a regression metric from metrics.regress results: the first `n1` of
-- `chunks` are the errors' pass, the rest the deviations' pass (r2)
function S.from_regression(name, chunks, n1)
  local m = type(name) == "string" and S.metrics[name]
  if not m or m.needs ~= "predictions" then sargerr(1, "from_regression", "a regression metric expected, got %s", shown(name)) end
  if type(chunks) ~= "table" then sargerr(2, "from_regression", "list of kernel results expected, got %s", type(chunks)) end
  if math.type(n1) ~= "integer" or n1 < 1 or n1 > #chunks then
    sargerr(3, "from_regression", "n1 must be an integer in 1..%d, got %s", #chunks, shown(n1))
  end
  local function sums(from, to)
    local blocks = {}
    for i, v in ipairs(records(table.move(chunks, from, to, 1, {}), "from_regression", 5, 1)) do
      for k = 0, v[1] - 1 do blocks[#blocks + 1] = {v[2 + 5 * k], v[3 + 5 * k], v[4 + 5 * k], v[5 + 5 * k], v[6 + 5 * k]} end
    end
    if #blocks == 0 then sargerr(2, "from_regression", "no blocks: the truth has no rows") end
    return S.tree_sum(blocks)
  end
  local s1 = sums(1, n1)
  local n, sse, sae = s1[2], s1[3], s1[4]
  local v
  if m.of == "r2" then
    local sst = n1 < #chunks and sums(n1 + 1, #chunks)[3] or 0
    if sst == 0 then v = sse == 0 and 1.0 or 0.0 else v = 1 - sse / sst end
  elseif m.of == "mse" then v = sse / n
  elseif m.of == "rmse" then v = math.sqrt(sse / n)
  else v = sae / n end
  return v -- (grid search turns the neg_ ones round)
end

-- grid search: regression metrics on predictions (higher is better: the
-- errors count negated, as scikit-learn's neg_* scorers)
S.metrics.r2 = {needs = "predictions", of = "r2"}
S.metrics.mse = {needs = "predictions", of = "mse", lower = true}
S.metrics.rmse = {needs = "predictions", of = "rmse", lower = true}
S.metrics.mae = {needs = "predictions", of = "mae", lower = true}
S.metrics.neg_mean_squared_error = {needs = "predictions", of = "mse", negate = true}
S.metrics.neg_root_mean_squared_error = {needs = "predictions", of = "rmse", negate = true}
S.metrics.neg_mean_absolute_error = {needs = "predictions", of = "mae", negate = true}

-- public functions raise errors at the caller's line, without our own positions
for _, name in ipairs{"accuracy", "balanced_accuracy", "precision", "recall", "f1", "confusion", "report", "log_loss", "roc_auc",
                      "mse", "rmse", "mae", "r2"} do
  local f = M[name]
  M[name] = function(...)
    local r = table.pack(pcall(f, ...))
    if not r[1] then error((tostring(r[2]):gsub("^[%w_%./%-]+:%d+: ", "")), 2) end
    return table.unpack(r, 2, r.n)
  end
end

local docs = require("wb.help").docs
docs["wb.metrics.accuracy"] = "wb.metrics.accuracy(truth, pred) -> share of rows where the prediction equals the truth (truth: a labelled dataset, a vector or a table)"
docs["wb.metrics.balanced_accuracy"] = "wb.metrics.balanced_accuracy(truth, pred) -> mean recall over the classes of the truth"
docs["wb.metrics.precision"] = "wb.metrics.precision(truth, pred, {average = \"binary\"|\"macro\"|\"weighted\"|\"micro\", pos_label = 1})"
docs["wb.metrics.recall"] = "wb.metrics.recall(truth, pred, {average = \"binary\"|\"macro\"|\"weighted\"|\"micro\", pos_label = 1})"
docs["wb.metrics.f1"] = "wb.metrics.f1(truth, pred, {average = \"binary\"|\"macro\"|\"weighted\"|\"micro\", pos_label = 1})"
docs["wb.metrics.confusion"] = "wb.metrics.confusion(truth, pred) -> table, rows the true class, columns the predicted one (.matrix, .classes)"
docs["wb.metrics.report"] = "wb.metrics.report(truth, pred) -> per-class precision, recall, f1 and support, with macro and weighted averages"
docs["wb.metrics.roc_auc"] = "wb.metrics.roc_auc(truth, score) -> area under the ROC curve; score: one column (the larger class is positive) or one per class (one-vs-rest, macro)"
docs["wb.metrics.mse"] = "wb.metrics.mse(truth, pred) -> mean squared error (regression; truth: a labelled dataset, a vector or a table)"
docs["wb.metrics.rmse"] = "wb.metrics.rmse(truth, pred) -> root mean squared error"
docs["wb.metrics.mae"] = "wb.metrics.mae(truth, pred) -> mean absolute error"
docs["wb.metrics.r2"] = "wb.metrics.r2(truth, pred) -> coefficient of determination 1 - SSE/SST (1 is perfect; scikit-learn's r2_score)"
docs["wb.metrics.log_loss"] = "wb.metrics.log_loss(truth, proba, {eps =, labels =}) -> mean -log p(true class); proba: one column per class (sorted) or one column for two classes"
