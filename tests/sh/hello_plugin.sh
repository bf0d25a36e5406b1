#!/bin/bash
# hello_plugin.sh WB — install wb into a fresh prefix, check what the install
# holds (binary, plugins, public headers, wb.pc, man page), build the
# out-of-tree example plugin examples/plugins/hello against the installed
# header through pkg-config, and use it from the installed wb.
set -euo pipefail
WB=$1
build=${WB_BUILD_DIR:-$(dirname "$WB")}
src=${WB_SOURCE_DIR:?WB_SOURCE_DIR must be set}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "hello_plugin: $*" >&2; exit 1; }

prefix=$tmp/prefix
cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log"; fail "cmake --install failed"; }

# what the install holds
[ -x "$prefix/bin/wb" ] || fail "no bin/wb"
[ -f "$prefix/include/wb/plugin.h" ] || fail "no include/wb/plugin.h"
[ -f "$prefix/include/wb/plugin_rng.h" ] || fail "no include/wb/plugin_rng.h (plugin.h includes it)"
pc=$(find "$prefix" -name wb.pc -path '*/pkgconfig/*' | head -n1)
[ -n "$pc" ] || fail "no pkgconfig/wb.pc"
[ -f "$prefix/share/man/man1/wb.1" ] || fail "no share/man/man1/wb.1"
plugdir=$(find "$prefix" -type d -path '*/wb/plugins' | head -n1)
[ -n "$plugdir" ] || fail "no lib/wb/plugins folder"
nplug=$(find "$plugdir" -name '*.so' | wc -l)
nbuilt=$(find "$build/plugins" -maxdepth 1 -name '*.so' 2>/dev/null | wc -l)
[ "$nplug" -eq "$nbuilt" ] || fail "$nplug plugins installed, $nbuilt built"
# no test plugin slipped into the install
if find "$prefix" -name 'abi2.so' -o -name 'good.so' | grep -q .; then fail "test plugins installed"; fi

# pkg-config points into this prefix, wherever it is
export PKG_CONFIG_PATH=$(dirname "$pc")
cflags=$(pkg-config --cflags wb)
inc=${cflags#-I}
inc=${inc%% *}
[ "$(cd "$inc" && pwd -P)" = "$(cd "$prefix/include" && pwd -P)" ] || fail "pkg-config --cflags wb gives '$cflags', not the install's include folder"
[ "$(pkg-config --modversion wb)" = "$("$prefix/bin/wb" -e 'io.write(wb.version())')" ] || fail "wb.pc version differs from wb.version()"

# the plugin, built out of tree: a copy of the example folder, a plain make
cp -r "$src/examples/plugins/hello" "$tmp/hello"
rm -f "$tmp/hello/hello.so"
make -C "$tmp/hello" CFLAGS="-O2 -Wall -Wextra -Werror" >"$tmp/make.log" 2>&1 || { cat "$tmp/make.log"; fail "make failed"; }
grep -q -- "-I$inc" "$tmp/make.log" || fail "the build did not use pkg-config's include folder"
grep -q -- "$src/core/include" "$tmp/make.log" && fail "the build reached into the source tree"
[ -f "$tmp/hello/hello.so" ] || fail "no hello.so"
# it does not link against the core: no wb_ symbols needed from outside
if nm -D --undefined-only "$tmp/hello/hello.so" | grep -q ' wb_'; then fail "hello.so needs wb_ symbols"; fi

cat >"$tmp/use.lua" <<'LUA'
local so = arg[1]
local prefix = arg[2]
assert(wb.plugin.load(so) == "hello", "load returns the plugin's name")
local found
for _, p in ipairs(wb.plugin.list()) do
  if p.name == "hello" then found = p end
end
assert(found and found.path == so and found.version == "1.0", "wb.plugin.list() shows hello")
-- the installed wb found the installed plugins beside it
local datagen
for _, p in ipairs(wb.plugin.list()) do
  if p.name == "datagen" then datagen = p end
end
assert(datagen, "the installed datagen plugin is loaded")
assert(datagen.path:sub(1, #prefix) == prefix, "datagen comes from the install: " .. datagen.path)

-- the Lua chunk ran
assert(wb.hello.greet("wb") == "hello, wb")
local ok, err = pcall(wb.hello.greet, 3)
assert(not ok and err:find("bad argument #1 to 'greet' (string expected, got number)", 1, true), err)

-- its kernels through the executor
local d = wb.dataset({{3, 4}, {6, 8}, {0, 0}, {1, 0}}, {0, 1, 0, 1})
local nrm = wb.hello.norms(d)
assert(nrm:rows() == 4 and nrm:cols() == 1)
local want = {5, 10, 0, 1}
for i = 1, 4 do assert(nrm:row(i)[1] == want[i], "norm of row " .. i) end
local sums, n = wb.hello.total(d)
assert(n == 4 and sums[1] == 10 and sums[2] == 12)

-- its estimator through wb.fit, with its schema checked first
local m = wb.fit("hello.centroid", d, {shift = 1})
assert(m:estimator() == "hello.centroid")
assert(m.n == 4)
assert(m.centroid[1] == 10 / 4 + 1 and m.centroid[2] == 12 / 4 + 1)
local t = m:transform(d)
assert(t:row(1)[1] == 3 - 3.5 and t:row(1)[2] == 4 - 4)
ok, err = pcall(wb.fit, "hello.centroid", d, {shift = "x"})
assert(not ok and err:find("hello.centroid: parameter 'shift' must be a number, got string \"x\"", 1, true), err)
ok, err = pcall(wb.fit, "hello.centroid", d, {shfit = 1})
assert(not ok and err:find("hello.centroid: unknown parameter 'shfit' (did you mean 'shift'? parameters: shift)", 1, true), err)
-- the same answer with one thread and with two (a fixed summation order)
wb.threads(1)
local big = wb.datagen.blobs{n = 50000, features = 3, centers = 3, seed = 5}
local a = wb.fit("hello.centroid", big).centroid
wb.threads(2)
local b = wb.fit("hello.centroid", big).centroid
for j = 1, 3 do assert(a[j] == b[j], "centroid differs between 1 and 2 threads") end
-- a second load is refused, naming the file
ok, err = pcall(wb.plugin.load, so)
assert(not ok and err:find("plugin " .. so .. ": a plugin named 'hello' is already loaded", 1, true), err)
print("hello plugin: ok")
LUA
out=$(cd "$tmp" && env -u WB_PLUGIN_PATH "$prefix/bin/wb" "$tmp/use.lua" "$tmp/hello/hello.so" "$prefix" 2>&1) || { echo "$out"; fail "the installed wb could not use the plugin"; }
[ "$out" = "hello plugin: ok" ] || { echo "$out"; fail "unexpected output"; }

# a plugin built for another ABI is refused by the installed wb with the file named
out=$("$prefix/bin/wb" -e "wb.plugin.load('$WB_TEST_PLUGIN_DIR/abi2.so')" 2>&1) && fail "abi2.so was accepted"
echo "$out" | grep -qF "wb: plugin $WB_TEST_PLUGIN_DIR/abi2.so: plugin ABI 2, host 1" || { echo "$out"; fail "wrong message for abi2.so"; }
echo "hello_plugin: ok"
