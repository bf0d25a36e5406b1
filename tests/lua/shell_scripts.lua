-- shell_scripts.lua — what a script's user sees (wb run as a program, its
-- standard error read back): wb's own errors as `wb: <message>` alone, with
-- the script's line in front and no position inside wb, "did you mean" for
-- an estimator, a parameter, a wb function and a method; the user's own
-- errors with their traceback; wb --traceback and wb.debug(true) always with
-- it; print(d) prints the table the prompt shows; exit(n) and quit() end the
-- script with that status; examples/bench.lua takes its arguments.
package.path = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/lib/?.lua;" .. package.path
local TL = require("testlib")
local check, eq = TL.check, TL.eq
local build = assert(os.getenv("WB_BUILD_DIR"), "WB_BUILD_DIR")
local src = assert(os.getenv("WB_SOURCE_DIR"), "WB_SOURCE_DIR")
local WB = build .. "/wb"
local function q(s) return "'" .. s:gsub("'", "'\\''") .. "'" end
local dir = os.tmpname()
os.remove(dir)
assert(os.execute("mkdir -p " .. q(dir)))
TL.on_failure(function() os.execute("rm -rf " .. q(dir)) end)

-- run a script (the text given) with wb [options]; returns rc, stdout, stderr
local function run(script, options)
  local path = dir .. "/s.lua"
  local f = assert(io.open(path, "w"))
  f:write(script)
  f:close()
  local h = io.popen("cd " .. q(dir) .. " && WB_HISTORY= " .. q(WB) .. " " .. (options or "") .. " s.lua 2>" .. q(dir .. "/err") ..
                     "; echo \"rc=$?\"")
  local out = h:read("a")
  h:close()
  local e = io.open(dir .. "/err"):read("a")
  local rc = tonumber(out:match("rc=(%d+)%s*$"))
  return rc, out:gsub("rc=%d+%s*$", ""), e
end

local DATA = "wb.quiet(true)\nlocal d = wb.datagen.blobs{n = 100, features = 2, centers = 2, seed = 1}\n"

-- wb's own errors: the message alone, the script's line in front
local rc, _, err = run(DATA .. 'wb.fit("kmean", d, {})\n')
eq(rc, 1, "exit status of an error")
eq(err, "wb: s.lua:3: bad argument #1 to 'fit' (no estimator named 'kmean' (did you mean 'kmeans'? estimators: " ..
        table.concat(wb.estimators(), ", ") .. "))\n", "an unknown estimator")
rc, _, err = run(DATA .. 'wb.fit("kmeans", d, {clustrs = 2})\n')
check(err:find("^wb: s%.lua:3: kmeans: unknown parameter 'clustrs' %(parameters: ") and not err:find("traceback"),
      "an unknown parameter: " .. err)
rc, _, err = run(DATA .. 'wb.fit("kmeans", d, {k = -3})\n')
eq(err, "wb: s.lua:3: kmeans: parameter 'k' must be an integer >= 1, got -3\n", "a bad parameter value")
rc, _, err = run(DATA .. 'wb.fit("gbdt", d, {trees = 3})\n')
check(err:find("gbdt: unknown parameter 'trees' (did you mean 'n_trees'? parameters:", 1, true), "a parameter's did you mean: " .. err)
rc, _, err = run('local x = wb.load("/nonexistent/data.csv")\n')
eq(err, "wb: s.lua:1: /nonexistent/data.csv: cannot open (No such file or directory)\n", "a missing file")
-- no position inside wb's Lua code (wb.split is written in Lua)
rc, _, err = run(DATA .. 'local a, b = wb.split(d, {test = 7.5})\n')
check(err:find("^wb: s%.lua:3: bad argument #2 to 'split'") and not err:find("select:") and not err:find("traceback"),
      "an error raised in wb's Lua code: " .. err)
