/* test_params.c — parameter sets, their check against a schema (every
 * message form), and their encoding. */
#include "wbtest.h"

#include <math.h>

static const wb_param_spec SPEC[] = {
    {"k", WB_P_INT, "8", 1, INFINITY, 0, NULL, "clusters"},
    {"tol", WB_P_NUM, "1e-4", 0, INFINITY, WB_P_MIN_EXCL, NULL, "tolerance"},
    {"ratio", WB_P_NUM, "0.5", 0, 1, 0, NULL, "closed range"},
    {"frac", WB_P_NUM, "0.25", 0, 1, WB_P_MIN_EXCL | WB_P_MAX_EXCL, NULL, "open range"},
    {"half", WB_P_NUM, "0.5", 0, 1, WB_P_MAX_EXCL, NULL, "half-open range"},
    {"depth", WB_P_INT, "3", -INFINITY, 10, 0, NULL, "at most 10"},
    {"below", WB_P_NUM, "0", -INFINITY, 5, WB_P_MAX_EXCL, NULL, "under 5"},
    {"any", WB_P_NUM, "-2.5", -INFINITY, INFINITY, 0, NULL, "any finite number"},
    {"init", WB_P_STR, "k-means++", 0, 0, 0, "k-means++|random", "how to start"},
    {"label", WB_P_STR, NULL, 0, 0, WB_P_NULLABLE, NULL, "any string, optional"},
    {"fit_intercept", WB_P_BOOL, "true", 0, 0, 0, NULL, "a flag"},
    {"centers", WB_P_ARRAY | WB_P_STR, NULL, 0, 0, WB_P_NULLABLE, "auto", "matrix or 'auto'"},
    {"max_iter", WB_P_INT | WB_P_STR, "100", 1, 1e6, 0, "auto", "count or auto"},
    {"n", WB_P_INT, NULL, 1, INFINITY, 0, NULL, "required"},
};
#define NSPEC ((int)(sizeof SPEC / sizeof SPEC[0]))

/* validate {name = value} given by a setter; returns rc, *out freed by the caller */
static int check1(wb_params *in, wb_params **out)
{
    if (!wb_params_has(in, "n")) wb_params_set_int(in, "n", 10);
    int rc = wb_params_validate("est", SPEC, NSPEC, in, out);
    wb_params_free(in);
    return rc;
}

static wb_params *with_int(const char *k, int64_t v)
{
    wb_params *p = wb_params_new();
    wb_params_set_int(p, k, v);
    return p;
}
static wb_params *with_num(const char *k, double v)
{
    wb_params *p = wb_params_new();
    wb_params_set_num(p, k, v);
    return p;
}
static wb_params *with_str(const char *k, const char *v)
{
    wb_params *p = wb_params_new();
    wb_params_set_str(p, k, v);
    return p;
}
static wb_params *with_bool(const char *k, int v)
{
    wb_params *p = wb_params_new();
    wb_params_set_bool(p, k, v);
    return p;
}

#define REFUSED(in, msg)                                     \
    do {                                                     \
        wb_params *o_ = (wb_params *)1;                      \
        assert_err(check1((in), &o_), WB_EPARAM, (msg));     \
        assert_null(o_);                                     \
    } while (0)

static void integer_ranges(void **state)
{
    (void)state;
    REFUSED(with_int("k", -3), "est: parameter 'k' must be an integer >= 1, got -3");
    REFUSED(with_int("k", 0), "est: parameter 'k' must be an integer >= 1, got 0");
    REFUSED(with_num("k", 2.5), "est: parameter 'k' must be an integer >= 1, got 2.5");
    REFUSED(with_num("k", 1e20), "est: parameter 'k' must be an integer >= 1, got 1e+20");
    REFUSED(with_num("k", NAN), "est: parameter 'k' must be an integer >= 1, got nan");
    REFUSED(with_num("k", INFINITY), "est: parameter 'k' must be an integer >= 1, got inf");
    REFUSED(with_int("depth", 11), "est: parameter 'depth' must be an integer <= 10, got 11");
    REFUSED(with_int("max_iter", 0),
            "est: parameter 'max_iter' must be an integer in [1, 1000000] or one of \"auto\", got 0");
    REFUSED(with_str("max_iter", "never"),
            "est: parameter 'max_iter' must be an integer in [1, 1000000] or one of \"auto\", got \"never\"");
    /* an integral float is accepted as an integer */
    wb_params *o;
    assert_ok(check1(with_num("k", 3.0), &o));
    assert_int_equal(wb_params_type(o, "k"), WB_P_INT);
    assert_int_equal(wb_params_int(o, "k"), 3);
    wb_params_free(o);
    assert_ok(check1(with_int("depth", -1000000), &o));
    assert_int_equal(wb_params_int(o, "depth"), -1000000);
    wb_params_free(o);
    assert_ok(check1(with_str("max_iter", "auto"), &o));
    assert_string_equal(wb_params_str(o, "max_iter"), "auto");
    wb_params_free(o);
}

