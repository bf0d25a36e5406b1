/* generate.c — data from a registered source, in memory or straight to a
 * file in chunks (for data larger than memory). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static int checked(const char *source, const wb_params *in, const wb_source_def **def,
                   wb_params **p)
{
    *def = wb_source_find(source);
    if (!*def) return wb_seterr(WB_ENOTFOUND, "no data source named '%s'", source ? source : "");
    char who[160];
    snprintf(who, sizeof who, "datagen.%s", (*def)->name);
    int rc = wb_params_validate(who, (*def)->params, (*def)->nparams, in, p);
    if (!rc && (*def)->check) wb_clearerr(); /* a check failing without words must not show a stale message */
    if (!rc && (*def)->check && (rc = (*def)->check(*p)) != 0) {
        wb_params_free(*p);
        *p = NULL;
        if (rc > 0) rc = WB_EPARAM;
        if (strncmp(wb_errmsg(), who, strlen(who)) != 0) wb_preferr(rc, "%s", who);
    }
    return rc;
}

int wb_generate(wb_exec *ex, const char *source, const wb_params *in, wb_dataset **out)
{
    const wb_source_def *def;
    wb_params *p;
    int rc = checked(source, in, &def, &p);
    if (rc) return rc;
    int64_t n = wb_params_int(p, "n");
    /* in memory on this machine: refuse up front what cannot fit (found by
     * tests/lua/api_sweep.lua: n = 1e9 ran out of memory after 20 s of work,
     * or got the process killed) */
    double need = (double)n * (double)(def->cols(p) + 1) * 8.0;
    size_t avail = wb__avail_bytes();
    wb_exec_info info = {0};
    if (ex) wb_exec_info_get(ex, &info);
    /* a quarter kept for the work around it (fits, sums, copies) */
    if (!info.remote && avail != SIZE_MAX && need > (double)avail * 0.75) {
        char a[32], b[32];
        wb_size_format(need > 1.8e19 ? UINT64_MAX : (uint64_t)need, a, sizeof a);
        wb_size_format((uint64_t)avail, b, sizeof b);
        rc = wb_seterr(WB_ENOMEM,
                       "datagen.%s: parameter 'n' = %lld rows x %lld columns needs %s, more than the memory "
                       "available (%s); write it to a file with file = \"name.libsvm\" or generate it on a cluster",
                       def->name, (long long)n, (long long)def->cols(p), a, b);
        wb_params_free(p);
        return rc;
    }
    wb_progress(def->name, 0, (double)n, "generating");
    rc = def->make(ex, p, 0, n, out);
    if (!rc && ((*out)->n != n || (*out)->d != def->cols(p))) {
        int64_t gn = (*out)->n, gd = (*out)->d; /* read before the dataset goes */
        wb_ds_unref(*out);
        *out = NULL;
        rc = wb_seterr(WB_EINTERNAL, "datagen.%s: made %lld x %lld, expected %lld x %lld", def->name,
                       (long long)gn, (long long)gd, (long long)n, (long long)def->cols(p));
    }
    wb_progress(def->name, (double)n, (double)n, NULL);
    wb_params_free(p);
    return rc;
}

int wb_generate_to_file(wb_exec *ex, const char *source, const wb_params *in, const char *path,
                        const wb_write_opts *o)
{
    const wb_source_def *def;
    wb_params *p;
    int rc = checked(source, in, &def, &p);
    if (rc) return rc;
    int64_t n = wb_params_int(p, "n"), d = def->cols(p);
    wb_write_opts wo;
    if (o)
        wo = *o;
    else
        wb_write_opts_init(&wo);
    if (wo.nclasses < 0 && def->nclasses) wo.nclasses = def->nclasses(p);
    int has_y = def->nclasses && def->nclasses(p) > 0;
    wb_writer *w;
    rc = wb_writer_open(path, &wo, n, d, has_y, &w);
    if (rc) {
        wb_params_free(p);
        return rc;
    }
    /* chunks of about 64 MB, a multiple of the partition size */
    int64_t P = wb_partition_rows(d), chunk = P * (int64_t)(((int64_t)64 << 20) / (P * 8 * (d ? d : 1)) + 1);
    for (int64_t lo = 0; lo < n && !rc; lo += chunk) {
        int64_t hi = lo + chunk < n ? lo + chunk : n;
        wb_dataset *ds;
        wb_progress(def->name, (double)lo, (double)n, "writing");
        rc = def->make(ex, p, lo, hi, &ds);
        if (!rc) {
            rc = wb_writer_append(w, ds);
            wb_ds_unref(ds);
        }
    }
    wb_params_free(p);
    if (rc) {
        wb_writer_abort(w);
        return rc;
    }
    wb_progress(def->name, (double)n, (double)n, NULL);
    return wb_writer_close(w);
}
