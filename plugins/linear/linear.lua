-- linear.lua — the Lua side of the linear plugin: readable printing of
-- logreg and sgd models (classes, coefficients per feature, intercept,
-- iterations, convergence), with the column and class names the model
-- kept. Runs at load with the wb table.
local wb = ...
local S = require("wb.show")
local T = require("wb.table")
local num = S.num

local function as_rows(v, K)
  -- coef reads as a flat list when there is one row (or one column)
  if type(v[1]) == "table" then return v end
  if K == 1 then return {v} end
  local rows = {}
  for k = 1, #v do rows[k] = {v[k]} end
  return rows
end

local function linear_text(m)
  local e = m:estimator()
  local p = m:params()
  local classes = m.classes or {}
  local names = S.class_names(m)
  local cls = {}
  for i, c in ipairs(classes) do
    local n = names and names[(math.tointeger(c) or -1) + 1]
    cls[i] = type(n) == "string" and n or num(c)
  end
  local fname = S.feature_namer(m)
  local coef, icpt = m.coef, m.intercept
  local K = #icpt
  local rows = as_rows(coef, K)
  local d = #rows[1]
  local lines = {}
  local kind = #classes == 2 and "binary" or (e == "logreg" and "multinomial" or "one-vs-rest")
  lines[1] = string.format("%s model: %d classes (%s), %d features, %s", e, #classes, table.concat(cls, ", "), d, kind)
  if e == "logreg" then
    lines[2] = string.format("  C=%s, penalty=%s%s, solver %s, fit_intercept=%s", num(p.C), p.penalty,
      p.penalty == "elasticnet" and (", l1_ratio=" .. num(p.l1_ratio)) or "", tostring(m.solver), tostring(p.fit_intercept))
    lines[3] = string.format("  %s after %d iterations (largest gradient %s, tol %s); objective %s",
      m.converged == 1 and "converged" or "NOT converged", m.n_iter, num(m.grad_max), num(p.tol), num(m.objective))
  else
    lines[2] = string.format("  loss=%s, penalty=%s, alpha=%s, learning_rate=%s, shards=%d", p.loss, p.penalty,
      num(p.alpha), p.learning_rate, m.shards_used or p.shards)
    lines[3] = string.format("  %d epochs, %s", m.n_iter,
      m.converged == 1 and "stopped: no improvement > tol" or "ran the epochs it was given")
  end
  -- a table: one row per feature, one column per coefficient row
  local head = {"feature"}
  if K == 1 then head[2] = "coef" else for k = 1, K do head[k + 1] = (names and "" or "class ") .. cls[k] end end
  local cells = {head, {"intercept"}}
  local shown = d <= 30 and d or 20
  -- one number format per column (the intercept with the coefficients)
  for k = 1, K do
    local col = {icpt[k]}
    for j = 1, shown do col[j + 1] = rows[k][j] end
    local f = T.format_numbers(col, shown + 1)
    cells[2][k + 1] = f[1]
    for j = 1, shown do
      cells[j + 2] = cells[j + 2] or {fname(j)}
      cells[j + 2][k + 1] = f[j + 1]
    end
  end
  if shown < d then cells[#cells + 1] = {string.format("... (%d more)", d - shown)} end
  local w = {}
  for _, r in ipairs(cells) do for j, s in ipairs(r) do w[j] = math.max(w[j] or 0, #s) end end
  for i, r in ipairs(cells) do
    local parts = {}
    for j = 1, #w do
      local s = r[j] or ""
      parts[j] = j == 1 and (s .. string.rep(" ", w[j] - #s)) or (string.rep(" ", w[j] - #s) .. s)
    end
    lines[#lines + 1] = "  " .. table.concat(parts, "  "):gsub("%s+$", "")
  end
  return table.concat(lines, "\n")
end

local previous = S.model
local MODEL_MT = debug.getregistry()["wb.Model"]
S.model = function(m)
  if getmetatable(m) ~= MODEL_MT then return previous(m) end -- its checks name the argument
  local e = m:estimator()
  if (e == "logreg" or e == "sgd") and m.coef and m.intercept then
    local ok, s = pcall(linear_text, m)
    if ok then return s end
  end
  return previous(m)
end