-- a call of a name wb does not have
rc, _, err = run(DATA .. 'wb.fitt("kmeans", d)\n')
eq(err, "wb: s.lua:3: wb.fitt does not exist (did you mean wb.fit?)\n", "wb.fitt")
rc, _, err = run(DATA .. 'd:describ()\n')
eq(err, "wb: s.lua:3: a dataset has no method 'describ' (did you mean d:describe?)\n", "d:describ()")
rc, _, err = run(DATA .. 'wb.metrics.rmsee(d, {1})\n')
eq(err, "wb: s.lua:3: wb.metrics.rmsee does not exist (did you mean wb.metrics.rmse?)\n", "wb.metrics.rmsee")
-- the user's own errors keep their traceback
rc, _, err = run('local function f() error("boom") end\nf()\n')
eq(rc, 1, "exit status")
check(err:find("^wb: s%.lua:1: boom\nstack traceback:\n") and err:find("in local 'f'", 1, true), "the user's error: " .. err)
rc, _, err = run('local t = nil\nprint(t.x)\n')
check(err:find("^wb: s%.lua:2: attempt to index a nil value %(local 't'%)\nstack traceback:"), "a runtime error: " .. err)
rc, _, err = run('hlep()\n')
check(err:find("attempt to call a nil value (global 'hlep') (did you mean help?)", 1, true) and err:find("traceback"),
      "a global's did you mean: " .. err)
-- always the traceback: --traceback, wb.debug(true)
rc, _, err = run(DATA .. 'wb.fit("kmean", d, {})\n', "--traceback")
check(err:find("no estimator named 'kmean'", 1, true) and err:find("stack traceback:", 1, true) and err:find("in function 'wb.fit'", 1, true),
      "--traceback: " .. err)
rc, _, err = run(DATA .. 'wb.debug(true)\nwb.fit("kmean", d, {})\n')
check(err:find("stack traceback:", 1, true), "wb.debug(true): " .. err)

-- print(d) prints what the prompt shows; tostring stays short
local out
rc, out, err = run(DATA .. 'print(d)\nprint(tostring(d))\nprint(d:slice(1, 3):labels())\n')
eq(rc, 0, "print: " .. err)
check(out:find("^Dataset: 100 rows x 2 columns, labelled %(1 partition%)\n%s+x1%s+x2%s+label\n%s+1%s+%-?%d"), "print(d): " .. out)
check(out:find("\nDataset 100 x 2 with labels, 1 partition\n", 1, true), "tostring(d): " .. out)
check(out:find("\nVector of 3: [", 1, true), "print(vector): " .. out)

-- exit and quit: the script's status
rc = run('print("a")\nexit(3)\nprint("b")\n')
eq(rc, 3, "exit(3)")
rc, out = run('quit()\nprint("b")\n')
eq(rc, 0, "quit()")
eq(out, "", "nothing after quit()")
rc, _, err = run('exit("x")\n')
check(rc == 1 and err:find("bad argument #1 to 'exit' (status must be an integer in 0..255 or a boolean, got string)", 1, true), "exit('x'): " .. err)

-- examples/bench.lua honours its arguments
local h = io.popen("cd " .. q(dir) .. " && " .. q(WB) .. " " .. q(src .. "/examples/bench.lua") ..
                   " 3000 --executors local:1 --repeats 1 --out " .. q(dir .. "/bench") .. " >" .. q(dir .. "/bench.log") .. " 2>&1; echo $?")
local brc = h:read("a")
h:close()
eq(tonumber(brc), 0, "examples/bench.lua: " .. (io.open(dir .. "/bench.log"):read("a") or ""))
local csv = io.open(dir .. "/bench/bench-results.csv"):read("a")
local ns = {}
for line in csv:gmatch("[^\n]+") do
  local n = line:match("^[^,]+,(%d+),local:1,")
  if n then ns[n] = true end
end
check(ns["3000"] and not ns["100000"], "the sizes given: " .. csv:sub(1, 300))
check(io.open(dir .. "/bench/bench-speedup.svg"), "the speedup chart in --out")

os.execute("rm -rf " .. q(dir))
print("shell_scripts: ok")
