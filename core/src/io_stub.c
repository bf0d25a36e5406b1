/* io_stub.c — placeholder until the readers and writers land. */
#include <string.h>
#include "internal.h"
void wb__register_io_kernels(void) {}
void wb_read_opts_init(wb_read_opts *o) { memset(o, 0, sizeof *o); }
void wb_write_opts_init(wb_write_opts *o) { memset(o, 0, sizeof *o); o->header = 1; o->meta = 1; o->nclasses = -1; }
int wb_format_from_path(const char *path) { (void)path; return 0; }
int wb_read(wb_exec *ex, const char *path, const wb_read_opts *o, wb_dataset **out) { (void)ex; (void)o; (void)out; return wb_seterr(WB_ENOTSUP, "%s: reading not built yet", path); }
int wb_write(const wb_dataset *d, const char *path, const wb_write_opts *o) { (void)d; (void)o; return wb_seterr(WB_ENOTSUP, "%s: writing not built yet", path); }
int wb_writer_open(const char *path, const wb_write_opts *o, int64_t n, int64_t d, int has_labels, wb_writer **out) { (void)o; (void)n; (void)d; (void)has_labels; (void)out; return wb_seterr(WB_ENOTSUP, "%s: writing not built yet", path); }
int wb_writer_append(wb_writer *w, const wb_dataset *chunk) { (void)w; (void)chunk; return WB_ENOTSUP; }
int wb_writer_close(wb_writer *w) { (void)w; return WB_ENOTSUP; }
void wb_writer_abort(wb_writer *w) { (void)w; }
int wb_meta_write(const char *datapath, const wb_meta *m) { (void)datapath; (void)m; return WB_ENOTSUP; }
int wb_meta_read(const char *datapath, wb_meta *m) { (void)datapath; (void)m; return WB_ENOTSUP; }
