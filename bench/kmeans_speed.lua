-- bench/kmeans_speed.lua DIR ALGO ITERS THREADS: wb's side of bench/kmeans_speed.sh.
-- kmeans with the starting centres DIR/init.npy on DIR/x.npy (tol 0, at most ITERS
-- iterations, algorithm ALGO), THREADS threads; prints one JSON line: fit wall
-- seconds, CPU seconds of the process (os.clock: all threads), iterations, inertia.
local dir, algo, iters, threads = arg[1], arg[2], tonumber(arg[3]), tonumber(arg[4])
assert(dir and algo and iters and threads, "usage: wb kmeans_speed.lua DIR ALGO ITERS THREADS")
wb.threads(threads)
local x, init = wb.load(dir .. "/x.npy"), wb.load(dir .. "/init.npy")
local p = {k = init:rows(), init = init, max_iter = iters, tol = 0}
if algo ~= "lloyd" then p.algorithm = algo end
local t, c = wb.now(), os.clock()
local km = wb.fit("kmeans", x, p)
t, c = wb.now() - t, os.clock() - c
print(string.format('{"side": "wb-%s", "seconds": %.6f, "cpu_seconds": %.6f, "iterations": %d, "inertia": %.17g}',
  algo, t, c, km.iterations, km.inertia))
