/* test_table.c - the feature-table reader: columns by contract name, the
 * label classes, RFC 4180 details, every error with its place, keeping
 * labeled rows, and a large table read back exactly. */
#include "check.h"

#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "table/table.h"

static char tmpdir[64];
static char path_buf[128];

/* Write text (n bytes; (size_t)-1 = strlen) to the test directory. */
static const char *write_file(const char *name, const char *text, size_t n)
{
    snprintf(path_buf, sizeof path_buf, "%s/%s", tmpdir, name);
    FILE *f = fopen(path_buf, "wb");
    if (!f)
        return path_buf;
    fwrite(text, 1, n == (size_t)-1 ? strlen(text) : n, f);
    fclose(f);
    return path_buf;
}

static int read_text(const char *text, const table_spec *spec, table *t, snitch_err *e)
{
    return table_read(write_file("t.csv", text, (size_t)-1), spec, t, e);
}

/* The error a text gives, with the directory cut off the path. */
static const char *error_of(const char *text, const table_spec *spec)
{
    static snitch_err e;
    table t;
    e.msg[0] = 0;
    if (read_text(text, spec, &t, &e) == 0) {
        table_free(&t);
        return "(no error)";
    }
    size_t n = strlen(tmpdir);
    return strncmp(e.msg, tmpdir, n) == 0 && e.msg[n] == '/' ? e.msg + n + 1 : e.msg;
}

static const table_spec all_id = { NULL, 0, 0, 1 };

static void test_family_names(void)
{
    CHECK_EQ_INT(table_feature_family("pkt_fwd_num"), TABLE_STATS);
    CHECK_EQ_INT(table_feature_family("pay_bwd_var"), TABLE_STATS);
    CHECK_EQ_INT(table_feature_family("iat_all_p75"), TABLE_STATS);
    CHECK_EQ_INT(table_feature_family("pkt_all_p25"), TABLE_STATS);
    CHECK_EQ_INT(table_feature_family("iat_all_max"), 0);    /* not in the contract */
    CHECK_EQ_INT(table_feature_family("pay_all_p50"), 0);
    CHECK_EQ_INT(table_feature_family("pkt_fwd_p90"), 0);
    CHECK_EQ_INT(table_feature_family("size_0"), TABLE_SEQ);
    CHECK_EQ_INT(table_feature_family("payload_24"), TABLE_SEQ);
    CHECK_EQ_INT(table_feature_family("iat_7"), TABLE_SEQ);
    CHECK_EQ_INT(table_feature_family("dir_0"), TABLE_SEQ);
    CHECK_EQ_INT(table_feature_family("dir_010"), TABLE_SEQ);
    CHECK_EQ_INT(table_feature_family("size_"), 0);
    CHECK_EQ_INT(table_feature_family("size_+1"), 0);
    CHECK_EQ_INT(table_feature_family("size_-1"), 0);
    CHECK_EQ_INT(table_feature_family("size_1a"), 0);
    CHECK_EQ_INT(table_feature_family("size_ 1"), 0);
    CHECK_EQ_INT(table_feature_family("seq_1"), 0);
    CHECK_EQ_INT(table_feature_family("size"), TABLE_WINDOW);
    CHECK_EQ_INT(table_feature_family("dt_prev"), TABLE_WINDOW);
    CHECK_EQ_INT(table_feature_family("tx_pkts"), TABLE_WINDOW);
    CHECK_EQ_INT(table_feature_family("rx_std"), TABLE_WINDOW);
    CHECK_EQ_INT(table_feature_family("dir"), 0);
    CHECK_EQ_INT(table_feature_family("ts"), 0);
    CHECK_EQ_INT(table_feature_family("label"), 0);
    CHECK_EQ_INT(table_feature_family("sni"), 0);
    CHECK_EQ_INT(table_feature_family("flow_id"), 0);
    CHECK_EQ_INT(table_feature_family(""), 0);
    CHECK_EQ_INT(table_feature_family("PKT_FWD_NUM"), 0);
}

static const char mixed_csv[] =
    "flow_id,sni,label,pkt_fwd_num,size_0,pkt_bwd_max,size_1,dir_0,ech,payload_0,iat_0\n"
    "0,a.com,a.com,3,100,1500,200,1,0,50,0.5\n"
    "1,b.com,b.com,4,101,1400,201,-1,0,51,1.5\n";

