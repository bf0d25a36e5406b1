-- quickstart: generate data, look at it, and run it through the executor.
-- Run with: ./build/wb -e examples/quickstart.lua
local t0 = wb.now()
local d = wb.datagen.classification{n = 200000, features = 10, informative = 5, redundant = 5,
                                    classes = 2, seed = 1}
print(string.format("generated %s in %.3f s on %d threads", tostring(d), wb.now() - t0, wb.threads()))
d:head(5)
print(d:describe())
