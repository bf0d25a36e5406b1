-- plugins_present.lua — every plugin of the source tree (plugins/*/CMakeLists.txt,
-- its wb_add_plugin(NAME ...)) is built and loaded by wb at start: the tests
-- that use a plugin then run its checks instead of finding it missing.
package.path = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/lib/?.lua;" .. package.path
local TL = require("testlib")
local src = assert(os.getenv("WB_SOURCE_DIR"), "WB_SOURCE_DIR is not set")
local loaded = {}
for _, e in ipairs(wb.plugin.list()) do loaded[type(e) == "table" and e.name or e] = true end
local p = assert(io.popen("ls " .. string.format("%q", src .. "/plugins") .. "/*/CMakeLists.txt"))
local want = {}
for path in p:lines() do
  local f = assert(io.open(path))
  for name in f:read("a"):gmatch("wb_add_plugin%(%s*([%w_]+)") do want[#want + 1] = name end
  f:close()
end
p:close()
TL.check(#want >= 7, "found " .. #want .. " plugins in " .. src .. "/plugins, expected at least 7")
for _, name in ipairs(want) do TL.check(loaded[name], "the plugin '" .. name .. "' is not loaded") end
print("plugins_present: " .. #want .. " plugins, all loaded: " .. table.concat(want, " "))