static void test_stats_seq_columns(void)
{
    table t;
    snitch_err e;
    /* Every family: file order. */
    CHECK_EQ_INT(read_text(mixed_csv, NULL, &t, &e), 0);
    CHECK_EQ_INT(t.nfeat, 7);
    CHECK_EQ_INT(t.nrows, 2);
    const char *want[] = { "pkt_fwd_num", "size_0", "pkt_bwd_max", "size_1", "dir_0",
                           "payload_0", "iat_0" };
    for (size_t j = 0; j < 7 && j < t.nfeat; j++)
        CHECK_EQ_STR(t.feat[j], want[j]);
    CHECK_EQ_INT(t.nid, 0);
    CHECK(t.id_names == NULL && t.id_text == NULL);
    float row1[] = { 4, 101, 1400, 201, -1, 51, 1.5f };
    for (size_t j = 0; j < 7; j++)
        CHECK(t.x[t.nfeat + j] == row1[j]);
    table_free(&t);

    /* Statistics only. */
    table_spec sp = { NULL, 0, TABLE_STATS, 1 };
    CHECK_EQ_INT(read_text(mixed_csv, &sp, &t, &e), 0);
    CHECK_EQ_INT(t.nfeat, 2);
    CHECK_EQ_STR(t.feat[0], "pkt_fwd_num");
    CHECK_EQ_STR(t.feat[1], "pkt_bwd_max");
    CHECK(t.x[0] == 3 && t.x[1] == 1500 && t.x[2] == 4 && t.x[3] == 1400);
    /* Identity: not the seq columns, though they were not chosen. */
    CHECK_EQ_INT(t.nid, 4);
    CHECK_EQ_STR(t.id_names[0], "flow_id");
    CHECK_EQ_STR(t.id_names[1], "sni");
    CHECK_EQ_STR(t.id_names[2], "label");
    CHECK_EQ_STR(t.id_names[3], "ech");
    CHECK_EQ_STR(t.id_text[1], "1,b.com,b.com,0");
    table_free(&t);

    /* Sequences only. */
    sp.families = TABLE_SEQ;
    CHECK_EQ_INT(read_text(mixed_csv, &sp, &t, &e), 0);
    CHECK_EQ_INT(t.nfeat, 5);
    CHECK_EQ_STR(t.feat[0], "size_0");
    CHECK_EQ_STR(t.feat[1], "size_1");
    CHECK_EQ_STR(t.feat[2], "dir_0");
    CHECK_EQ_STR(t.feat[4], "iat_0");
    CHECK(t.x[0] == 100 && t.x[2] == 1 && t.x[4] == 0.5f);
    table_free(&t);

    /* Stats + seq = all here. */
    sp.families = TABLE_STATS | TABLE_SEQ;
    CHECK_EQ_INT(read_text(mixed_csv, &sp, &t, &e), 0);
    CHECK_EQ_INT(t.nfeat, 7);
    table_free(&t);

    /* Window asked, none there. */
    sp.families = TABLE_WINDOW;
    CHECK_EQ_STR(error_of(mixed_csv, &sp),
                 "t.csv: no feature columns (expected the output of snitch extract)");
}

static void test_window_columns(void)
{
    const char *csv =
        "flow_id,ts,dir,label,dt_prev,size,rx_bytes,tx_bytes,rx_mean,tx_mean,rx_std,tx_std,"
        "rx_pkts,tx_pkts\n"
        "52,1700000000.246848000,1,cdn.x.io,0,60,0,0,0,0,0,0,0,0\n"
        "52,1700000000.274238000,-1,cdn.x.io,0.02739,1500,60,0,60,0,0,0,1,0\n";
    table t;
    snitch_err e;
    CHECK_EQ_INT(read_text(csv, &all_id, &t, &e), 0);
    CHECK_EQ_INT(t.nfeat, 10);
    CHECK_EQ_STR(t.feat[0], "dt_prev");
    CHECK_EQ_STR(t.feat[1], "size");
    CHECK_EQ_STR(t.feat[9], "tx_pkts");
    CHECK_EQ_INT(t.nid, 4);
    CHECK_EQ_STR(t.id_names[2], "dir");
    CHECK_EQ_STR(t.id_text[1], "52,1700000000.274238000,-1,cdn.x.io");
    CHECK(t.x[10] == 0.02739f && t.x[11] == 1500 && t.x[12] == 60 && t.x[18] == 1);
    CHECK_EQ_INT(t.nclasses, 1);
    table_free(&t);
}