static void number_ranges(void **state)
{
    (void)state;
    REFUSED(with_num("tol", 0), "est: parameter 'tol' must be a number > 0, got 0");
    REFUSED(with_num("tol", -1e-9), "est: parameter 'tol' must be a number > 0, got -1e-09");
    REFUSED(with_num("ratio", 1.5), "est: parameter 'ratio' must be a number in [0, 1], got 1.5");
    REFUSED(with_num("ratio", -0.1), "est: parameter 'ratio' must be a number in [0, 1], got -0.1");
    REFUSED(with_num("frac", 0), "est: parameter 'frac' must be a number in (0, 1), got 0");
    REFUSED(with_num("frac", 1), "est: parameter 'frac' must be a number in (0, 1), got 1");
    REFUSED(with_num("half", 1), "est: parameter 'half' must be a number in [0, 1), got 1");
    REFUSED(with_num("below", 5), "est: parameter 'below' must be a number < 5, got 5");
    REFUSED(with_num("any", NAN), "est: parameter 'any' must be a number, got nan");
    REFUSED(with_num("tol", -INFINITY), "est: parameter 'tol' must be a number > 0, got -inf");
    REFUSED(with_num("below", 1e300), "est: parameter 'below' must be a number < 5, got 1e+300");
    /* the closed ends are allowed; an integer is a number */
    wb_params *o;
    wb_params *in = wb_params_new();
    wb_params_set_num(in, "ratio", 0);
    wb_params_set_num(in, "half", 0);
    wb_params_set_int(in, "tol", 2);
    assert_ok(check1(in, &o));
    assert_true(wb_params_num(o, "ratio") == 0);
    assert_int_equal(wb_params_type(o, "tol"), WB_P_NUM);
    assert_true(wb_params_num(o, "tol") == 2.0);
    wb_params_free(o);
    assert_ok(check1(with_num("ratio", 1), &o));
    wb_params_free(o);
    /* the shortest text that reads back: 0.1 is "0.1", 1/3 is all its digits */
    REFUSED(with_num("ratio", 1 + 1.0 / 3), "est: parameter 'ratio' must be a number in [0, 1], got 1.3333333333333333");
}

/* +-Inf only where the schema opts in (WB_P_NONFINITE): an open bound is not
 * an invitation (logreg's C = inf gave an all-zero model said to converge) */
static void nonfinite_values(void **state)
{
    (void)state;
    REFUSED(with_num("any", INFINITY), "est: parameter 'any' must be a finite number, got inf");
    REFUSED(with_num("any", -INFINITY), "est: parameter 'any' must be a finite number, got -inf");
    REFUSED(with_num("tol", INFINITY), "est: parameter 'tol' must be a finite number > 0, got inf");
    REFUSED(with_num("below", -INFINITY), "est: parameter 'below' must be a finite number < 5, got -inf");
    REFUSED(with_num("depth", -INFINITY), "est: parameter 'depth' must be an integer <= 10, got -inf");
    static const wb_param_spec bound[] = {
        {"bound", WB_P_NUM, "0", -INFINITY, INFINITY, WB_P_NONFINITE, NULL, "any number, infinities too"}};
    wb_params *o, *in = with_num("bound", -INFINITY);
    assert_ok(wb_params_validate("est", bound, 1, in, &o));
    assert_true(wb_params_num(o, "bound") == -INFINITY);
    wb_params_free(o);
    wb_params_set_num(in, "bound", NAN);
    assert_err(wb_params_validate("est", bound, 1, in, &o), WB_EPARAM, "est: parameter 'bound' must be a number, got nan");
    wb_params_free(in);
    /* matrices: NaN never, +-Inf as numbers */
    double m[4] = {1, 2, 3, INFINITY};
    in = wb_params_new();
    wb_params_set_array(in, "centers", m, 2, 2);
    REFUSED(in, "est: parameter 'centers' has Inf at row 2, column 2");
    m[3] = 4;
    m[1] = NAN;
    in = wb_params_new();
    wb_params_set_array(in, "centers", m, 1, 4);
    REFUSED(in, "est: parameter 'centers' has NaN at row 1, column 2");
    m[1] = -INFINITY;
    in = wb_params_new();
    wb_params_set_array(in, "centers", m, 4, 1);
    REFUSED(in, "est: parameter 'centers' has -Inf at row 2, column 1");
    static const wb_param_spec inf_ok[] = {{"m", WB_P_ARRAY, NULL, 0, 0, WB_P_NULLABLE | WB_P_NONFINITE, NULL, "bounds"}};
    in = wb_params_new();
    wb_params_set_array(in, "m", m, 2, 2);
    assert_ok(wb_params_validate("est", inf_ok, 1, in, &o));
    wb_params_free(o);
    m[0] = NAN;
    wb_params_set_array(in, "m", m, 2, 2);
    assert_err(wb_params_validate("est", inf_ok, 1, in, &o), WB_EPARAM, "est: parameter 'm' has NaN at row 1, column 1");
    wb_params_free(in);
}

