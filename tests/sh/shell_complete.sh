#!/bin/bash
# shell_complete.sh — TAB at the wb> prompt in a real terminal: wb. names
# (nested: wb.datagen.<TAB> gives the data sources), methods of a dataset and
# of a model (only those its estimator has), model fields, globals and
# keywords, string methods, file names inside a string; inside strings by
# context (estimators, help topics, columns, metrics), parameter names.
. "$(dirname "$0")/shell_tmux.inc"


# type text, press TAB (once or twice), check the line being edited, clear it
complete_to() {
  type_text "$1"
  keys Tab
  local end=$((SECONDS + 5))
  while [ "$(current_line)" != "wb> $2" ]; do
    [ $SECONDS -ge $end ] && fail "TAB after '$1' gave '$(current_line)', wanted 'wb> $2'"
    sleep 0.05
  done
  interrupt_line
}

# text, TAB TAB: the list of candidates must show each of the words given
lists() {
  local text=$1
  shift
  type_text "$text"
  keys Tab Tab
  for w in "$@"; do wait_for "$w" 1 5; done
  interrupt_line
}

start_wb
complete_to 'wb.fi' 'wb.fit('
complete_to 'wb.plugin.lo' 'wb.plugin.load('
complete_to 'print(wb.vers' 'print(wb.version('
complete_to 'hel' 'help('
complete_to 'whil' 'while'
complete_to 'string.form' 'string.format('
run 's = "abc"'
complete_to 's:upp' 's:upper('

run 'wb.plugin.load(os.getenv("WB_TEST_PLUGIN_DIR") .. "/shell_demo.so")'
complete_to 'wb.datagen.sh' 'wb.datagen.shelldemo('
lists 'wb.datagen.' 'wb.datagen.shelldemo('
run 'd = wb.datagen.shelldemo{n = 10}'
complete_to 'd:desc' 'd:describe('
complete_to 'd:has' 'd:has_labels('
lists 'd:' 'd:describe(' 'd:head(' 'd:rows(' 'd:with_labels('
screen | grep -q 'd:rows_table(' && fail "d:<TAB> offers the internal rows_table"
run 'm = wb.fit("shelldemo_mean", d, {})'
complete_to 'm:sa' 'm:save('
lists 'm:' 'm:save(' 'm:params(' 'm:fields('
screen | grep -q 'm:predict(' && fail "m:<TAB> offers predict, which this estimator does not have"
complete_to 'm.me' 'm.means'
lists 'm.' 'm.means' 'm.note' 'm.rows'
lists 'wb.d' 'wb.datagen' 'wb.dataset('

# inside a string: file names
mkdir -p "$T/files"
: > "$T/files/data_file.csv"
type_text "x = wb.load(\"$T/files/data_f"
keys Tab
wait_for "data_file.csv\"" 1 5
interrupt_line

# inside strings, by context: estimator names, help topics, column names,
# metric names; parameter names in the parameters' table; a model's own
# methods only
complete_to 'm2 = wb.fit("shelldemo_me' 'm2 = wb.fit("shelldemo_mean"'
complete_to 'wb.fit("kmea' 'wb.fit("kmeans"'
complete_to "wb.gridsearch('lo" "wb.gridsearch('logreg'"
complete_to 'help("roc_a' 'help("roc_auc"'
lists 'help("sc' 'scaler' 'scatter'
run 'd:names({"island", "bill", "flipper"})'
complete_to 'wb.fit("shelldemo_mean", d, {columns = {"fl' 'wb.fit("shelldemo_mean", d, {columns = {"flipper"'
lists 'wb.fit("shelldemo_mean", d, {columns = {"' 'island' 'bill' 'flipper'
complete_to 'g = wb.gridsearch("kmeans", d, {k = {2}}, {metric = "silh' 'g = wb.gridsearch("kmeans", d, {k = {2}}, {metric = "silhouette"'
# (the pane shows no trailing space: "max_iter = " reads "max_iter =")
complete_to 'wb.fit("kmeans", d, {max_' 'wb.fit("kmeans", d, {max_iter ='
complete_to 'wb.datagen.shelldemo{featu' 'wb.datagen.shelldemo{features ='
run 'km = wb.fit("kmeans", wb.datagen.blobs{n = 50, seed = 1}, {k = 2})'
lists 'km:' 'km:predict(' 'km:transform('
screen | grep -q 'km:steps(' && fail "km:<TAB> offers a pipeline's steps"

# nothing to offer: the line stays as typed
type_text 'nosuchname.x'
wait_for 'wb> nosuchname.x' 1 5
keys Tab
sleep 0.3
[ "$(current_line)" = "wb> nosuchname.x" ] || fail "TAB on an unknown name changed the line: '$(current_line)'"
keys C-c

echo "shell_complete: all checks passed"
