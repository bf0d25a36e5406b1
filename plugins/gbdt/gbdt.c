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

const wb_host *gb_H;

static const wb_param_spec params[] = {
    {"objective", WB_P_STR, "auto", 0, 0, 0, "auto|binary|multiclass|regression",
     "auto: binary (logistic) for 2 classes, multiclass (softmax) for more; regression: squared error"},
    {"n_trees", WB_P_INT, "100", 1, 1e6, 0, NULL, "boosting rounds (one tree per class and round)"},
    {"learning_rate", WB_P_NUM, "0.1", 0, INFINITY, WB_P_MIN_EXCL, NULL, "shrinkage applied to every leaf value"},
    {"max_leaves", WB_P_INT, "31", 2, 65536, 0, NULL, "leaves per tree; trees grow best-first (the leaf with the best gain splits next)"},
    {"max_depth", WB_P_INT, "0", 0, 64, 0, NULL, "maximum depth of a leaf (the root has depth 0); 0: no limit"},
    {"min_child_weight", WB_P_NUM, "0.001", 0, INFINITY, 0, NULL, "minimum sum of hessians in a leaf"},
    {"min_samples_leaf", WB_P_INT, "20", 1, INFINITY, 0, NULL, "minimum number of training rows in a leaf"},
    {"lambda_l2", WB_P_NUM, "0", 0, INFINITY, 0, NULL, "L2 regularisation of the leaf values (leaf = -G/(H + lambda_l2))"},
    {"min_split_gain", WB_P_NUM, "0", 0, INFINITY, 0, NULL, "a split must reduce the loss by more than this"},
    {"max_bins", WB_P_INT, "255", 2, 255, 0, NULL, "histogram bins per feature (one more holds missing values)"},
    {"subsample", WB_P_NUM, "1", 0, 1, WB_P_MIN_EXCL, NULL, "fraction of the training rows drawn (without replacement) for each round"},
    {"colsample", WB_P_NUM, "1", 0, 1, WB_P_MIN_EXCL, NULL, "fraction of the features drawn for each round"},
    {"early_stopping_rounds", WB_P_INT, "0", 0, INFINITY, 0, NULL,
     "stop when the loss on the held-out validation rows has not improved for this many rounds and keep the best round; 0: off (all rows train)"},
    {"validation_fraction", WB_P_NUM, "0.1", 0, 1, WB_P_MIN_EXCL | WB_P_MAX_EXCL, NULL,
     "with early stopping: the fraction of rows held out (drawn per row from the seed) to measure the loss"},
    {"seed", WB_P_INT, "0", 0, INFINITY, 0, NULL, "random seed for subsample, colsample, the validation rows and the bin sample"},
};

static const wb_estimator_def def = {
    WB_ESTIMATOR_V1,
    "gbdt",
    "gradient-boosted trees on histograms (binary, multiclass, regression); data-parallel, bit-identical on any layout",
    WB_EST_CLASSIFIER,
    1,
    params,
    sizeof params / sizeof params[0],
    gb_check,
    gb_fit,
    gb_predict,
    gb_predict_proba,
    NULL,
    NULL,
    gb_score,
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
    gb_H = host;
    int rc = gb_register_kernels();
    if (!rc) rc = gb_register_predict_kernels();
    if (!rc) rc = host->register_estimator(&def);
    if (!rc) rc = host->register_lua("gbdt", lua_src);
    return rc;
}
