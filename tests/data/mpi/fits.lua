-- fits.lua — the four workloads, printed as hexadecimal floats (%a) and the
-- bytes of a saved model: run on the local executor and under mpirun, the
-- outputs must be equal byte for byte (tests/sh/mpi_*.sh).
local n = tonumber(arg and arg[1]) or 120000
local function dump(v, out)
  if type(v) == "table" then for i = 1, #v do dump(v[i], out) end
  elseif type(v) == "number" then out[#out + 1] = string.format("%a", v)
  else out[#out + 1] = tostring(v) end
  return out
end
local function show(name, t) print(name .. " " .. table.concat(dump(t, {}), " ")) end
local function has(name)
  for _, e in ipairs(wb.estimators()) do if e == name then return true end end
  return false
end
local r = wb.datagen.swiss_roll{n = n, noise = 0.2, seed = 1}
if has("kmeans") then
  local km = wb.fit("kmeans", r, {k = 8, init = "k-means++", max_iter = 30, seed = 0})
  local lab = wb.core.labels(km:predict(r))
  show("kmeans", {km.centers, km.inertia, km.iterations, lab[1], lab[n // 2], lab[n]})
end
if has("pca") then
  local p = wb.fit("pca", r, {components = 2})
  show("pca", {p.components, p.explained_variance, p.explained_variance_ratio, p:transform(r):row(n // 3)})
end
local d = wb.datagen.classification{n = n, features = 10, informative = 5, redundant = 5, seed = 1}
if has("logreg") then
  local lr = wb.fit("logreg", d, {C = 1.0})
  show("logreg", {lr.coef, lr.intercept, lr:score(d)})
end
if has("gbdt") then
  local g = wb.fit("gbdt", d, {n_trees = 10, max_leaves = 15, seed = 1})
  local f = os.tmpname()
  g:save(f)
  local fh = assert(io.open(f, "rb"))
  local bytes = fh:read("a")
  fh:close()
  os.remove(f)
  local h = 0
  for i = 1, #bytes do h = (h * 31 + bytes:byte(i)) % 4294967291 end
  show("gbdt", {#bytes, h, g:score(d)})
end
show("describe", {d:describe()[3].mean, d:describe()[3].std})
