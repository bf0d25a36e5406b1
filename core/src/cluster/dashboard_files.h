/* cluster/dashboard_files.h — the dashboard page embedded at build time. */
#ifndef WB_CLUSTER_DASH_FILES_H
#define WB_CLUSTER_DASH_FILES_H
#include <stddef.h>
typedef struct wb_dash_file {
    const char *path; /* "/index.html" */
    const char *type; /* Content-Type */
    const char *data;
    size_t len;
} wb_dash_file;
extern const wb_dash_file wb_dash_files[]; /* ends with {NULL} */
#endif