/* every number and matrix parameter of every estimator and data source the
 * build's plugins register refuses +-Inf (none opts in today), and names
 * itself, the value and what it allows */
static void nonfinite_in_every_schema(void **state)
{
    (void)state;
    static const char *plugins[] = {"linear", "gbdt", "kmeans", "pca", "select", "datagen"};
    char path[1024];
    for (size_t i = 0; i < sizeof plugins / sizeof *plugins; i++) {
        snprintf(path, sizeof path, "%s/%s.so", WB_BUILD_PLUGIN_DIR, plugins[i]);
        int rc = wb_plugin_load(path);
        if (rc && !strstr(wb_errmsg(), "already loaded")) assert_ok(rc);
    }
    int checked = 0;
    for (int kind = 0; kind < 2; kind++) {
        int n = kind ? wb_source_count() : wb_estimator_count();
        for (int e = 0; e < n; e++) {
            const wb_param_spec *spec = kind ? wb_source_at(e)->params : wb_estimator_at(e)->params;
            int nspec = kind ? wb_source_at(e)->nparams : wb_estimator_at(e)->nparams;
            char who[128];
            snprintf(who, sizeof who, kind ? "datagen.%s" : "%s", kind ? wb_source_at(e)->name : wb_estimator_at(e)->name);
            for (int j = 0; j < nspec; j++) {
                const wb_param_spec *s = &spec[j];
                if (!(s->types & (WB_P_NUM | WB_P_ARRAY))) continue;
                assert_false(s->flags & WB_P_NONFINITE);
                for (int sign = -1; sign <= 1; sign += 2) {
                    wb_params *in = wb_params_new(), *o = NULL;
                    for (int r = 0; r < nspec; r++) /* the required ones, valid */
                        if (!spec[r].def && !(spec[r].flags & WB_P_NULLABLE) && r != j) {
                            if (spec[r].types & WB_P_INT) wb_params_set_int(in, spec[r].name, 10);
                            else wb_params_set_str(in, spec[r].name, "scaler");
                        }
                    double bad[2] = {1, sign * INFINITY};
                    if (s->types & WB_P_NUM) wb_params_set_num(in, s->name, bad[1]);
                    else wb_params_set_array(in, s->name, bad, 1, 2);
                    int rc = wb_params_validate(who, spec, nspec, in, &o);
                    char want[512];
                    if (s->types & WB_P_NUM)
                        snprintf(want, sizeof want, "%s: parameter '%s' must be ", who, s->name);
                    else
                        snprintf(want, sizeof want, "%s: parameter '%s' has %sInf at row 1, column 2", who, s->name,
                                 sign < 0 ? "-" : "");
                    assert_err_has(rc, WB_EPARAM, want);
                    assert_true(strstr(wb_errmsg(), sign < 0 ? "-inf" : "inf") || !(s->types & WB_P_NUM));
                    assert_null(o);
                    wb_params_free(in);
                    checked++;
                }
            }
        }
    }
    assert_true(checked >= 40); /* C, learning_rate, tol, alpha, shift, class_sep, init, weights ... */
}

