-- preprocess.lua — the Lua side of the preprocess plugin: readable printing
-- of fitted impute, onehot, ordinal and scaler models (per column: what was
-- learned). Runs at load with the wb table.
local wb = ...
local S = require("wb.show")
local num = S.num

local json_list = S.json_list

local function rows_text(head, rows)
  local w = {}
  for _, r in ipairs({head, table.unpack(rows)}) do for j, s in ipairs(r) do w[j] = math.max(w[j] or 0, #s) end end
  local lines = {}
  for _, r in ipairs({head, table.unpack(rows)}) do
    local parts = {}
    for j = 1, #w do local s = r[j] or ""; parts[j] = s .. string.rep(" ", w[j] - #s) end
    lines[#lines + 1] = "  " .. table.concat(parts, "  "):gsub("%s+$", "")
  end
  return table.concat(lines, "\n")
end

local col_names = S.feature_namer

local function short(list, max)
  max = max or 8
  local out = {}
  for i = 1, math.min(#list, max) do out[i] = list[i] end
  if #list > max then out[#out + 1] = string.format("... (%d more)", #list - max) end
  return table.concat(out, ", ")
end

local function text(m)
  local e, p = m:estimator(), m:params()
  local name = col_names(m)
  local cols = m.columns
  if type(cols) ~= "table" then
    cols = {}
    local n = e == "scaler" and #m.mean or 0
    for j = 1, n do cols[j] = j end
  end
  local lines, rows = {}, {}
  if e == "scaler" then
    lines[1] = string.format("scaler model: %d columns (with_mean=%s, with_std=%s), %d rows", #cols,
      tostring(p.with_mean), tostring(p.with_std), m.n_samples)
    for k, j in ipairs(cols) do rows[k] = {name(j), num(m.mean[k]), num(m.scale[k])} end
    return lines[1] .. "\n" .. rows_text({"column", "mean", "scale"}, rows)
  elseif e == "impute" then
    local fills = json_list(m.fill_levels) or {}
    lines[1] = string.format("impute model: %d columns, strategy %s%s", #cols, p.strategy,
      p.add_indicator and ", with indicators" or "")
    for k, j in ipairs(cols) do
      local f = fills[k]
      rows[k] = {name(j), f and string.format("%q", f) or num(m.statistics[k]), num(m.missing[k])}
    end
    return lines[1] .. "\n" .. rows_text({"column", "fill", "missing"}, rows)
  elseif e == "onehot" or e == "ordinal" then
    local cats = json_list(m.categories) or {}
    local total = 0
    for k in ipairs(cols) do total = total + (e == "onehot" and m.widths[k] or 0) end
    lines[1] = e == "onehot"
      and string.format("onehot model: %d columns -> %d indicators (handle_unknown=%s%s)", #cols, total,
        p.handle_unknown, p.drop and (", drop=" .. p.drop) or "")
      or string.format("ordinal model: %d columns (handle_unknown=%s)", #cols, p.handle_unknown)
    for k, j in ipairs(cols) do
      local c = cats[k] or {}
      local shown = {}
      for i, s in ipairs(c) do shown[i] = s end
      if e == "onehot" and m.missing[k] == 1 then shown[#shown + 1] = "NA" end
      rows[k] = {name(j), tostring(#shown), short(shown)}
    end
    return lines[1] .. "\n" .. rows_text({"column", "categories", "levels"}, rows)
  end
end

local previous = S.model
local MODEL_MT = debug.getregistry()["wb.Model"]
S.model = function(m)
  if getmetatable(m) ~= MODEL_MT then return previous(m) end -- its checks name the argument
  local e = m:estimator()
  -- a scaler of every column prints as it always did
  if (e == "scaler" and m.columns) or e == "impute" or e == "onehot" or e == "ordinal" then
    local ok, s = pcall(text, m)
    if ok and s then return s end
  end
  return previous(m)
end