static void test_spec_features(void)
{
    const char *names[] = { "pkt_bwd_max", "pkt_fwd_num", "iat_0" };
    table_spec sp = { names, 3, TABLE_WINDOW /* ignored */, 0 };
    table t;
    snitch_err e;
    CHECK_EQ_INT(read_text(mixed_csv, &sp, &t, &e), 0);
    CHECK_EQ_INT(t.nfeat, 3);
    CHECK_EQ_STR(t.feat[0], "pkt_bwd_max");
    CHECK_EQ_STR(t.feat[1], "pkt_fwd_num");
    CHECK_EQ_STR(t.feat[2], "iat_0");
    CHECK(t.x[0] == 1500 && t.x[1] == 3 && t.x[2] == 0.5f);
    CHECK(t.x[3] == 1400 && t.x[4] == 4 && t.x[5] == 1.5f);
    table_free(&t);

    const char *missing[] = { "pkt_fwd_num", "pkt_fwd_p25" };
    table_spec sp2 = { missing, 2, 0, 0 };
    CHECK_EQ_STR(error_of(mixed_csv, &sp2),
                 "t.csv: missing feature column 'pkt_fwd_p25' (the model was trained with it)");
}

static void test_header_errors(void)
{
    CHECK_EQ_STR(error_of("flow_id,sni,label,pkt_fwd_num,sni\n0,a,a,1,a\n", NULL),
                 "t.csv:1: duplicate column 'sni'");
    CHECK_EQ_STR(error_of("flow_id,pkt_fwd_num,pkt_fwd_num,label\n", NULL),
                 "t.csv:1: duplicate column 'pkt_fwd_num'");
    CHECK_EQ_STR(error_of("flow_id,sni,pkt_fwd_num\n0,a,1\n", NULL),
                 "t.csv: no 'label' column (expected the output of snitch extract)");
    CHECK_EQ_STR(error_of("flow_id,sni,label\n0,a,a\n", NULL),
                 "t.csv: no feature columns (expected the output of snitch extract)");
    CHECK_EQ_STR(error_of("", NULL), "t.csv: empty file");
    CHECK_EQ_STR(error_of("\xEF\xBB\xBF", NULL), "t.csv: empty file");

    table t;
    snitch_err e;
    CHECK_EQ_INT(table_read("/nonexistent/dir/t.csv", NULL, &t, &e), -1);
    CHECK(strncmp(e.msg, "/nonexistent/dir/t.csv: ", 24) == 0);
    CHECK_EQ_INT(t.nrows, 0);
    CHECK(t.x == NULL);
    table_free(&t);     /* harmless after a failure */

    /* Header only: an empty table, the caller decides. */
    CHECK_EQ_INT(read_text("flow_id,label,size_0,size_1\n", &all_id, &t, &e), 0);
    CHECK_EQ_INT(t.nrows, 0);
    CHECK_EQ_INT(t.nfeat, 2);
    CHECK_EQ_INT(t.nclasses, 0);
    CHECK_EQ_INT(t.nid, 2);
    table_free(&t);
    CHECK_EQ_INT(read_text("flow_id,label,size_0,size_1", NULL, &t, &e), 0);
    CHECK_EQ_INT(t.nrows, 0);
    table_free(&t);
}

static void test_classes(void)
{
    const char *csv =
        "label,size_0\n"
        "b,1\n"
        "a,2\n"
        ",3\n"
        "c,4\n"
        "a,5\n"
        "B,6\n"
        "ab,7\n";
    table t;
    snitch_err e;
    CHECK_EQ_INT(read_text(csv, NULL, &t, &e), 0);
    CHECK_EQ_INT(t.nclasses, 5);
    /* Bytewise: upper case first, a prefix before its extensions. */
    const char *want[] = { "B", "a", "ab", "b", "c" };
    for (size_t k = 0; k < 5 && k < t.nclasses; k++)
        CHECK_EQ_STR(t.classes[k], want[k]);
    int32_t y[] = { 3, 1, -1, 4, 1, 0, 2 };
    CHECK_EQ_INT(t.nrows, 7);
    for (size_t i = 0; i < 7; i++)
        CHECK_EQ_INT(t.y[i], y[i]);
    uint64_t counts[5];
    table_class_counts(&t, counts);
    CHECK_EQ_INT(counts[0], 1);
    CHECK_EQ_INT(counts[1], 2);
    CHECK_EQ_INT(counts[4], 1);
    table_free(&t);

    /* --all-flows output: every label empty. */
    CHECK_EQ_INT(read_text("label,size_0\n,1\n,2\n", NULL, &t, &e), 0);
    CHECK_EQ_INT(t.nclasses, 0);
    CHECK(t.y[0] == -1 && t.y[1] == -1);
    CHECK_EQ_INT(table_keep_labeled(&t, 0, &e), 0);
    CHECK_EQ_INT(t.nrows, 0);
    table_free(&t);
}

