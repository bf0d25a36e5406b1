-- tests/lua/lib/testlib.lua -- what the Lua tests share: checks that stop the
-- test with an error naming the test's own file and line, expected errors,
-- comparisons of numbers and values. A test loads it with
--
--   package.path = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/lib/?.lua;" .. package.path
--   local TL = require("testlib")
--   local check, expect_error = TL.check, TL.expect_error
--
-- (it lives in a folder of its own: tests/CMakeLists.txt runs every
-- tests/lua/*.lua as a test). A failed check raises an error whose position is
-- the line of the test that called the check, so wb prints it and exits with
-- status 1; with TL.keep_going() failures are printed (with that position)
-- and counted instead, and TL.failures() tells how many there were.
local M = {}

local failures, keep_going, on_failure = 0, false, {}

-- a failed check: `level` as error() would take it in the function that
-- calls fail (2: the caller of that function)
local function fail(msg, level)
  msg = tostring(msg)
  if keep_going then
    local info = debug.getinfo(level + 1, "Sl")
    print(info and string.format("%s:%d: %s", info.short_src, info.currentline, msg) or msg)
    failures = failures + 1
    return
  end
  for _, fn in ipairs(on_failure) do fn() end
  error(msg, level + 1)
end

-- fn() runs before a failed check raises its error (a test's clean-up of
-- temporary files, say)
function M.on_failure(fn)
  on_failure[#on_failure + 1] = fn
end

-- from now on a failed check prints its message and position and counts it,
-- and the test goes on; TL.failures() is the count
function M.keep_going()
  keep_going = true
end

function M.failures()
  return failures
end

-- cond must be true; msg says what was checked
function M.check(cond, msg)
  if not cond then fail(msg or "check failed", 2) end
end

-- got == want; both are shown (quoted) when they differ
function M.eq(got, want, what)
  if got ~= want then fail(string.format("%s:\n got: %q\nwant: %q", what, tostring(got), tostring(want)), 2) end
end

-- expected errors. opts.how: "find" (the message holds `want`, plain text),
-- "match" (the message matches the Lua pattern `want`) or "equal" (the
-- message is `want`); opts.string: the error value must be a string (not
-- merely something tostring() turns into one); opts.strip_where: a leading
-- "file:line: " is dropped before the comparison. Returns the message.
local VERB = {find = "contain", match = "match", equal = "equal"}
local function expect(opts, want, f, ...)
  local how = opts.how or "find"
  assert(VERB[how], "testlib: how must be find, match or equal, got " .. tostring(how))
  local ok, e = pcall(f, ...)
  if ok then
    fail((how == "find" and "expected an error containing: " or how == "match" and "expected an error matching: "
          or "expected the error: ") .. want, 3)
    return nil
  end
  if opts.string and type(e) ~= "string" then
    fail(string.format("error %q is a %s, not a string (expected one that would %s %q)", tostring(e), type(e),
                       VERB[how], want), 3)
    return nil
  end
  local msg = tostring(e)
  if opts.strip_where then msg = (msg:gsub("^[^:]*:%d+: ", "")) end
  local good
  if how == "find" then good = msg:find(want, 1, true)
  elseif how == "match" then good = msg:find(want)
  else good = msg == want end
  if not good then
    if how == "equal" then
      fail(string.format("error differs:\n     got: %s\nexpected: %s", msg, want), 3)
    else
      fail(string.format("error %q does not %s %q", msg, VERB[how], want), 3)
    end
  end
  return msg
end

local FIND = {}
-- f(...) must raise an error whose message contains `want` (plain text)
function M.expect_error(want, f, ...)
  local msg = expect(FIND, want, f, ...)
  return msg
end

-- an expect_error(want, f, ...) with options (see above), e.g.
--   local expect_exact = TL.expect_error_with{how = "equal"}
function M.expect_error_with(opts)
  return function(want, f, ...)
    local msg = expect(opts, want, f, ...)
    return msg
  end
end

-- f(...) must raise an error; returns its message (tostring)
function M.error_of(f, ...)
  local ok, e = pcall(f, ...)
  if ok then fail("expected an error", 2) end
  return tostring(e)
end

-- the test needs this estimator (or source): every plugin of plugins/ is
-- built with wb, so a missing one fails the test instead of skipping checks
function M.need_estimator(name)
  if not wb.core.estimator_info(name) then
    fail(string.format("the estimator '%s' is not registered: its plugin was not built or not loaded", name), 2)
  end
end

function M.need_source(name)
  if not wb.core.source_info(name) then
    fail(string.format("the data source '%s' is not registered: its plugin was not built or not loaded", name), 2)
  end
end

-- predicates (for check(...)): |a - b| <= tol; |a - b| <= tol relative to
-- the larger magnitude (at least 1e-300)
function M.near(a, b, tol)
  return math.abs(a - b) <= tol
end

function M.rel(a, b, tol)
  return math.abs(a - b) <= tol * math.max(math.abs(a), math.abs(b), 1e-300)
end

-- the relative error of a against the reference b (|b| at least 1e-300)
function M.rel_error(a, b)
  return math.abs(a - b) / math.max(math.abs(b), 1e-300)
end

-- an assertion (a, b, what): |a - b| < tol, both printed in full when not
function M.closer(tol)
  return function(a, b, what)
    if not (math.abs(a - b) < tol) then fail(string.format("%s: %.17g, expected %.17g", what, a, b), 2) end
  end
end

-- a and b hold the same values: equal numbers (or strings ...), or arrays of
-- the same length whose elements are the same values, nested
function M.equal_values(a, b)
  if type(a) == "table" then
    if type(b) ~= "table" or #a ~= #b then return false end
    for i = 1, #a do if not M.equal_values(a[i], b[i]) then return false end end
    return true
  end
  return a == b
end

-- the message of the first difference between a and b (nil when none)
local function difference(a, b, what, nan_equal)
  if type(a) == "table" then
    if type(b) ~= "table" or #a ~= #b then return what .. ": shape" end
    for i = 1, #a do
      local d = difference(a[i], b[i], what .. "[" .. i .. "]", nan_equal)
      if d then return d end
    end
  elseif type(a) == "number" then
    if not (a == b or (nan_equal and a ~= a and b ~= b)) then
      return string.format("%s: %.17g vs %s", what, a, type(b) == "number" and string.format("%.17g", b) or tostring(b))
    end
  elseif a ~= b then
    return string.format("%s: %s vs %s", what, tostring(a), tostring(b))
  end
end

-- an assertion: a and b hold the same values (as equal_values; opts.nan_equal:
-- NaN equals NaN); the message names the first element that differs
function M.same(a, b, what, opts)
  local d = difference(a, b, what, opts and opts.nan_equal)
  if d then fail(d, 2) end
end

return M