static void choices_types_and_names(void **state)
{
    (void)state;
    REFUSED(with_str("init", "kmeans"),
            "est: parameter 'init' must be one of \"k-means++\", \"random\", got \"kmeans\"");
    REFUSED(with_str("init", ""), "est: parameter 'init' must be one of \"k-means++\", \"random\", got \"\"");
    REFUSED(with_str("k", "a"), "est: parameter 'k' must be an integer >= 1, got string \"a\"");
    REFUSED(with_bool("k", 1), "est: parameter 'k' must be an integer >= 1, got true");
    REFUSED(with_int("fit_intercept", 1), "est: parameter 'fit_intercept' must be a boolean, got 1");
    REFUSED(with_str("fit_intercept", "yes"),
            "est: parameter 'fit_intercept' must be a boolean, got string \"yes\"");
    REFUSED(with_int("label", 3), "est: parameter 'label' must be a string, got 3");
    REFUSED(with_int("centers", 3),
            "est: parameter 'centers' must be one of \"auto\" or a matrix (table of rows or dataset), got 3");
    double m[4] = {1, 2, 3, 4};
    wb_params *in = wb_params_new();
    wb_params_set_array(in, "k", m, 2, 2);
    REFUSED(in, "est: parameter 'k' must be an integer >= 1, got [2 x 2]");
    in = wb_params_new();
    wb_params_set_other(in, "tol", "table");
    REFUSED(in, "est: parameter 'tol' must be a number > 0, got table");
    in = wb_params_new();
    wb_params_set_other(in, "init", "function");
    REFUSED(in, "est: parameter 'init' must be one of \"k-means++\", \"random\", got function");
    /* unknown names come first, listing the known ones */
    in = with_int("kk", 3);
    wb_params_set_int(in, "k", -1);
    REFUSED(in, "est: unknown parameter 'kk' (did you mean 'k'? parameters: k, tol, ratio, frac, half, depth, below, "
                "any, init, label, fit_intercept, centers, max_iter, n)");
    wb_params *o = (wb_params *)1;
    in = with_int("x", 1);
    assert_err(wb_params_validate("empty", NULL, 0, in, &o), WB_EPARAM,
               "empty: unknown parameter 'x' (parameters: none)");
    wb_params_free(in);
    /* required */
    o = (wb_params *)1;
    in = wb_params_new();
    assert_err(wb_params_validate("est", SPEC, NSPEC, in, &o), WB_EPARAM,
               "est: parameter 'n' is required");
    assert_null(o);
    wb_params_free(in);
}

static void defaults_filled(void **state)
{
    (void)state;
    wb_params *o;
    assert_ok(check1(wb_params_new(), &o));
    assert_int_equal(wb_params_type(o, "k"), WB_P_INT);
    assert_int_equal(wb_params_int(o, "k"), 8);
    assert_int_equal(wb_params_type(o, "tol"), WB_P_NUM);
    assert_true(wb_params_num(o, "tol") == 1e-4);
    assert_true(wb_params_num(o, "any") == -2.5);
    assert_int_equal(wb_params_int(o, "depth"), 3);
    assert_string_equal(wb_params_str(o, "init"), "k-means++");
    assert_int_equal(wb_params_type(o, "fit_intercept"), WB_P_BOOL);
    assert_true(wb_params_bool(o, "fit_intercept"));
    assert_int_equal(wb_params_type(o, "max_iter"), WB_P_INT);
    assert_int_equal(wb_params_int(o, "max_iter"), 100);
    /* nullable without default: absent */
    assert_false(wb_params_has(o, "label"));
    assert_false(wb_params_has(o, "centers"));
    assert_null(wb_params_str(o, "label"));
    assert_true(isnan(wb_params_num(o, "label")));
    assert_int_equal(wb_params_count(o), NSPEC - 2);
    /* in schema order */
    assert_string_equal(wb_params_name_at(o, 0), "k");
    assert_string_equal(wb_params_name_at(o, NSPEC - 3), "n");
    assert_null(wb_params_name_at(o, NSPEC));
    char buf[64];
    assert_string_equal(wb_params_format(o, "tol", buf, sizeof buf), "0.0001");
    assert_string_equal(wb_params_format(o, "init", buf, sizeof buf), "k-means++");
    assert_string_equal(wb_params_format(o, "fit_intercept", buf, sizeof buf), "true");
    assert_string_equal(wb_params_format(o, "label", buf, sizeof buf), "nil");
    wb_params_free(o);
    /* given values win over defaults; an array is copied */
    double m[6] = {1, 2, 3, 4, 5, 6};
    wb_params *in = wb_params_new();
    wb_params_set_array(in, "centers", m, 3, 2);
    wb_params_set_str(in, "label", "x");
    wb_params_set_bool(in, "fit_intercept", 0);
    assert_ok(check1(in, &o));
    int64_t r, c;
    const double *a = wb_params_array(o, "centers", &r, &c);
    assert_non_null(a);
    assert_int_equal(r, 3);
    assert_int_equal(c, 2);
    assert_memory_equal(a, m, sizeof m);
    assert_false(wb_params_bool(o, "fit_intercept"));
    assert_string_equal(wb_params_format(o, "centers", buf, sizeof buf), "[3 x 2]");
    wb_params_free(o);
}