static void test_quoted(void)
{
    const char *csv =
        "flow_id,sni,label,size_0,\"size_1\"\n"
        "0,\"a,b.com\",\"x\",1,2\n"
        "1,\"say \"\"hi\"\"\",\"\",3,4\n"
        "2,\"two\nlines\r\nhere\",y,\"5\",6\n"
        "3,\"\",y,7,8\n"
        "4,plain,\"q\"\"\",9,\"1e1\"\n";
    table t;
    snitch_err e;
    CHECK_EQ_INT(read_text(csv, &all_id, &t, &e), 0);
    CHECK_EQ_INT(t.nrows, 5);
    CHECK_EQ_INT(t.nfeat, 2);
    CHECK_EQ_STR(t.feat[1], "size_1");
    CHECK_EQ_INT(t.nid, 3);
    CHECK_EQ_STR(t.id_text[0], "0,\"a,b.com\",x");
    CHECK_EQ_STR(t.id_text[1], "1,\"say \"\"hi\"\"\",");
    CHECK_EQ_STR(t.id_text[2], "2,\"two\nlines\r\nhere\",y");
    CHECK_EQ_STR(t.id_text[3], "3,,y");
    CHECK_EQ_STR(t.id_text[4], "4,plain,\"q\"\"\"");
    CHECK(t.x[4] == 5 && t.x[5] == 6 && t.x[9] == 10);
    CHECK_EQ_INT(t.nclasses, 3);
    CHECK_EQ_STR(t.classes[0], "q\"");
    CHECK_EQ_STR(t.classes[1], "x");
    CHECK_EQ_INT(t.y[1], -1);
    table_free(&t);

    /* Lines count physical lines: the record after the two-line sni. */
    const char *bad =
        "flow_id,sni,label,size_0\n"
        "0,\"a\nb\nc\",x,1\n"
        "1,b,x,zz\n";
    CHECK_EQ_STR(error_of(bad, NULL), "t.csv:5: column 'size_0': 'zz' is not a number");
    /* ... and a cell after a newline inside the same record. */
    const char *bad2 =
        "flow_id,sni,label,size_0\n"
        "0,\"a\nb\",x,q\n";
    CHECK_EQ_STR(error_of(bad2, NULL), "t.csv:3: column 'size_0': 'q' is not a number");
}

static void test_line_ends(void)
{
    const char *crlf = "flow_id,label,size_0\r\n0,a,1\r\n1,\"b\r\nc\",2\r\n";
    table t;
    snitch_err e;
    CHECK_EQ_INT(read_text(crlf, &all_id, &t, &e), 0);
    CHECK_EQ_INT(t.nrows, 2);
    CHECK_EQ_STR(t.id_names[1], "label");
    CHECK_EQ_STR(t.id_text[0], "0,a");
    CHECK_EQ_STR(t.classes[1], "b\r\nc");
    CHECK(t.x[0] == 1 && t.x[1] == 2);
    table_free(&t);

    /* BOM, no final newline. */
    CHECK_EQ_INT(read_text("\xEF\xBB\xBFlabel,size_0\n0,1\n1,2", &all_id, &t, &e), 0);
    CHECK_EQ_INT(t.nrows, 2);
    CHECK_EQ_STR(t.id_names[0], "label");
    CHECK(t.x[1] == 2);
    table_free(&t);
    CHECK_EQ_INT(read_text("label,size_0\r\na,1\r", NULL, &t, &e), 0);
    CHECK_EQ_INT(t.nrows, 1);
    CHECK(t.x[0] == 1);
    table_free(&t);
    CHECK_EQ_INT(read_text("label,size_0,sni\na,1,\"x,y\"\nb,2,\"z\"", NULL, &t, &e), 0);
    CHECK_EQ_INT(t.nrows, 2);
    table_free(&t);
    /* A BOM only counts at the start. */
    CHECK_EQ_STR(error_of("label,size_0\n\xEF\xBB\xBF" "a,1\n", NULL), "(no error)");
    CHECK_EQ_STR(error_of("label,size_0\na,\xEF\xBB\xBF" "1\n", NULL),
                 "t.csv:2: column 'size_0': '\xEF\xBB\xBF" "1' is not a number");
}

