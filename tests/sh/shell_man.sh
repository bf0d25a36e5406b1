#!/bin/bash
# shell_man.sh — the man page share/wb.1: valid roff (groff reports no
# warning), and it documents the modes, the prompt, the subcommands with
# each of their options, the environment, files and exit statuses.
WB=${1:?usage: $0 path/to/wb}
SRC=${WB_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
PAGE=$SRC/share/wb.1
[ -f "$PAGE" ] || { echo "FAIL: no $PAGE"; exit 1; }
if ! command -v groff >/dev/null 2>&1; then
  echo "SKIP: groff is not installed (apt-get install groff-base): cannot check the man page"
  exit 77
fi
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

warnings=$(groff -man -Tutf8 -ww -z "$PAGE" 2>&1)
[ -z "$warnings" ] || fail "groff warnings: $warnings"
# plain text, long lines, no tabs
text=$(groff -man -Tascii -rLL=200n -P-cbu "$PAGE" 2>/dev/null | expand)
[ -n "$text" ] || fail "the page renders to nothing"

need() { printf '%s\n' "$text" | grep -q -e "$1" || fail "the page does not mention: $1"; }
for section in NAME SYNOPSIS DESCRIPTION MODES "THE PROMPT" OPTIONS SUBCOMMANDS ENVIRONMENT FILES "EXIT STATUS" EXAMPLES; do
  printf '%s\n' "$text" | grep -q -x "$section" || fail "no section $section"
done
need 'wb -e ARG'
need 'wb FILE'
need 'wb < file'
need 'wb> prompt'
need '\.\.\.>'
need 'Ctrl-C'
need 'help(name)'
need 'TAB completes'
# the subcommands and every option they take
need 'wb head \[--host ADDR\] \[--port N\] \[--dashboard-port N | --no-dashboard\] \[--token-file F\]'
need 'wb worker --address HOST:PORT \[--threads N\] \[--memory-limit SIZE\] \[--token-file F\]'
for opt in --host --port --dashboard-port --token-file --address --threads --memory-limit; do
  printf '%s\n' "$text" | grep -q -e "^ *$opt " || fail "option $opt is not described"
done
# every option the subcommands take (from their own --help) is described
for cmd in head worker; do
  opts=$("$WB" $cmd --help 2>/dev/null | grep -o -e '--[a-z][a-z-]*' | sort -u)
  [ -n "$opts" ] || { echo "note: wb $cmd --help lists no options"; continue; }
  for opt in $opts; do
    [ "$opt" = --help ] && continue
    printf '%s\n' "$text" | grep -q -e "^ *$opt\( \|$\)" || fail "wb $cmd $opt is not described in the page"
  done
done
need '127\.0\.0\.1'
need '7878'
need '7879'
need 'WB_PLUGIN_PATH'
need 'WB_HISTORY'
need '\.wb_history'
need '^ *130  *The script was interrupted'
# what wb --help lists is in the page too
"$WB" --help | sed -n 's/^.*\(wb -e ARG\).*$/\1/p' | grep -q . || fail "wb --help does not show -e"

if [ $fails -gt 0 ]; then
  echo "shell_man: $fails check(s) failed"
  exit 1
fi
echo "shell_man: all checks passed"