static void names_are_needed(void **state)
{
    (void)state;
    wb_params *p = wb_params_new();
    assert_err(wb_params_set_int(p, "", 1), WB_EINVAL, "parameters: a parameter needs a name (under 64 KB)");
    assert_err(wb_params_set_str(p, NULL, "x"), WB_EINVAL, "parameters: a parameter needs a name (under 64 KB)");
    char *big = malloc(70000);
    memset(big, 'a', 69999);
    big[69999] = 0;
    assert_int_equal(wb_params_set_num(p, big, 1), WB_EINVAL);
    free(big);
    assert_int_equal(wb_params_count(p), 0);
    assert_err(wb_params_set_array(p, "m", NULL, -1, 2), WB_EINVAL, "bad array shape");
    /* setting twice replaces */
    assert_ok(wb_params_set_int(p, "a", 1));
    assert_ok(wb_params_set_str(p, "a", "x"));
    assert_int_equal(wb_params_count(p), 1);
    assert_string_equal(wb_params_str(p, "a"), "x");
    wb_params_free(p);
}

static void schema_descriptions(void **state)
{
    (void)state;
    char buf[256];
    assert_string_equal(wb_param_spec_describe(&SPEC[0], buf, sizeof buf), "an integer >= 1");
    assert_string_equal(wb_param_spec_describe(&SPEC[3], buf, sizeof buf), "a number in (0, 1)");
    assert_string_equal(wb_param_spec_describe(&SPEC[7], buf, sizeof buf), "a number");
    assert_string_equal(wb_param_spec_describe(&SPEC[8], buf, sizeof buf),
                        "one of \"k-means++\", \"random\"");
    assert_string_equal(wb_param_spec_describe(&SPEC[10], buf, sizeof buf), "a boolean");
    wb_param_spec none = {"x", 0, NULL, 0, 0, 0, NULL, NULL};
    assert_string_equal(wb_param_spec_describe(&none, buf, sizeof buf), "a value");
    char tiny[8];
    assert_string_equal(wb_param_spec_describe(&SPEC[8], tiny, sizeof tiny), "one of ");
}

static void bad_defaults(void **state)
{
    (void)state;
    wb_param_spec bad[] = {{"x", WB_P_INT, "abc", 0, 10, 0, NULL, NULL}};
    wb_params *o = (wb_params *)1;
    assert_err(wb_params_validate("est", bad, 1, NULL, &o), WB_EINVAL,
               "est: parameter 'x' has a bad default \"abc\"");
    wb_param_spec out[] = {{"x", WB_P_INT, "11", 0, 10, 0, NULL, NULL}};
    assert_err(wb_params_validate("est", out, 1, NULL, &o), WB_EPARAM,
               "est: parameter 'x' must be an integer in [0, 10], got 11");
    wb_param_spec choice[] = {{"s", WB_P_STR, "c", 0, 0, 0, "a|b", NULL}};
    assert_err(wb_params_validate("est", choice, 1, NULL, &o), WB_EPARAM,
               "est: parameter 's' must be one of \"a\", \"b\", got \"c\"");
    /* a default written as 1e3 for an integer is an integer */
    wb_param_spec sci[] = {{"x", WB_P_INT, "1e3", 0, 1e4, 0, NULL, NULL}};
    assert_ok(wb_params_validate("est", sci, 1, NULL, &o));
    assert_int_equal(wb_params_int(o, "x"), 1000);
    wb_params_free(o);
}

/* ---------------------------------------------------------------- encoding */

