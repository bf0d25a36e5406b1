/* init.c — wb_core_init: the built-in kernels of the core registered, once:
 * the dataset operations' ("core.*", dataset_ops.c), the readers' and
 * writers' ("io.*", io/) and the databases' ("sql.*", sql/). The call is made here, in a file above the ones
 * that define the kernels, not from the registry or the plugin host, which
 * those files use. */
#include "internal.h"
#include "io/io_internal.h"

void wb_core_init(void)
{
    static int done;
    if (done) return;
    done = 1;
    wb__register_core_kernels();
    wb__register_col_kernels();
    wb__register_text_kernels();
    wb__register_npy_kernels();
    wb__register_csv_kernels();
    wb__register_sql_kernels();
}
