/* hostver.c — a plugin that calls host entries appended to the table only when
 * the running host has them (WB_HOST_HAS), as a plugin built against a newer
 * header than its oldest supported host does:
 *   - register_lua: the Lua front-end wb.hostver (the kernels work without it);
 *   - kctx_input: kernel hostver.input returns the object id of its input 0
 *     when the host has the entry, 0 when not.
 * tests/unit/test_plugin.c loads it on the running host and hands its init a
 * table as an older host would (shorter: `size` ends before an entry). */
#include <wb/plugin.h>

static const wb_host *H;

/* hostver.input (task): 8 bytes, the id of input 0 (0 without kctx_input) */
static int k_input(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    (void)in, (void)arg, (void)arglen;
    uint64_t *o = H->out_bytes(ctx, sizeof *o);
    if (!o) return WB_ENOMEM;
    *o = nin > 0 && WB_HOST_HAS(H, kctx_input) ? H->kctx_input(ctx, 0) : 0;
    return 0;
}

static const char lua_src[] = "local wb = ...\n"
                              "wb.hostver = {lua = true}\n";

WB_PLUGIN("hostver", "1.0")
{
    H = host;
    int rc = host->register_kernel("hostver.input", k_input);
    if (!rc && WB_HOST_HAS(host, register_lua)) rc = host->register_lua("hostver", lua_src);
    return rc;
}