static void test_cell_errors(void)
{
    char csv[1024];
    const char *head = "flow_id,label,pkt_fwd_num,pkt_fwd_mean\n";
    /* Row on line 17 after 15 good rows. */
    size_t n = (size_t)snprintf(csv, sizeof csv, "%s", head);
    for (int i = 0; i < 15; i++)
        n += (size_t)snprintf(csv + n, sizeof csv - n, "%d,a,1,2\n", i);
    struct { const char *cell, *msg; } cases[] = {
        { "abc", "t.csv:17: column 'pkt_fwd_mean': 'abc' is not a number" },
        { "nan", "t.csv:17: column 'pkt_fwd_mean': 'nan' is not a finite number" },
        { "NaN", "t.csv:17: column 'pkt_fwd_mean': 'NaN' is not a finite number" },
        { "inf", "t.csv:17: column 'pkt_fwd_mean': 'inf' is not a finite number" },
        { "-Infinity", "t.csv:17: column 'pkt_fwd_mean': '-Infinity' is not a finite number" },
        { "1e39", "t.csv:17: column 'pkt_fwd_mean': '1e39' is out of float range" },
        { "-3.5e38", "t.csv:17: column 'pkt_fwd_mean': '-3.5e38' is out of float range" },
        { "1e999", "t.csv:17: column 'pkt_fwd_mean': '1e999' is out of float range" },
        { "", "t.csv:17: column 'pkt_fwd_mean': empty cell" },
        { "\"\"", "t.csv:17: column 'pkt_fwd_mean': empty cell" },
        { " 1", "t.csv:17: column 'pkt_fwd_mean': ' 1' is not a number" },
        { "1 ", "t.csv:17: column 'pkt_fwd_mean': '1 ' is not a number" },
        { "0x10", "t.csv:17: column 'pkt_fwd_mean': '0x10' is not a number" },
        { "1.2.3", "t.csv:17: column 'pkt_fwd_mean': '1.2.3' is not a number" },
        { "1e", "t.csv:17: column 'pkt_fwd_mean': '1e' is not a number" },
        { "-", "t.csv:17: column 'pkt_fwd_mean': '-' is not a number" },
        { ".", "t.csv:17: column 'pkt_fwd_mean': '.' is not a number" },
        { "\"1\n\"", "t.csv:17: column 'pkt_fwd_mean': '1?' is not a number" },
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        char buf[4096];
        snprintf(buf, sizeof buf, "%s15,b,1,%s\n16,c,1,1\n", csv, cases[k].cell);
        CHECK_EQ_STR(error_of(buf, NULL), cases[k].msg);
    }
    /* The first feature column too, and limits that are fine. */
    char buf[4096];
    snprintf(buf, sizeof buf, "%s15,b,x1,2\n", csv);
    CHECK_EQ_STR(error_of(buf, NULL), "t.csv:17: column 'pkt_fwd_num': 'x1' is not a number");
    snprintf(buf, sizeof buf, "%s15,b,3.4028234e38,-1e-50\n16,b,+2,-0\n", csv);
    table t;
    snitch_err e;
    CHECK_EQ_INT(read_text(buf, NULL, &t, &e), 0);
    CHECK(t.x[30] == 3.4028234e38f && t.x[31] == 0 && t.x[32] == 2);
    table_free(&t);
}

