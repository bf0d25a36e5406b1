-- wb.help: what each function does, and help(name) for functions, estimators
-- and data sources (their parameter schema comes from the plugin).
local wb = ...
local M = {}

M.docs = {
  ["wb.threads"] = "wb.threads(n) -- set the local executor to n threads (one per core by default); wb.threads() returns the count",
  ["wb.executor"] = "wb.executor() -- where work runs: {kind = \"local\"|\"cluster\", workers, threads, address}",
  ["wb.fit"] = "wb.fit(name, data, params) -> model -- fit a registered estimator; parameters are checked against its schema first",
  ["wb.estimators"] = "wb.estimators() -> names of the registered estimators (help(\"logreg\") shows one's parameters)",
  ["wb.load"] = "wb.load(path, {format=, header=, label=, features=, mmap=, zero_based=, delimiter=}) -> dataset; the format from the extension (.libsvm .svm .csv .npy) or format=\"libsvm\"|\"csv\"|\"npy\"\n" ..
    "  LIBSVM: lines `label index:value ...`, indices from 1 (zero_based=true: from 0), missing features are 0; columns from features=, else the .meta beside the file, else the largest index\n" ..
    "  CSV: a header line is detected unless header=true|false; labels: label=\"first\"|\"last\"|column name|false, by default a header column named label, y, target or class (any case), else none; delimiter=\",\"; empty fields are NaN\n" ..
    "  NPY: float64 (memory-mapped unless mmap=false) or float32, C order, little-endian; labels from NAME.labels.npy when it exists",
  ["wb.save"] = "wb.save(dataset, path, {format=, header=true, meta=true}) -- write LIBSVM (zeros left out), CSV (a header x1..xd or the column names, the labels last as \"label\") or NPY (float64; labels in NAME.labels.npy)\n" ..
    "  numbers are written in the shortest form that reads back bit-identically; the file is written under a temporary name and renamed at the end, so a failed save leaves nothing\n" ..
    "  PATH.meta, written last, is a JSON object {\"num_samples\", \"num_features\", \"num_classes\" (distinct integer labels, 0 if none), \"dataset_size\" (bytes of the data files)}",
  ["wb.load_model"] = "wb.load_model(path) -> model saved with m:save(path)",
  ["wb.dataset"] = "wb.dataset(rows, labels) -> dataset from a Lua table of rows (and a table of labels)",
  ["wb.vector"] = "wb.vector({...}) -> a vector (one-column dataset)",
  ["wb.version"] = "wb.version() -> the version string",
  ["wb.now"] = "wb.now() -> monotonic wall-clock seconds, for timing",
  ["wb.plugin.load"] = "wb.plugin.load(path) -- load a plugin shared object (refused with the file and the reason when it does not fit)",
  ["wb.plugin.list"] = "wb.plugin.list() -> {{name, version, path}, ...}",
  ["wb.export"] = "wb.export(table_or_result, path) -- write a result table as .csv or .json",
  ["wb.show"] = "wb.show(value) -> readable text of a dataset, vector, model or table",
  ["wb.datagen"] = "wb.datagen.<source>{...} -> dataset; sources: see wb.core.sources(); add file=\"x.libsvm\" to write straight to a file",
  ["dataset:rows"] = "d:rows() -> number of rows",
  ["dataset:cols"] = "d:cols() -> number of columns",
  ["dataset:partitions"] = "d:partitions() -> number of partitions",
  ["dataset:has_labels"] = "d:has_labels() -> true when the rows carry labels",
  ["dataset:head"] = "d:head(n) -- print the first n rows (default 5) and return them as a dataset",
  ["dataset:row"] = "d:row(i) -> row i as a Lua array (and its label)",
  ["dataset:slice"] = "d:slice(i, j) -> rows i..j as a new dataset",
  ["dataset:describe"] = "d:describe() -> per-column count, mean, std, min, max (a map/reduce over the partitions)",
  ["dataset:labels"] = "d:labels() -> the labels as a vector",
  ["dataset:with_labels"] = "d:with_labels(v) -> a copy whose labels are the vector v",
  ["dataset:names"] = "d:names() -> column names; d:names({...}) sets them",
  ["model:predict"] = "m:predict(data) -> vector of predictions, partitioned like the data",
  ["model:predict_proba"] = "m:predict_proba(data) -> dataset of class probabilities",
  ["model:transform"] = "m:transform(data) -> transformed dataset",
  ["model:score"] = "m:score(data) -> accuracy for classifiers, the estimator's own score otherwise",
  ["model:save"] = "m:save(path) -- save the model (wb.load_model reads it back bit-identically)",
}

local function print_schema(info, kind)
  print(string.format("%s -- %s%s", info.name, info.doc, kind and (" (" .. kind .. ")") or ""))
  if info.methods and #info.methods > 0 then print("methods: " .. table.concat(info.methods, ", ")) end
  local w1, w2 = 4, 7
  for _, p in ipairs(info.params) do
    w1 = math.max(w1, #p.name)
    w2 = math.max(w2, #(p.default or "-"))
  end
  print(string.format("  %-" .. w1 .. "s  %-" .. w2 .. "s  %s", "name", "default", "allowed / meaning"))
  for _, p in ipairs(info.params) do
    print(string.format("  %-" .. w1 .. "s  %-" .. w2 .. "s  %s", p.name, p.default or "-", p.allowed))
    if p.doc and #p.doc > 0 then print(string.format("  %-" .. w1 .. "s  %-" .. w2 .. "s    %s", "", "", p.doc)) end
  end
end

function M.help(name)
  if name == nil then
    print("wb " .. wb.version() .. " -- an analysis workbench. help(name) for one of:")
    local names = {}
    for k in pairs(M.docs) do names[#names + 1] = k end
    table.sort(names)
    print("  functions: " .. table.concat(names, ", "))
    print("  estimators: " .. table.concat(wb.estimators(), ", "))
    print("  data sources: " .. table.concat(wb.core.sources(), ", "))
    return
  end
  if type(name) == "function" then
    for k, v in pairs(M.docs) do
      local f = M.lookup(k)
      if f == name then print(v) return end
    end
    print("no help for this function") return
  end
  name = tostring(name)
  local info = wb.core.estimator_info(name)
  if info then print_schema(info, info.kind) return end
  local src = name:match("^datagen%.(.+)$") or name:match("^wb%.datagen%.(.+)$") or name
  info = wb.core.source_info(src)
  if info then print_schema(info, "data source: wb.datagen." .. info.name .. "{...}") return end
  local key = name:match("^wb%.") and name or ("wb." .. name)
  local doc = M.docs[key] or M.docs[name] or M.docs["dataset:" .. name] or M.docs["model:" .. name]
  if doc then print(doc) return end
  print("no help for '" .. name .. "' (help() lists what there is)")
end

function M.lookup(path)
  local obj = _G
  for part in path:gmatch("[^%.:]+") do
    if type(obj) ~= "table" then return nil end
    obj = obj[part]
  end
  return obj
end

return M
