/* gbdt — gradient-boosted decision trees on histograms: binary (logistic)
 * and multiclass (softmax) classification, squared-error regression.
 *
 * Data-parallel the way LightGBM's distributed mode is: features are binned
 * once into uint8 bins (edges from a mergeable quantile sketch), every
 * partition keeps its rows, scores and gradients where it lives, builds
 * histograms for the nodes being split and the driver sums them and picks the
 * splits. Gradients are fixed-point integers so the sums are exact: the same
 * model whatever the number of threads, partitions or workers. See fit.c. */
#include <math.h>

#include "gbdt.h"
#include "wb/plugin_cols.h"

static const wb_param_spec params[] = {
    {.name = "objective", .types = WB_P_STR, .def = "auto", .choices = "auto|binary|multiclass|regression",
     .doc = "auto: binary (logistic) for 2 classes, multiclass (softmax) for more; regression: squared error"},
    {.name = "n_trees", .types = WB_P_INT, .def = "100", .min = 1, .max = 1e6,
     .doc = "boosting rounds (one tree per class and round)"},
    {.name = "learning_rate", .types = WB_P_NUM, .def = "0.1", .min = 0, .max = INFINITY, .flags = WB_P_MIN_EXCL,
     .doc = "shrinkage applied to every leaf value"},
    {.name = "max_leaves", .types = WB_P_INT, .def = "31", .min = 2, .max = 65536,
     .doc = "leaves per tree; trees grow best-first (the leaf with the best gain splits next)"},
    {.name = "max_depth", .types = WB_P_INT, .def = "0", .min = 0, .max = 64,
     .doc = "maximum depth of a leaf (the root has depth 0); 0: no limit"},
    {.name = "min_child_weight", .types = WB_P_NUM, .def = "0.001", .min = 0, .max = INFINITY,
     .doc = "minimum sum of hessians in a leaf"},
    {.name = "min_samples_leaf", .types = WB_P_INT, .def = "20", .min = 1, .max = INFINITY,
     .doc = "minimum number of training rows in a leaf"},
    {.name = "lambda_l2", .types = WB_P_NUM, .def = "0", .min = 0, .max = INFINITY,
     .doc = "L2 regularisation of the leaf values (leaf = -G/(H + lambda_l2))"},
    {.name = "min_split_gain", .types = WB_P_NUM, .def = "0", .min = 0, .max = INFINITY,
     .doc = "a split must reduce the loss by more than this"},
    {.name = "max_bins", .types = WB_P_INT, .def = "255", .min = 2, .max = 255,
     .doc = "histogram bins per feature (one more holds missing values)"},
    {.name = "subsample", .types = WB_P_NUM, .def = "1", .min = 0, .max = 1, .flags = WB_P_MIN_EXCL,
     .doc = "fraction of the training rows drawn (without replacement) for each round"},
    {.name = "colsample", .types = WB_P_NUM, .def = "1", .min = 0, .max = 1, .flags = WB_P_MIN_EXCL,
     .doc = "fraction of the features drawn for each round"},
    {.name = "early_stopping_rounds", .types = WB_P_INT, .def = "0", .min = 0, .max = INFINITY,
     .doc = "stop when the loss on the held-out validation rows has not improved for this many rounds and keep the best round; 0: off (all rows train)"},
    {.name = "validation_fraction", .types = WB_P_NUM, .def = "0.1", .min = 0, .max = 1, .flags = WB_P_MIN_EXCL | WB_P_MAX_EXCL,
     .doc = "with early stopping: the fraction of rows held out (drawn per row from the seed) to measure the loss"},
    {.name = "seed", .types = WB_P_INT, .def = "0", .min = 0, .max = INFINITY,
     .doc = "random seed for subsample, colsample, the validation rows and the bin sample"},
};

static const wb_estimator_def def = {
    .version = WB_ESTIMATOR_V1,
    .name = "gbdt",
    .doc = "gradient-boosted trees on histograms (binary, multiclass, regression); data-parallel, bit-identical on any layout",
    .kind = WB_EST_CLASSIFIER,
    .needs_labels = 1,
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .check = gb_check,
    .fit = gb_fit,
    .predict = gb_predict,
    .predict_proba = gb_predict_proba,
    .score = gb_score,
};

/* Lua front-ends: feature importance as a table */
static const char lua_src[] =
    "local wb = ...\n"
    "wb.gbdt = wb.gbdt or {}\n"
    "-- wb.gbdt.importance(model[, {type = 'gain'|'split'}]) -> table of features, best first\n"
    "function wb.gbdt.importance(m, opts)\n"
    "  if type(m) ~= 'userdata' or getmetatable(m) == nil or getmetatable(m).__name ~= 'Model' or m:estimator() ~= 'gbdt' then\n"
    "    error(\"bad argument #1 to 'importance' (gbdt model expected)\", 2)\n"
    "  end\n"
    "  opts = opts or {}\n"
    "  if type(opts) ~= 'table' then error(\"bad argument #2 to 'importance' (table of options expected)\", 2) end\n"
    "  local by = opts.type or 'gain'\n"
    "  if by ~= 'gain' and by ~= 'split' then\n"
    "    error(\"bad argument #2 to 'importance' (type must be 'gain' or 'split', got \" .. tostring(by) .. \")\", 2)\n"
    "  end\n"
    "  local g, s = m.feature_importance_gain, m.feature_importance_split\n"
    "  local tg = 0\n"
    "  for j = 1, #g do tg = tg + g[j] end\n"
    "  local rows = {}\n"
    "  local named = m.feature_names ~= nil\n"
    "  local name = require('wb.show').feature_namer(m)\n"
    "  for j = 1, #g do rows[j] = {feature = j, name = named and name(j) or nil, gain = g[j], share = tg > 0 and g[j] / tg or 0, splits = s[j]} end\n"
    "  local key = by == 'gain' and 'gain' or 'splits'\n"
    "  table.sort(rows, function(a, b) if a[key] ~= b[key] then return a[key] > b[key] end return a.feature < b.feature end)\n"
    "  -- the column names when the model kept them\n"
    "  if named then return wb.table.new({'feature', 'name', 'gain', 'share', 'splits'}, rows) end\n"
    "  return wb.table.new({'feature', 'gain', 'share', 'splits'}, rows)\n"
    "end\n"
    "local ok, help = pcall(require, 'wb.help')\n"
    "if ok and type(help) == 'table' and help.docs then\n"
    "  help.docs['wb.gbdt.importance'] = \"wb.gbdt.importance(model, {type = 'gain'|'split'}) -> table of features \" ..\n"
    "    \"(1-based), total split gain, its share, split count; best first (help('gbdt') lists the estimator's parameters)\"\n"
    "end\n";

WB_PLUGIN("gbdt", "1.0")
{
    H = host;
    const char *lacks = wbc_host_lacks(host); /* category columns, names */
    if (lacks) return host->seterr(WB_EABI, WBC_HOST_TOO_OLD, "gbdt", lacks);
    int rc = gb_register_kernels();
    if (!rc) rc = gb_register_predict_kernels();
    if (!rc) rc = host->register_estimator(&def);
    if (!rc) rc = host->register_lua("gbdt", lua_src);
    return rc;
}