static void test_structure_errors(void)
{
    const char *head = "flow_id,label,pkt_fwd_num,pkt_fwd_mean\n";
    char buf[1024];
    snprintf(buf, sizeof buf, "%s0,a,1,2\n1,a,1,2,3\n", head);
    CHECK_EQ_STR(error_of(buf, NULL), "t.csv:3: 5 fields, the header has 4");
    snprintf(buf, sizeof buf, "%s0,a,1,2\n1,a,1\n", head);
    CHECK_EQ_STR(error_of(buf, NULL), "t.csv:3: 3 fields, the header has 4");
    snprintf(buf, sizeof buf, "%s0,a,1,2\n1,a,1,2,\n", head);
    CHECK_EQ_STR(error_of(buf, NULL), "t.csv:3: 5 fields, the header has 4");
    snprintf(buf, sizeof buf, "%s0,a,1,2\n\n1,a,1,2\n", head);
    CHECK_EQ_STR(error_of(buf, NULL), "t.csv:3: empty line, the header has 4 fields");
    snprintf(buf, sizeof buf, "%s0,a,1,2\n\n", head);
    CHECK_EQ_STR(error_of(buf, NULL), "t.csv:3: empty line, the header has 4 fields");
    snprintf(buf, sizeof buf, "%s0,a,1,2\r\n1,\"a\r\n", head);
    CHECK_EQ_STR(error_of(buf, NULL),
                 "t.csv:3: unterminated quoted field (it starts on this line and runs to "
                 "the end of the file)");
    snprintf(buf, sizeof buf, "%s0,a,1,2\n1,a,1,2\nb,\"c\nd\n\ne,1\n", head);
    CHECK_EQ_STR(error_of(buf, NULL),
                 "t.csv:4: unterminated quoted field (it starts on this line and runs to "
                 "the end of the file)");
    snprintf(buf, sizeof buf, "%s0,a,1,2\n1,a\"b,1,2\n2,a,1,2\n", head);
    CHECK_EQ_STR(error_of(buf, NULL), "t.csv:3: column 'label': quote inside an unquoted field");
    snprintf(buf, sizeof buf, "%s0,a,1,2\n1,\"a\"b,1,2\n", head);
    CHECK_EQ_STR(error_of(buf, NULL), "t.csv:3: column 'label': text after a closing quote");
    CHECK_EQ_STR(error_of("label,\"size_0\"x\n", NULL),
                 "t.csv:1: field 2: text after a closing quote");
    CHECK_EQ_STR(error_of("label,size_0\n\"a,1\n", NULL),
                 "t.csv:2: unterminated quoted field (it starts on this line and runs to "
                 "the end of the file)");
}

static void test_keep_labeled(void)
{
    const char *csv =
        "flow_id,label,size_0\n"
        "0,b,0\n"
        "1,a,1\n"
        "2,,2\n"
        "3,c,3\n"
        "4,b,4\n"
        "5,a,5\n"
        "6,b,6\n"
        "7,,7\n";
    table t;
    snitch_err e;
    CHECK_EQ_INT(read_text(csv, &all_id, &t, &e), 0);
    CHECK_EQ_INT(table_keep_labeled(&t, 1, &e), 0);
    CHECK_EQ_INT(t.nrows, 6);
    CHECK_EQ_INT(t.nclasses, 3);
    table_free(&t);

    CHECK_EQ_INT(read_text(csv, &all_id, &t, &e), 0);
    CHECK_EQ_INT(table_keep_labeled(&t, 2, &e), 0);
    CHECK_EQ_INT(t.nclasses, 2);
    CHECK_EQ_STR(t.classes[0], "a");
    CHECK_EQ_STR(t.classes[1], "b");
    CHECK_EQ_INT(t.nrows, 5);
    float xs[] = { 0, 1, 4, 5, 6 };
    int32_t ys[] = { 1, 0, 1, 0, 1 };
    const char *ids[] = { "0,b", "1,a", "4,b", "5,a", "6,b" };
    for (size_t i = 0; i < 5; i++) {
        CHECK(t.x[i] == xs[i]);
        CHECK_EQ_INT(t.y[i], ys[i]);
        CHECK_EQ_STR(t.id_text[i], ids[i]);
    }
    table_free(&t);

    CHECK_EQ_INT(read_text(csv, NULL, &t, &e), 0);
    CHECK_EQ_INT(table_keep_labeled(&t, 3, &e), 0);
    CHECK_EQ_INT(t.nclasses, 1);
    CHECK_EQ_STR(t.classes[0], "b");
    CHECK_EQ_INT(t.nrows, 3);
    CHECK(t.x[0] == 0 && t.x[1] == 4 && t.x[2] == 6);
    CHECK(t.y[0] == 0 && t.y[2] == 0);
    CHECK_EQ_INT(table_keep_labeled(&t, 4, &e), 0);
    CHECK_EQ_INT(t.nclasses, 0);
    CHECK_EQ_INT(t.nrows, 0);
    table_free(&t);
}

