-- clustering.lua: k-means on a swiss roll (k = 16, as in the studies), its
-- quality, PCA of the same data, and a picture of both.
-- Run with: ./build/wb examples/clustering.lua [rows]    (default 3000000)
local n = math.tointeger(tonumber(arg and arg[1] or "3000000")) or error("rows must be a whole number", 0)
local r = wb.datagen.swiss_roll{n = n, noise = 0.2, seed = 1}
local t0 = wb.now()
local km = wb.fit("kmeans", r, {k = 16, init = "k-means++", max_iter = 100, seed = 0})
print(string.format("k-means: %d iterations in %.2f s, inertia %.6g", km.iterations, wb.now() - t0, km.inertia))
local labels = km:predict(r)
print(string.format("Davies-Bouldin %.4f (lower is better), Calinski-Harabasz %.6g",
                    wb.metrics.davies_bouldin(r, labels),
                    wb.metrics.calinski_harabasz and wb.metrics.calinski_harabasz(r, labels) or 0 / 0))
local p = wb.fit("pca", r, {components = 2})
print("PCA explained variance ratio: " .. wb.show(p.explained_variance_ratio))
wb.plot.scatter(r, {x = 1, y = 3, color = labels, file = "roll_clusters.svg", title = "swiss roll, k-means clusters",
                    legend_prefix = "cluster "})
wb.plot.scatter(p:transform(r), {color = labels, file = "pca.svg", title = "PCA projection by cluster",
                                 xlabel = "PC1", ylabel = "PC2", legend_prefix = "cluster "})
print("wrote roll_clusters.svg and pca.svg")