static wb_params *sample(void)
{
    wb_params *p = wb_params_new();
    double m[6] = {1.5, -0.0, INFINITY, 1e-310, NAN, 6};
    wb_params_set_int(p, "k", -42);
    wb_params_set_int(p, "big", INT64_MIN);
    wb_params_set_num(p, "tol", 0.1);
    wb_params_set_num(p, "nan", NAN);
    wb_params_set_bool(p, "flag", 1);
    wb_params_set_str(p, "init", "k-means++");
    wb_params_set_str(p, "empty", "");
    wb_params_set_array(p, "centers", m, 2, 3);
    wb_params_set_array(p, "none", NULL, 0, 3);
    return p;
}

static void encode_round_trip(void **state)
{
    (void)state;
    wb_params *p = sample();
    wb_params_set_other(p, "other", "table"); /* not encodable: left out */
    wb_buf b = {0}, b2 = {0};
    assert_ok(wb_params_encode(p, &b));
    wb_params *q;
    assert_ok(wb_params_decode(b.p, b.len, &q));
    assert_int_equal(wb_params_count(q), wb_params_count(p) - 1);
    assert_false(wb_params_has(q, "other"));
    assert_int_equal(wb_params_int(q, "k"), -42);
    assert_true(wb_params_int(q, "big") == INT64_MIN);
    assert_true(wb_params_num(q, "tol") == 0.1);
    assert_true(isnan(wb_params_num(q, "nan")));
    assert_true(wb_params_bool(q, "flag"));
    assert_string_equal(wb_params_str(q, "init"), "k-means++");
    assert_string_equal(wb_params_str(q, "empty"), "");
    int64_t r, c;
    const double *a = wb_params_array(q, "centers", &r, &c), *a0 = wb_params_array(p, "centers", NULL, NULL);
    assert_int_equal(r, 2);
    assert_int_equal(c, 3);
    assert_memory_equal(a, a0, 6 * sizeof(double)); /* bit for bit: -0, NaN, subnormal */
    assert_non_null(wb_params_array(q, "none", &r, &c));
    assert_int_equal(r, 0);
    assert_int_equal(c, 3);
    assert_ok(wb_params_encode(q, &b2));
    assert_int_equal(b.len, b2.len);
    assert_memory_equal(b.p, b2.p, b.len);
    /* a copy is equal too */
    wb_params *cp = wb_params_copy(p);
    wb_buf b3 = {0};
    assert_ok(wb_params_encode(cp, &b3));
    assert_int_equal(b3.len, b.len);
    assert_memory_equal(b3.p, b.p, b.len);
    assert_string_equal(wb_params_format(cp, "other", (char[32]){0}, 32), "table");
    wb_params_free(cp);
    wb_buf_free(&b3);
    wb_buf_free(&b2);
    wb_params_free(q);
    /* an empty set */
    wb_buf e = {0};
    assert_ok(wb_params_encode(NULL, &e));
    assert_ok(wb_params_decode(e.p, e.len, &q));
    assert_int_equal(wb_params_count(q), 0);
    wb_params_free(q);
    wb_buf_free(&e);
    wb_buf_free(&b);
    wb_params_free(p);
}