/* A value in one of the forms extract (or a person) writes. */
static void fmt_value(char *buf, size_t n, uint64_t r)
{
    double v = (double)(r >> 11) / 9007199254740992.0;     /* [0, 1) */
    switch (r % 7) {
    case 0: snprintf(buf, n, "%.17g", v * 1e6); break;
    case 1: snprintf(buf, n, "%g", v * 1500); break;
    case 2: snprintf(buf, n, "%d", (int)(r >> 40) % 3000 - 1500); break;
    case 3: snprintf(buf, n, "%.6f", v / 1000); break;
    case 4: snprintf(buf, n, "%.15e", -v * 1e-7); break;
    case 5: snprintf(buf, n, "%.17g", v * 1e30); break;
    default: snprintf(buf, n, "%.3f", v * 100000); break;
    }
}

static void test_big_round_trip(void)
{
    enum { ROWS = 100000, NF = 6 };
    snprintf(path_buf, sizeof path_buf, "%s/big.csv", tmpdir);
    FILE *f = fopen(path_buf, "wb");
    CHECK(f != NULL);
    if (!f)
        return;
    static float want[ROWS][NF];
    uint64_t r = 88172645463325252ull;
    fputs("flow_id,sni,pkt_fwd_num,label,iat_all_p50,size_0,dt_prev,pay_bwd_var,size_1\n", f);
    for (size_t i = 0; i < ROWS; i++) {
        fprintf(f, "%zu,", i);
        if (i % 97 == 0)        /* quoted newlines now and then, across block ends */
            fprintf(f, "\"s\n%zu,\"\"x\"\"\",", i);
        else
            fprintf(f, "s%zu.example,", i);
        char cell[NF][64];
        for (size_t j = 0; j < NF; j++) {
            r ^= r << 13; r ^= r >> 7; r ^= r << 17;
            fmt_value(cell[j], sizeof cell[j], r);
            want[i][j] = (float)strtod(cell[j], NULL);
        }
        fprintf(f, "%s,c%zu,%s,%s,%s,%s,%s%s", cell[0], i % 13, cell[1], cell[2], cell[3],
                cell[4], cell[5], i % 2 ? "\r\n" : "\n");
    }
    fclose(f);
    table t;
    snitch_err e;
    table_spec sp = { NULL, 0, 0, 1 };
    CHECK_EQ_INT(table_read(path_buf, &sp, &t, &e), 0);
    CHECK_EQ_INT(t.nrows, ROWS);
    CHECK_EQ_INT(t.nfeat, NF);
    CHECK_EQ_INT(t.nclasses, 13);
    size_t bad = 0;
    for (size_t i = 0; i < t.nrows && i < ROWS; i++)
        for (size_t j = 0; j < NF; j++)
            bad += memcmp(&t.x[i * NF + j], &want[i][j], sizeof(float)) != 0;
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_STR(t.classes[t.y[ROWS - 1]], "c3");     /* 99999 % 13 == 3 */
    CHECK_EQ_STR(t.id_text[97 * 5], "485,\"s\n485,\"\"x\"\"\",c4");
    CHECK_EQ_STR(t.id_text[98], "98,s98.example,c7");
    table_free(&t);

    /* A bad cell deep in it reports its physical line. */
    f = fopen(path_buf, "ab");
    fputs("100000,s,1,c,2,3,4,5,oops\n", f);
    fclose(f);
    CHECK_EQ_INT(table_read(path_buf, &sp, &t, &e), -1);
    char want_msg[256];
    /* 1 header + ROWS rows + one extra line per quoted sni. */
    snprintf(want_msg, sizeof want_msg, "%s:%d: column 'size_1': 'oops' is not a number",
             path_buf, 1 + ROWS + (ROWS + 96) / 97 + 1);
    CHECK_EQ_STR(e.msg, want_msg);
}

static void test_long_record(void)
{
    /* One sni longer than the read block: the buffer grows. */
    size_t n = 3u << 20;
    char *csv = malloc(n + 100);
    CHECK(csv != NULL);
    if (!csv)
        return;
    size_t k = (size_t)sprintf(csv, "label,sni,size_0\na,\"");
    for (size_t i = 0; i < n; i++)
        csv[k++] = i % 1000 == 999 ? '\n' : i % 500 == 3 ? ',' : 'x';
    k += (size_t)sprintf(csv + k, "\",7\nb,y,8\n");
    table t;
    snitch_err e;
    CHECK_EQ_INT(table_read(write_file("long.csv", csv, k), &all_id, &t, &e), 0);
    CHECK_EQ_INT(t.nrows, 2);
    CHECK(t.nrows == 2 && t.x[0] == 7 && t.x[1] == 8);
    CHECK(t.nrows == 2 && strlen(t.id_text[0]) == n + 4);
    table_free(&t);
    free(csv);
}

