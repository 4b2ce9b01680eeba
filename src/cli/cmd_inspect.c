/* cmd_inspect.c - `snitch inspect`: what a model file holds; feature
 * importances; one tree as Graphviz dot (seed 000's tree figure). */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "model/model.h"

static const char usage_text[] =
    "usage: snitch inspect MODEL.snm [--importance] [--tree K --dot FILE]\n"
    "\n"
    "  --importance           feature importances (mean decrease in impurity)\n"
    "  --tree K --dot FILE    write tree K (0-based) in Graphviz dot form\n"
    "                         (render: dot -Tsvg FILE -o tree.svg)\n"
    "  --force                replace FILE if it exists\n";

typedef struct imp {
    double v;
    size_t i;
} imp;

static int by_value(const void *a, const void *b)
{
    const imp *x = a, *y = b;
    return x->v < y->v ? 1 : x->v > y->v ? -1 : (x->i > y->i) - (x->i < y->i);
}

static void print_net(const char *head, const nn_net *n)
{
    const nn_net_config *c = &n->cfg;
    printf("%s%s, %zu steps x %zu channel%s, %zu weights, dropout %g", head,
           nn_arch_name(c->arch), c->steps, c->channels, c->channels > 1 ? "s" : "",
           nn_net_nparams(n), (double)c->dropout);
    if (c->arch == NN_ARCH_GRU)
        printf(", %zu GRU units", c->units);
    for (size_t i = 0; i < c->channels; i++)
        if (c->standardize[i])
            printf("; channel %zu standardized (mean %g, sd %g)", i, (double)n->mean[i],
                   (double)n->sd[i]);
    printf("\n");
}

int cmd_inspect(int argc, char **argv)
{
    static const struct option opts[] = {
        {"importance", no_argument, 0, 'I'},
        {"tree", required_argument, 0, 'T'},
        {"dot", required_argument, 0, 'D'},
        {"force", no_argument, 0, 'F'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    int importance = 0, force = 0, c;
    uint64_t tree = 0;
    int have_tree = 0;
    const char *dot = NULL;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'I': importance = 1; break;
        case 'T':
            if (cli_uint("inspect", "--tree", optarg, 1000000, &tree) < 0)
                return EXIT_USAGE;
            have_tree = 1;
            break;
        case 'D': dot = optarg; break;
        case 'F': force = 1; break;
        case 'h': fputs(usage_text, stdout); return EXIT_OK;
        default: fputs(usage_text, stderr); return EXIT_USAGE;
        }
    }
    if (optind != argc - 1 || (dot && !have_tree) || (have_tree && !dot)) {
        fprintf(stderr, "snitch inspect: give one MODEL.snm (and --tree K with --dot FILE)\n%s",
                usage_text);
        return EXIT_USAGE;
    }
    snitch_err e = {""};
    model *m = model_load(argv[optind], &e);
    if (!m) {
        fprintf(stderr, "snitch inspect: %s\n", e.msg);
        return EXIT_FAIL;
    }
    int rc = EXIT_OK;
    printf("model       %s\n", argv[optind]);
    printf("kind        %s\n", model_kind_name(m->kind));
    printf("trained on  %llu rows; %s\n", (unsigned long long)m->train_rows, m->description);
    printf("labels      %s\n", m->label_mode[0] ? m->label_mode : "(labeling mode not recorded)");
    printf("features    %zu:", m->nfeat);
    for (size_t i = 0; i < m->nfeat && i < 8; i++)
        printf(" %s", m->feat[i]);
    printf("%s\n", m->nfeat > 8 ? " ..." : "");
    printf("classes     %zu:", m->nclasses);
    for (size_t i = 0; i < m->nclasses && i < 8; i++)
        printf(" %s", m->classes[i]);
    printf("%s\n", m->nclasses > 8 ? " ..." : "");
    /* The forest to show: the model itself, or an ensemble's forest member. */
    model *fm = m->kind == MODEL_FOREST ? m : NULL;
    if (m->kind == MODEL_FOREST)
        printf("forest      %d trees, %zu nodes\n", forest_ntrees(m->forest), forest_nnodes(m->forest));
    if (m->kind == MODEL_NET)
        print_net("network    ", m->net);
    for (size_t i = 0; i < m->nmembers; i++) {
        model *mb = m->members[i];
        printf("member %-4zu weight %.4f, ", i + 1, m->weights[i]);
        if (mb->kind == MODEL_FOREST) {
            printf("forest of %d trees, %zu nodes, %zu features\n", forest_ntrees(mb->forest),
                   forest_nnodes(mb->forest), mb->nfeat);
            if (!fm)
                fm = mb;
        } else {
            print_net("", mb->net);
        }
    }
    if ((importance || dot) && !fm) {
        fprintf(stderr, "snitch inspect: %s: --importance and --tree/--dot need a forest; this is "
                        "a %s without one\n", argv[optind], model_kind_name(m->kind));
        model_free(m);
        return EXIT_USAGE;
    }
    if (fm && fm != m)
        printf("(--importance and --tree use member forest)\n");
    model *whole = m;
    if (fm)
        m = fm;
    if (importance) {
        double *v = malloc(m->nfeat * sizeof *v);
        imp *order = malloc(m->nfeat * sizeof *order);
        if (!v || !order) {
            fprintf(stderr, "snitch inspect: out of memory\n");
            rc = EXIT_FAIL;
        } else {
            forest_importances(m->forest, v);
            for (size_t i = 0; i < m->nfeat; i++)
                order[i] = (imp){v[i], i};
            qsort(order, m->nfeat, sizeof *order, by_value);
            printf("\nimportance  (mean decrease in impurity)\n");
            for (size_t i = 0; i < m->nfeat; i++)
                printf("  %-20s %.5f\n", m->feat[order[i].i], order[i].v);
        }
        free(v);
        free(order);
    }
    if (rc == EXIT_OK && dot) {
        if ((int)tree >= forest_ntrees(m->forest)) {
            fprintf(stderr, "snitch inspect: --tree %llu: the forest has trees 0 to %d\n",
                    (unsigned long long)tree, forest_ntrees(m->forest) - 1);
            rc = EXIT_USAGE;
        } else {
            outfile of;
            if (outfile_open(&of, "inspect", dot, force) < 0) {
                rc = EXIT_FAIL;
            } else if (forest_tree_dot(m->forest, (int)tree, (const char *const *)m->feat,
                                       (const char *const *)m->classes, of.f) < 0) {
                fprintf(stderr, "snitch inspect: writing '%s' failed\n", dot);
                outfile_abort(&of);
                rc = EXIT_FAIL;
            } else if (outfile_commit(&of, "inspect") < 0) {
                rc = EXIT_FAIL;
            } else {
                printf("\ntree %llu written to %s\n", (unsigned long long)tree, dot);
            }
        }
    }
    model_free(whole);
    return rc;
}