static void decode_rejects_malformed(void **state)
{
    (void)state;
    wb_params *p = sample();
    wb_buf b = {0};
    assert_ok(wb_params_encode(p, &b));
    wb_params_free(p);
    wb_params *q = (wb_params *)1;
    /* every truncation */
    for (size_t k = 0; k < b.len; k++) {
        unsigned char *cut = malloc(k ? k : 1);
        memcpy(cut, b.p, k);
        assert_int_equal(wb_params_decode(cut, k, &q), WB_EFORMAT);
        assert_null(q);
        free(cut);
    }
    assert_err(wb_params_decode(b.p, 3, &q), WB_EFORMAT, "parameters: bad header");
    /* trailing bytes */
    unsigned char *more = malloc(b.len + 1);
    memcpy(more, b.p, b.len);
    more[b.len] = 0;
    assert_err(wb_params_decode(more, b.len + 1, &q), WB_EFORMAT, "parameters: malformed encoding");
    free(more);
    /* oversized counts */
    unsigned char *m = malloc(b.len);
    memcpy(m, b.p, b.len);
    uint32_t huge = 0xffffffffu;
    memcpy(m + 4, &huge, 4);
    assert_err(wb_params_decode(m, b.len, &q), WB_EFORMAT, "parameters: 4294967295 values is too many");
    uint32_t ten = 10; /* one more value than there is */
    memcpy(m + 4, &ten, 4);
    assert_err(wb_params_decode(m, b.len, &q), WB_EFORMAT, "parameters: malformed encoding");
    free(m);
    /* an array claiming more rows than the bytes hold */
    wb_params *a = wb_params_new();
    double v[2] = {1, 2};
    wb_params_set_array(a, "m", v, 1, 2);
    wb_buf ab = {0};
    wb_params_encode(a, &ab);
    wb_params_free(a);
    int64_t rows = INT64_MAX / 2;
    memcpy(ab.p + 4 + 4 + 2 + 1 + 1, &rows, 8);
    assert_err(wb_params_decode(ab.p, ab.len, &q), WB_EFORMAT, "parameters: malformed encoding");
    rows = -1;
    memcpy(ab.p + 4 + 4 + 2 + 1 + 1, &rows, 8);
    assert_err(wb_params_decode(ab.p, ab.len, &q), WB_EFORMAT, "parameters: malformed encoding");
    wb_buf_free(&ab);
    /* random bytes and random mutations: refused or decoded, never a crash */
    uint64_t s = 99;
    int decoded = 0;
    for (int round = 0; round < 20000; round++) {
        size_t n = b.len;
        unsigned char *r = malloc(n);
        memcpy(r, b.p, n);
        if (round % 2) {
            for (size_t i = 0; i < n; i++) r[i] = (unsigned char)wbt_next(&s);
            if (round % 4 == 1) memcpy(r, "WBP1", 4);
        } else {
            int flips = 1 + (int)(wbt_next(&s) % 4);
            for (int f = 0; f < flips; f++) r[wbt_next(&s) % n] = (unsigned char)wbt_next(&s);
        }
        size_t len = round % 3 ? n : (size_t)(wbt_next(&s) % n);
        int rc = wb_params_decode(r, len, &q);
        assert_true(rc == 0 || rc == WB_EFORMAT);
        if (!rc) {
            decoded++;
            wb_buf again = {0};
            assert_ok(wb_params_encode(q, &again)); /* whatever decoded, encodes */
            wb_buf_free(&again);
            wb_params_free(q);
        }
        free(r);
    }
    assert_true(decoded > 0); /* some mutations only touch values */
    wb_buf_free(&b);
}

/* "did you mean": the closest name within a few edits, never the name itself */
static void closest_names(void **state)
{
    (void)state;
    assert_int_equal(wb_edit_distance("kmean", "kmeans"), 1);
    assert_int_equal(wb_edit_distance("trees", "n_trees"), 2);
    assert_int_equal(wb_edit_distance("mxa_iter", "max_iter"), 1); /* a swap is one edit */
    assert_int_equal(wb_edit_distance("", "abc"), 3);
    const char *est[] = {"gbdt", "kmeans", "logreg", "sgd", "pca", "scaler"};
    assert_string_equal(wb_closest("kmean", est, 6), "kmeans");
    assert_string_equal(wb_closest("KMeans", est, 6), "kmeans");
    assert_string_equal(wb_closest("scalar", est, 6), "scaler");
    assert_null(wb_closest("kmeans", est, 6));  /* the name itself: nothing to suggest */
    assert_null(wb_closest("logit", est, 6));   /* three edits from logreg: too far for 5 letters */
    assert_null(wb_closest("xy", est, 6));
    assert_null(wb_closest("", est, 6));
    const char *params[] = {"n_trees", "max_leaves", "max_depth", "learning_rate"};
    assert_string_equal(wb_closest("trees", params, 4), "n_trees");
    assert_string_equal(wb_closest("max_deph", params, 4), "max_depth");
    assert_string_equal(wb_closest("learningrate", params, 4), "learning_rate");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(integer_ranges),      cmocka_unit_test(number_ranges),
        cmocka_unit_test(nonfinite_values),    cmocka_unit_test(nonfinite_in_every_schema),
        cmocka_unit_test(choices_types_and_names), cmocka_unit_test(defaults_filled),
        cmocka_unit_test(schema_descriptions), cmocka_unit_test(bad_defaults),
        cmocka_unit_test(names_are_needed),    cmocka_unit_test(closest_names),
        cmocka_unit_test(encode_round_trip),   cmocka_unit_test(decode_rejects_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
