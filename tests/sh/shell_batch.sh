#!/bin/bash
# shell_batch.sh — wb without the prompt: `wb -e ARG` (a script file when one
# of that name exists, else Lua code), `wb FILE args...` with `arg`, `wb <
# file` and `wb -`; exit statuses; errors as `wb: message` plus a traceback on
# stderr; Ctrl-C (SIGINT) in a script; options.
WB=${1:?usage: $0 path/to/wb}
case "$WB" in /*) ;; *) WB=$PWD/$WB ;; esac
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# run wb with the given arguments: $out, $err, $rc
wb() {
  "$WB" "$@" > "$T/out" 2> "$T/err" < "${STDIN:-/dev/null}"
  rc=$?
  out=$(cat "$T/out")
  err=$(cat "$T/err")
}
check() { # what status stdout stderr (patterns for grep -x, "" = empty)
  local what=$1 want_rc=$2 want_out=$3 want_err=$4
  [ "$rc" = "$want_rc" ] || fail "$what: exit status $rc, wanted $want_rc (stderr: $err)"
  if [ -z "$want_out" ]; then [ -z "$out" ] || fail "$what: stdout '$out', wanted nothing"
  else printf '%s\n' "$out" | grep -q -x -- "$want_out" || fail "$what: stdout '$out', wanted a line '$want_out'"; fi
  if [ -z "$want_err" ]; then [ -z "$err" ] || fail "$what: stderr '$err', wanted nothing"
  else printf '%s\n' "$err" | grep -q -x -- "$want_err" || fail "$what: stderr '$err', wanted a line '$want_err'"; fi
}

# --- wb -e: Lua code
wb -e 'print(1 + 1)'
check "-e code" 0 "2" ""
wb -e 'print(arg[-1], arg[1], arg[2], select("#", ...), ...)' one two
check "-e code with arguments" 0 "-e	one	two	2	one	two" ""
wb -e 'x = ' 
check "-e syntax error" 1 "" "wb: (command line):1: unexpected symbol near <eof>"
wb -e 'error("boom")'
check "-e runtime error" 1 "" "wb: (command line):1: boom"
printf '%s\n' "$err" | grep -q -x 'stack traceback:' || fail "-e runtime error: no traceback in '$err'"
wb -e 'os.exit(3)'
check "-e os.exit(3)" 3 "" ""
wb -e 'io.stderr:write("to stderr\n"); io.write("to stdout\n")'
check "-e output streams" 0 "to stdout" "to stderr"

# --- wb -e: a script file, when it exists
cat > script.lua <<'EOF'
local n = select("#", ...)
print("script", arg[0], n, ...)
EOF
wb -e script.lua a b
check "-e file" 0 "script	script.lua	2	a	b" ""
wb -e missing.lua
check "-e missing file" 1 "" "wb: cannot open missing.lua: No such file or directory"
wb -e
check "-e without argument" 1 "" "wb: option -e needs an argument (a script file or Lua code)"

# --- wb FILE args
wb script.lua x y z
check "FILE args" 0 "script	script.lua	3	x	y	z" ""
wb ./missing.lua
check "missing FILE" 1 "" "wb: cannot open ./missing.lua: No such file or directory"
cat > err.lua <<'EOF'
local function inner(v)
  error("bad value " .. v)
end
local function outer() inner(42) end
outer()
EOF
wb err.lua
check "error in a script" 1 "" "wb: err.lua:2: bad value 42"
printf '%s\n' "$err" | sed -n 2p | grep -q -x 'stack traceback:' || fail "script error: no traceback after the message: '$err'"
printf '%s\n' "$err" | grep -q "err.lua:2: in .*inner" || fail "script error: the traceback lacks inner(): '$err'"
printf '%s\n' "$err" | grep -q "err.lua:4: in .*outer" || fail "script error: the traceback lacks outer(): '$err'"
printf '%s\n' "$err" | grep -q "err.lua:5: in main chunk" || fail "script error: the traceback lacks the main chunk: '$err'"
printf 'local x = = 1\n' > syntax.lua
wb syntax.lua
check "syntax error in a script" 1 "" "wb: syntax.lua:1: unexpected symbol near '='"
wb -e 'error({})'
check "error object not a string" 1 "" "wb: (error object is a table value)"
wb -e 'error(setmetatable({}, {__tostring = function() return "custom error" end}))'
check "error object with __tostring" 1 "" "wb: custom error"
printf '#!/usr/bin/env wb\nprint("shebang ok")\n' > shebang.lua
wb shebang.lua
check "script with #! line" 0 "shebang ok" ""

# --- standard input
printf 'print("from stdin", arg[0])\n' > in.lua
STDIN=in.lua wb
check "wb < file" 0 "from stdin	$WB" ""
STDIN=in.lua wb - p q
check "wb - args" 0 "from stdin	-" ""
printf 'print("line 1")\nerror("stdin boom")\n' > bad.lua
STDIN=bad.lua wb
check "error on stdin" 1 "line 1" "wb: stdin:2: stdin boom"
printf '%s\n' "$err" | grep -q -x 'stack traceback:' || fail "stdin error: no traceback: '$err'"

# --- datasets print the same way in a script (wb.show)
wb -e 'print(wb.show(wb.dataset({{1, 2.5}, {3, 4}}, {0, 1})))'
check "wb.show in a script" 0 " *1  *1  *2\.5  *0" ""
printf '%s\n' "$out" | grep -q -x ' *2  *3  *4\.0  *1' || fail "wb.show rows: '$out'"
printf '%s\n' "$out" | sed -n 1p | grep -q -x 'Dataset: 2 rows x 2 columns, labelled (1 partition)' || fail "wb.show shape line: '$out'"

# --- options
wb --version
check "--version" 0 "wb [0-9][0-9.]*" ""
wb --help
check "--help" 0 "usage: wb .*the wb> prompt.*" ""
wb --bogus
check "unknown option" 1 "" "wb: unknown option '--bogus'"

# --- Ctrl-C (SIGINT) stops a script: wb: interrupted!, status 130
"$WB" -e 'io.write("started\n"); io.flush(); while true do end' > "$T/out" 2> "$T/err" &
pid=$!
for _ in $(seq 100); do grep -q started "$T/out" && break; sleep 0.05; done
kill -INT $pid
wait $pid
rc=$?
err=$(cat "$T/err")
[ "$rc" = 130 ] || fail "SIGINT: exit status $rc, wanted 130"
printf '%s\n' "$err" | grep -q -x 'wb: interrupted!' || fail "SIGINT: stderr '$err'"

if [ $fails -gt 0 ]; then
  echo "shell_batch: $fails check(s) failed"
  exit 1
fi
echo "shell_batch: all checks passed"