/* A quoted field with an escaped quote and a CRLF inside, then a CRLF
 * line end, starting at byte `at` of the file. */
static void boundary_case(char *csv, size_t at)
{
    const char *row2 = "b,\"q\"\"r\r\ns,t\",2\r\n";
    size_t k = (size_t)sprintf(csv, "label,sni,size_0\na,");
    size_t fill = at - k - 3;
    memset(csv + k, 'f', fill);
    k += fill;
    k += (size_t)sprintf(csv + k, ",1\n%s", row2);
    table t;
    snitch_err e;
    int rc = table_read(write_file("t.csv", csv, k), &all_id, &t, &e);
    CHECK_EQ_INT(rc, 0);
    if (rc)
        return;
    CHECK_EQ_INT(t.nrows, 2);
    CHECK(t.nrows == 2 && t.x[0] == 1 && t.x[1] == 2);
    CHECK(t.nrows == 2 && !strcmp(t.id_text[1], "b,\"q\"\"r\r\ns,t\""));
    table_free(&t);
}

static void test_block_boundaries(void)
{
    /* Move the tricky row across the first refills (the buffer starts
     * small) and across the 1 MiB mark, a byte at a time, so every
     * construct in it meets a refill point. */
    const size_t block = 1u << 20;
    char *csv = malloc(block + 256);
    CHECK(csv != NULL);
    if (!csv)
        return;
    for (size_t at = 200; at < 600; at++)
        boundary_case(csv, at);
    for (size_t at = block - 24; at < block + 40; at++)
        boundary_case(csv, at);
    /* A broken number after such a row: the line is still right. */
    size_t k = (size_t)sprintf(csv, "label,sni,size_0\na,");
    memset(csv + k, 'f', block - 30);
    k += block - 30;
    k += (size_t)sprintf(csv + k, ",1\nb,\"x\ny\",1\nc,d,e\n");
    table t;
    snitch_err e;
    CHECK_EQ_INT(table_read(write_file("t.csv", csv, k), NULL, &t, &e), -1);
    CHECK(strstr(e.msg, "t.csv:5: column 'size_0': 'e' is not a number") != NULL);
    free(csv);
}

static void test_stdin_and_stream(void)
{
    const char *p = write_file("in.csv", "label,size_0\na,1\n", (size_t)-1);
    table t;
    snitch_err e;
    if (freopen(p, "r", stdin)) {
        CHECK_EQ_INT(table_read("-", NULL, &t, &e), 0);
        CHECK_EQ_INT(t.nrows, 1);
        CHECK_EQ_STR(t.path, "<stdin>");
        table_free(&t);
    }
    p = write_file("in.csv", "label,size_0\na,x\n", (size_t)-1);
    if (freopen(p, "r", stdin)) {
        CHECK_EQ_INT(table_read("-", NULL, &t, &e), -1);
        CHECK_EQ_STR(e.msg, "<stdin>:2: column 'size_0': 'x' is not a number");
    }
    static char text[] = "label,size_0\nz,5\n";
    FILE *f = fmemopen(text, strlen(text), "r");
    CHECK(f != NULL);
    if (f) {
        CHECK_EQ_INT(table_read_file(f, "mem", NULL, &t, &e), 0);
        CHECK_EQ_STR(t.path, "mem");
        CHECK(t.nrows == 1 && t.x[0] == 5);
        table_free(&t);
        fclose(f);
    }
}

static void cleanup(void)
{
    const char *names[] = { "t.csv", "big.csv", "long.csv", "in.csv" };
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        snprintf(path_buf, sizeof path_buf, "%s/%s", tmpdir, names[i]);
        unlink(path_buf);
    }
    rmdir(tmpdir);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_table.XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(test_family_names);
    RUN(test_stats_seq_columns);
    RUN(test_window_columns);
    RUN(test_spec_features);
    RUN(test_header_errors);
    RUN(test_classes);
    RUN(test_quoted);
    RUN(test_line_ends);
    RUN(test_cell_errors);
    RUN(test_structure_errors);
    RUN(test_keep_labeled);
    RUN(test_big_round_trip);
    RUN(test_long_record);
    RUN(test_block_boundaries);
    RUN(test_stdin_and_stream);
    cleanup();
    return check_summary();
}
