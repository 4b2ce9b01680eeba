/* forest.c - Random Forest (CART, Gini) training, prediction, importances,
 * Graphviz export and (de)serialization; see forest.h.
 *
 * Training follows scikit-learn's RandomForestClassifier (BestSplitter,
 * DepthFirstTreeBuilder) so that the two give the same family of models:
 *
 *   - bootstrap as per-row integer counts (n draws with replacement); rows
 *     drawn zero times are not in the tree at all (as in sklearn, where a
 *     zero weight removes the row), so "samples" and min_samples_leaf count
 *     distinct drawn rows while Gini uses weights = count * class weight;
 *   - at each node, features are drawn without replacement; every draw
 *     counts as visited, constant-in-node features are skipped, and the
 *     search stops once max_features draws are done and at least one of
 *     them was non-constant (sklearn's loop condition; it keeps drawing
 *     past max_features only while everything drawn was constant).  Known
 *     constant features are handed down to the children as in sklearn;
 *   - values closer than FEAT_EPS (sklearn's FEATURE_THRESHOLD, float) are
 *     never separated; thresholds are midpoints of consecutive distinct
 *     values; the proxy sum(L_c^2)/wL + sum(R_c^2)/wR (equivalent to the
 *     weighted Gini decrease) picks the split, first best wins ties; any
 *     valid split is taken, even one with zero improvement (sklearn does);
 *   - a node is a leaf when depth == max_depth, it has < 2 or
 *     < 2 * min_samples_leaf rows, it is pure, or no valid split exists.
 *
 * Training speed.  Each feature is ranked once (its sorted distinct values,
 * and for every row the index of its value, 16-bit when n <= 65536), so a
 * node sorts small integers instead of floats: for a candidate feature we
 * gather (rank, position in node) of the node's rows into 64-bit keys and
 * sort them by one counting pass when the node's rank range is narrow, LSD
 * radix passes when it is wide, insertion sort for tiny nodes.  One linear
 * scan then evaluates every threshold with O(1) updates of the left/right
 * sums of squares.  The rows of a node stay contiguous in per-tree arrays
 * (row, class, weight), stably partitioned after each split so that rows
 * stay in increasing order and the gathers walk the rank columns forward.
 * Class sums touch only the classes present in the node (100 classes, a
 * handful per deep node).  Trees are handed to threads through an atomic
 * counter and stored by tree index; tree t seeds its own generator from
 * (seed, t), so the forest is the same for any thread count.
 *
 * Storage: nodes are flat {threshold, feature, left, right} records, node
 * ids in depth-first (preorder) order, so children always follow their
 * parent.  Leaves point to themselves and carry their payload in the
 * threshold's bits (see fnode).  Leaves keep their class distribution
 * sparsely: a pure leaf names its class, a mixed one lists its non-zero
 * classes, because fully grown trees over many classes have thousands of
 * leaves that are nearly all pure: dense k-wide rows would cost hundreds
 * of MB and slow prediction down.  Inner nodes keep only sample count,
 * weighted count and impurity (for importances and dot); forest_tree_dot
 * rebuilds their class counts from the leaves.
 *
 * Prediction walks a second copy of each tree (pnode, built after
 * training and loading), laid out for the walk alone: sibling pairs side
 * by side, children addressed relative to their parent, leaves that hold
 * their payload and stop a row where it is.  Rows go in blocks (one per
 * thread, up to 8192), copied feature-major in groups of eight; for each
 * tree in turn, its nodes are prefetched and the block's rows walk it
 * eight at a time in lockstep, with arithmetic instead of branches (the
 * direction is a coin flip for the branch predictor), so the eight chains
 * of dependent loads overlap.  Each row adds its trees in tree order, so
 * probabilities do not depend on the thread count or the block size.
 *
 * Serialized layout of the FRST section (little-endian, mf_put_*):
 *
 *   u32  layout version (FOREST_LAYOUT = 1)
 *   u32  nfeat                 must equal the caller's
 *   u32  nclasses              must equal the caller's
 *   u32  n_trees               1 .. FOREST_MAX_TREES
 *   i32  max_depth             0 = unlimited
 *   i32  max_features          as requested (> 0, FOREST_SQRT/LOG2/ALL)
 *   i32  max_features used     1 .. nfeat
 *   i32  min_samples_leaf      >= 1
 *   u8   balanced              0 or 1
 *   u64  seed
 *   n_trees times:
 *     u32  n_nodes             1 .. FOREST_MAX_NODES
 *     n_nodes times (36 bytes, node 0 is the root):
 *       i32 feature            -1 = leaf, else 0 .. nfeat-1
 *       f32 threshold          go left when x <= threshold; 0 for leaves
 *       u32 left, right        child node ids, > this node's id and
 *                              < n_nodes, each node a child exactly once;
 *                              0 and 0 for leaves
 *       u32 samples            distinct bootstrap rows in the node (>= 1)
 *       f64 weighted samples   sum of weights (finite, >= 0)
 *       f64 impurity           Gini, 0 .. 1
 *     for each leaf, in node order:
 *       u32 count              1 .. nclasses
 *       count times: u32 class (strictly increasing, < nclasses),
 *                    f64 probability (finite, 0 .. 1; the count sum to 1)
 *
 * forest_load checks every field against the remaining length before it
 * allocates anything sized by it, so a hostile count cannot ask for more
 * memory than the input could describe. */
#include "forest.h"

#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/xalloc.h"

#define FOREST_LAYOUT 1u
#define FOREST_MAX_TREES (1u << 20)
#define FOREST_MAX_NODES (1u << 30)
#define NODE_BYTES 36u
/* Values closer than this are treated as equal (sklearn's
 * FEATURE_THRESHOLD, a float32 constant added in float). */
#define FEAT_EPS 1e-7f
/* Rows per prediction block: every tree in turn walks all rows of a block,
 * so a tree is fetched into cache once per block. */
#define PRED_BLOCK_MIN 64
#define PRED_BLOCK_MAX 8192
/* Tree walks (rows * trees) below which extra threads do not pay. */
#define PRED_MIN_PER_THREAD 20000

/* ---- random numbers ------------------------------------------------ */

/* splitmix64 mixes (seed, tree) into well-spread states; xoshiro256** is
 * the per-tree stream. */
static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

typedef struct rng {
    uint64_t s[4];
} rng;

static void rng_seed(rng *r, uint64_t seed, uint64_t stream)
{
    uint64_t a = seed, b = stream;
    uint64_t sm = splitmix64(&a) ^ splitmix64(&b);
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&sm);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t rng_next(rng *r)
{
    uint64_t *s = r->s;
    uint64_t res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return res;
}

/* Uniform in [0, bound), bound >= 1, without modulo bias (Lemire). */
static inline uint32_t rng_below(rng *r, uint32_t bound)
{
    uint64_t m = (rng_next(r) >> 32) * bound;
    if ((uint32_t)m < bound) {
        uint32_t th = (uint32_t)-bound % bound;
        while ((uint32_t)m < th)
            m = (rng_next(r) >> 32) * bound;
    }
    return (uint32_t)(m >> 32);
}

/* ---- the model ------------------------------------------------------ */

/* A node.  A leaf points to itself on both sides and has feature 0, so
 * that prediction can step every row the same way, without branches,
 * until all rows of a batch stand still; its threshold's bits hold the
 * leaf's payload instead (LEAF_PURE | class, or the offset of its entry
 * list in the tree's value arrays). */
typedef struct fnode {
    float thr;
    int32_t feat;
    uint32_t left, right;
} fnode;

#define LEAF_PURE 0x80000000u

/* A mixed leaf's entry list at offset o: vcls[o] = count c, then c pairs
 * (vcls[o+1+q], vp[o+1+q]) of class and probability. */
struct pnode;

typedef struct ftree {
    uint32_t nn, nv;    /* nodes, value array entries */
    fnode *node;
    struct pnode *pn;   /* the walking copy (see prediction); NULL when the
                           tree is too big for it */
    uint32_t *nsamp;
    double *wn, *imp;
    uint32_t *vcls;
    double *vp;
} ftree;

static inline int is_leaf(const fnode *nd, uint32_t i) { return nd[i].left == i; }

struct arena;
static int build_pred(ftree *tr, size_t nfeat, struct arena *a);

static inline uint32_t leaf_info(const fnode *q)
{
    uint32_t u;
    memcpy(&u, &q->thr, sizeof u);
    return u;
}

static inline fnode make_leaf(uint32_t id, uint32_t info)
{
    fnode q = { 0.0f, 0, id, id };
    memcpy(&q.thr, &info, sizeof info);
    return q;
}

/* Leaf q's distribution: the count, with classes and probabilities in
 * *cls / *p (a pure leaf's single entry is written to *c1 / *p1). */
static uint32_t leaf_dist(const ftree *t, const fnode *q, const uint32_t **cls, const double **p,
                          uint32_t *c1, double *p1)
{
    uint32_t info = leaf_info(q);
    if (info & LEAF_PURE) {
        *c1 = info & ~LEAF_PURE;
        *p1 = 1.0;
        *cls = c1;
        *p = p1;
        return 1;
    }
    *cls = t->vcls + info + 1;
    *p = t->vp + info + 1;
    return t->vcls[info];
}

struct forest {
    forest_params p;
    int mf;             /* max_features resolved */
    size_t nfeat;
    int k;
    int ntrees;
    ftree *tree;
    /* Loaded with FOREST_LOAD_LEAN: the trees keep only their walking
     * copies and leaf values (no node, nsamp, wn, imp arrays). */
    int lean;
    /* A loaded forest: one block holding every tree's node arrays (see
     * forest_load); NULL when each tree owns its arrays. */
    char *arena;
};

/* Bump allocation from one block; with a NULL block, plain malloc. */
typedef struct arena {
    char *p;
    size_t off, cap;
} arena;

static void *arena_take(arena *a, size_t n)
{
    if (!a || !a->p)
        return malloc(n ? n : 1);
    n = (n + 63) & ~(size_t)63;     /* every array on its own cache lines */
    if (n > a->cap - a->off)
        return NULL;
    void *q = a->p + a->off;
    a->off += n;
    return q;
}

static void tree_free(ftree *t)
{
    free(t->pn);
    free(t->node);
    free(t->nsamp);
    free(t->wn);
    free(t->imp);
    free(t->vcls);
    free(t->vp);
    memset(t, 0, sizeof *t);
}

void forest_free(forest *m)
{
    if (!m)
        return;
    if (m->tree)
        for (int t = 0; t < m->ntrees; t++) {
            if (m->arena) {     /* only the value arrays are the tree's own */
                free(m->tree[t].vcls);
                free(m->tree[t].vp);
            } else {
                tree_free(&m->tree[t]);
            }
        }
    free(m->tree);
    free(m->arena);
    free(m);
}

void forest_default_params(forest_params *p)
{
    memset(p, 0, sizeof *p);
    p->n_trees = 200;
    p->max_depth = 0;
    p->max_features = FOREST_SQRT;
    p->min_samples_leaf = 1;
    p->balanced = 0;
    p->seed = 0;
    p->threads = 0;
}

size_t forest_nfeatures(const forest *m) { return m->nfeat; }
int forest_nclasses(const forest *m) { return m->k; }
int forest_ntrees(const forest *m) { return m->ntrees; }

size_t forest_nnodes(const forest *m)
{
    size_t s = 0;
    for (int t = 0; t < m->ntrees; t++)
        s += m->tree[t].nn;
    return s;
}

static int ncpu(void)
{
    long c = sysconf(_SC_NPROCESSORS_ONLN);
    return c < 1 ? 1 : c > 256 ? 256 : (int)c;
}

/* ---- training: shared state ---------------------------------------- */

typedef struct trainer {
    size_t n, f;
    int k, mf, maxd, msl;
    uint64_t seed;
    /* f columns of n row ranks: 16-bit when every rank fits (halving the
     * memory the gathers walk), else 32-bit */
    const uint16_t *rank16;
    const uint32_t *rank32;
    const float *val;       /* each feature's sorted distinct values */
    const size_t *voff;     /* where feature j's values start in val */
    const uint8_t *close;   /* feature j has neighbouring values within
                             * FEAT_EPS (else any two ranks differ enough) */
    const int32_t *y;
    const double *cw;       /* class weights (1, or balanced) */
    int ntrees;
    ftree *out;             /* by tree index */
    atomic_int next;        /* next tree to build */
    atomic_int failed;      /* out of memory somewhere: stop */
    pthread_mutex_t mu;     /* serializes progress calls */
    int done;
    void (*progress)(void *ctx, int done, int total);
    void *ctx;
} trainer;

typedef struct stackent {
    uint32_t s, e;          /* the node's rows: positions s .. e-1 */
    uint32_t parent;
    int depth, is_left;
} stackent;

/* One thread's working memory, reused for every tree it builds. */
typedef struct work {
    trainer *tr;
    rng r;
    uint32_t *cnt;          /* bootstrap counts */
    uint32_t *sidx, *scls;  /* node-ordered rows and their classes */
    double *sw;             /* and their weights */
    uint32_t *ridx, *rcls;  /* partition scratch: the right side */
    double *rw;
    uint64_t *key, *tmp;    /* (rank << 32 | position) sort buffers */
    uint32_t *hist;
    double *tot, *lft, *rgt;
    uint32_t *pres, np;     /* the node's classes (nonzero tot) */
    uint32_t *feats;        /* feature draw pool */
    size_t nw;              /* 64-bit words per constant-feature set */
    uint64_t *cur, *found;  /* current node's known / found constants */
    stackent *st;
    size_t stn, stcap;
    uint64_t *stbits;       /* nw words per stack entry */
    size_t stbcap;
    /* the tree being built */
    fnode *node;
    uint32_t *nsamp;
    double *wn, *imp;
    size_t cap_node, cap_nsamp, cap_wn, cap_imp;
    uint32_t *vcls;
    double *vp;
    size_t cap_vcls, cap_vp;
    uint32_t nn, nv;
} work;

static void work_free(work *w)
{
    free(w->cnt);
    free(w->sidx);
    free(w->scls);
    free(w->sw);
    free(w->ridx);
    free(w->rcls);
    free(w->rw);
    free(w->key);
    free(w->tmp);
    free(w->hist);
    free(w->tot);
    free(w->pres);
    free(w->lft);
    free(w->rgt);
    free(w->feats);
    free(w->cur);
    free(w->found);
    free(w->st);
    free(w->stbits);
    free(w->node);
    free(w->nsamp);
    free(w->wn);
    free(w->imp);
    free(w->vcls);
    free(w->vp);
}

static size_t hist_size(size_t n) { return 2 * n + 1 > 2048 ? 2 * n + 1 : 2048; }

static int work_init(work *w, trainer *tr)
{
    size_t n = tr->n, k = (size_t)tr->k;
    memset(w, 0, sizeof *w);
    w->tr = tr;
    w->nw = (tr->f + 63) / 64;
    w->cnt = malloc(n * sizeof *w->cnt);
    w->sidx = malloc(n * sizeof *w->sidx);
    w->scls = malloc(n * sizeof *w->scls);
    w->sw = malloc(n * sizeof *w->sw);
    w->ridx = malloc(n * sizeof *w->ridx);
    w->rcls = malloc(n * sizeof *w->rcls);
    w->rw = malloc(n * sizeof *w->rw);
    w->key = malloc(n * sizeof *w->key);
    w->tmp = malloc(n * sizeof *w->tmp);
    w->hist = malloc(hist_size(n) * sizeof *w->hist);
    w->tot = calloc(k, sizeof *w->tot);
    w->pres = malloc(k * sizeof *w->pres);
    w->lft = malloc(k * sizeof *w->lft);
    w->rgt = malloc(k * sizeof *w->rgt);
    w->feats = malloc(tr->f * sizeof *w->feats);
    w->cur = malloc(w->nw * sizeof *w->cur);
    w->found = malloc(w->nw * sizeof *w->found);
    if (!w->cnt || !w->sidx || !w->scls || !w->sw || !w->ridx || !w->rcls || !w->rw || !w->key || !w->tmp || !w->hist ||
        !w->tot || !w->pres || !w->lft || !w->rgt || !w->feats || !w->cur || !w->found) {
        work_free(w);
        return -1;
    }
    return 0;
}

/* ---- training: sorting ---------------------------------------------- */

static void insertion_sort(uint64_t *a, uint32_t m)
{
    for (uint32_t i = 1; i < m; i++) {
        uint64_t v = a[i];
        uint32_t j = i;
        while (j > 0 && a[j - 1] > v) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = v;
    }
}

/* Sort a[0..m) by the rank in the high 32 bits (all in [rmin, rmax]);
 * returns the buffer that holds the result (a or tmp).  The cheapest of:
 * insertion sort for tiny nodes, one counting pass when the node's rank
 * range is not much wider than the node, else LSD radix passes over
 * (rank - rmin) (measured 2x faster than quicksort from 48 rows up). */
static uint64_t *sort_keys(uint64_t *a, uint64_t *tmp, uint32_t m, uint32_t rmin,
                           uint32_t rmax, uint32_t *hist)
{
    if (m <= 40) {
        insertion_sort(a, m);
        return a;
    }
    uint32_t range = rmax - rmin;
    if ((uint64_t)range < 2 * (uint64_t)m) {
        uint32_t nb = range + 1;
        memset(hist, 0, nb * sizeof *hist);
        for (uint32_t i = 0; i < m; i++)
            hist[(uint32_t)(a[i] >> 32) - rmin]++;
        uint32_t sum = 0;
        for (uint32_t b = 0; b < nb; b++) {
            uint32_t c = hist[b];
            hist[b] = sum;
            sum += c;
        }
        for (uint32_t i = 0; i < m; i++)
            tmp[hist[(uint32_t)(a[i] >> 32) - rmin]++] = a[i];
        return tmp;
    }
    int bits = 32 - __builtin_clz(range);
    /* Digits of about log2(m) bits (at least 8): the per-pass bucket
     * overhead stays near the per-element work. */
    int maxdig = 31 - __builtin_clz(m);
    maxdig = maxdig < 8 ? 8 : maxdig > 11 ? 11 : maxdig;
    int passes = (bits + maxdig - 1) / maxdig;
    int dig = (bits + passes - 1) / passes;
    uint32_t nb = 1u << dig, mask = nb - 1;
    uint64_t *src = a, *dst = tmp;
    for (int p = 0; p < passes; p++) {
        int sh = p * dig;
        memset(hist, 0, nb * sizeof *hist);
        for (uint32_t i = 0; i < m; i++)
            hist[(((uint32_t)(src[i] >> 32) - rmin) >> sh) & mask]++;
        uint32_t sum = 0;
        for (uint32_t b = 0; b < nb; b++) {
            uint32_t c = hist[b];
            hist[b] = sum;
            sum += c;
        }
        for (uint32_t i = 0; i < m; i++)
            dst[hist[(((uint32_t)(src[i] >> 32) - rmin) >> sh) & mask]++] = src[i];
        uint64_t *t = src;
        src = dst;
        dst = t;
    }
    return src;
}

/* ---- training: one tree ---------------------------------------------- */

typedef struct split {
    int feat;               /* -1: none found */
    uint32_t rlo, rhi;      /* ranks of the values either side */
    double proxy;
} split;

/* Find the best split of rows [s, e) whose class sums are w->tot (total
 * weight wsum, sum of squares sq).  Constant features found are added to
 * w->found. */
static void find_split(work *w, uint32_t s, uint32_t e, double wsum, double sq, split *best)
{
    const trainer *tr = w->tr;
    size_t n = tr->n, nf = tr->f;
    uint32_t m = e - s, msl = (uint32_t)tr->msl;
    const uint32_t *sidx = w->sidx + s, *scls = w->scls + s;
    const double *sw = w->sw + s;
    double *lft = w->lft, *rgt = w->rgt;

    best->feat = -1;
    best->proxy = -INFINITY;
    size_t known = 0;
    for (size_t i = 0; i < w->nw; i++)
        known += (size_t)__builtin_popcountll(w->cur[i]);
    size_t unknown_left = nf - known;   /* undrawn, not known constant */
    size_t rem = nf, visited = 0, nconst = 0, mf = (size_t)tr->mf;

    while (unknown_left > 0 && (visited < mf || visited == nconst)) {
        uint32_t j = rng_below(&w->r, (uint32_t)rem);
        uint32_t f = w->feats[j];
        w->feats[j] = w->feats[rem - 1];
        w->feats[rem - 1] = f;
        rem--;
        visited++;
        if (w->cur[f >> 6] >> (f & 63) & 1) {
            nconst++;
            continue;
        }
        unknown_left--;

        const float *v = tr->val + tr->voff[f];
        uint64_t *key = w->key;
        uint32_t rmin = UINT32_MAX, rmax = 0;
#define GATHER(rc)                                      \
        for (uint32_t i = 0; i < m; i++) {              \
            uint32_t r = (rc)[sidx[i]];                 \
            rmin = r < rmin ? r : rmin;                 \
            rmax = r > rmax ? r : rmax;                 \
            key[i] = (uint64_t)r << 32 | i;             \
        }
        if (tr->rank16)
            GATHER(tr->rank16 + (size_t)f * n)
        else
            GATHER(tr->rank32 + (size_t)f * n)
#undef GATHER
        int cf = tr->close[f];
        if (rmax == rmin || (cf && v[rmax] <= (float)(v[rmin] + FEAT_EPS))) {
            w->found[f >> 6] |= 1ull << (f & 63);
            nconst++;
            continue;
        }
        const uint64_t *sk = sort_keys(key, w->tmp, m, rmin, rmax, w->hist);

        for (uint32_t q = 0; q < w->np; q++) {
            lft[w->pres[q]] = 0;
            rgt[w->pres[q]] = w->tot[w->pres[q]];
        }
        double sql = 0, sqr = sq, wl = 0, wr = wsum;
        uint32_t r = (uint32_t)(sk[0] >> 32);
        /* Positions that can be split after: at least msl rows each side. */
        uint32_t lo = msl - 1, hi = m - msl;
        for (uint32_t i = 0; i + 1 < m; i++) {
            uint32_t pos = (uint32_t)sk[i];
            uint32_t c = scls[pos];
            double wt = sw[pos], l = lft[c], q = rgt[c];
            sql += wt * (2 * l + wt);
            sqr += wt * (wt - 2 * q);
            lft[c] = l + wt;
            rgt[c] = q - wt;
            wl += wt;
            wr -= wt;
            uint32_t r2 = (uint32_t)(sk[i + 1] >> 32);
            if (r2 != r) {
                if (i >= lo && i < hi && (!cf || v[r2] > (float)(v[r] + FEAT_EPS))) {
                    /* sql/wl + sqr/wr > best, without dividing at every
                     * candidate (wl, wr > 0). */
                    double num = sql * wr + sqr * wl, den = wl * wr;
                    if (num > best->proxy * den) {
                        best->proxy = num / den;
                        best->feat = (int)f;
                        best->rlo = r;
                        best->rhi = r2;
                    }
                }
                r = r2;
            }
        }
    }
}

static int tree_push_node(work *w)
{
    size_t need = (size_t)w->nn + 1;
    if (need > FOREST_MAX_NODES ||
        array_grow((void **)&w->node, &w->cap_node, need, sizeof *w->node) < 0 ||
        array_grow((void **)&w->nsamp, &w->cap_nsamp, need, sizeof *w->nsamp) < 0 ||
        array_grow((void **)&w->wn, &w->cap_wn, need, sizeof *w->wn) < 0 ||
        array_grow((void **)&w->imp, &w->cap_imp, need, sizeof *w->imp) < 0)
        return -1;
    return 0;
}

static int stack_push(work *w, uint32_t s, uint32_t e, uint32_t parent, int depth, int is_left,
                      const uint64_t *bits)
{
    size_t need = w->stn + 1;
    if (array_grow((void **)&w->st, &w->stcap, need, sizeof *w->st) < 0 ||
        array_grow((void **)&w->stbits, &w->stbcap, need * w->nw, sizeof *w->stbits) < 0)
        return -1;
    w->st[w->stn] = (stackent){ s, e, parent, depth, is_left };
    memcpy(w->stbits + w->stn * w->nw, bits, w->nw * sizeof *bits);
    w->stn++;
    return 0;
}

static int copy_out(void **dst, const void *src, size_t n, size_t sz)
{
    *dst = malloc(n > 0 ? n * sz : 1);
    if (!*dst)
        return -1;
    if (n > 0)
        memcpy(*dst, src, n * sz);
    return 0;
}

static int build_tree(work *w, int t, ftree *out)
{
    trainer *tr = w->tr;
    size_t n = tr->n, nf = tr->f;
    int maxd = tr->maxd > 0 ? tr->maxd : INT32_MAX;
    uint32_t msl = (uint32_t)tr->msl;

    rng_seed(&w->r, tr->seed, (uint64_t)t);
    /* Every tree starts from the same pool order, so a tree does not
     * depend on which trees its thread built before. */
    for (size_t j = 0; j < nf; j++)
        w->feats[j] = (uint32_t)j;
    memset(w->cnt, 0, n * sizeof *w->cnt);
    for (size_t i = 0; i < n; i++)
        w->cnt[rng_below(&w->r, (uint32_t)n)]++;
    uint32_t m0 = 0;
    for (size_t i = 0; i < n; i++) {
        if (!w->cnt[i])
            continue;
        w->sidx[m0] = (uint32_t)i;
        w->scls[m0] = (uint32_t)tr->y[i];
        w->sw[m0] = tr->cw[tr->y[i]] * (double)w->cnt[i];
        m0++;
    }

    w->nn = w->nv = 0;
    w->stn = 0;
    memset(w->cur, 0, w->nw * sizeof *w->cur);
    if (stack_push(w, 0, m0, UINT32_MAX, 0, 0, w->cur) < 0)
        return -1;
    while (w->stn > 0) {
        stackent se = w->st[--w->stn];
        memcpy(w->cur, w->stbits + w->stn * w->nw, w->nw * sizeof *w->cur);
        uint32_t s = se.s, e = se.e, m = e - s;

        /* Class sums, touching only the classes present: with many
         * classes, most nodes hold few of them, and O(k) work per node and
         * candidate would outweigh the O(rows) work.  tot is all zero
         * between nodes. */
        double *tot = w->tot, wsum = 0, sq = 0;
        uint32_t *pres = w->pres, np = 0;
        for (uint32_t i = s; i < e; i++) {
            uint32_t c = w->scls[i];
            if (tot[c] == 0)
                pres[np++] = c;
            tot[c] += w->sw[i];
            wsum += w->sw[i];
        }
        /* In class order: sums come out the same however rows are ordered,
         * and leaves list their classes in order. */
        for (uint32_t a = 1; a < np; a++) {
            uint32_t v = pres[a], b = a;
            while (b > 0 && pres[b - 1] > v) {
                pres[b] = pres[b - 1];
                b--;
            }
            pres[b] = v;
        }
        w->np = np;
        for (uint32_t q = 0; q < np; q++)
            sq += tot[pres[q]] * tot[pres[q]];
        double imp = 1.0 - sq / (wsum * wsum);

        if (tree_push_node(w) < 0)
            return -1;
        uint32_t id = w->nn++;
        if (se.parent != UINT32_MAX) {
            if (se.is_left)
                w->node[se.parent].left = id;
            else
                w->node[se.parent].right = id;
        }
        w->nsamp[id] = m;
        w->wn[id] = wsum;
        w->imp[id] = imp;

        split sp = { .feat = -1 };
        if (se.depth < maxd && m >= 2 && m >= 2 * msl && imp > DBL_EPSILON) {
            memset(w->found, 0, w->nw * sizeof *w->found);
            find_split(w, s, e, wsum, sq, &sp);
        }
        if (sp.feat < 0) {
            /* Leaf: the weighted class distribution, normalized. */
            double norm = 0;
            uint32_t cnt = np;
            for (uint32_t q = 0; q < np; q++)
                norm += tot[pres[q]];
            if (cnt == 1) {
                w->node[id] = make_leaf(id, LEAF_PURE | pres[0]);
                tot[pres[0]] = 0;
                continue;
            }
            size_t need = (size_t)w->nv + 1 + cnt;
            if (need >= LEAF_PURE ||
                array_grow((void **)&w->vcls, &w->cap_vcls, need, sizeof *w->vcls) < 0 ||
                array_grow((void **)&w->vp, &w->cap_vp, need, sizeof *w->vp) < 0)
                return -1;
            w->node[id] = make_leaf(id, w->nv);
            w->vcls[w->nv] = cnt;
            w->vp[w->nv] = 0;
            w->nv++;
            for (uint32_t q = 0; q < np; q++) {
                w->vcls[w->nv] = pres[q];
                w->vp[w->nv] = tot[pres[q]] / norm;
                w->nv++;
                tot[pres[q]] = 0;
            }
            continue;
        }
        for (uint32_t q = 0; q < np; q++)
            tot[pres[q]] = 0;

        const float *v = tr->val + tr->voff[sp.feat];
        float a = v[sp.rlo], b = v[sp.rhi];
        /* The midpoint, unless it rounds up to the upper value (or
         * overflows): then the lower value, which splits the same rows. */
        float thr = (float)((double)a / 2.0 + (double)b / 2.0);
        if (thr == b || isinf(thr))
            thr = a;
        w->node[id] = (fnode){ thr, sp.feat, 0, 0 };

        /* Partition [s, e) by the split feature's rank, stably: the rows
         * of every node stay in increasing row order, so gathering a
         * feature column walks it forward (whole cache lines used in big
         * nodes, a predictable direction in small ones). */
        const uint16_t *rc16 = tr->rank16 ? tr->rank16 + (size_t)sp.feat * n : NULL;
        const uint32_t *rc32 = tr->rank32 ? tr->rank32 + (size_t)sp.feat * n : NULL;
        uint32_t i = s, nr = 0;
        for (uint32_t q = s; q < e; q++) {
            uint32_t row = w->sidx[q];
            if ((rc16 ? rc16[row] : rc32[row]) <= sp.rlo) {
                w->sidx[i] = row;
                w->scls[i] = w->scls[q];
                w->sw[i] = w->sw[q];
                i++;
            } else {
                w->ridx[nr] = row;
                w->rcls[nr] = w->scls[q];
                w->rw[nr] = w->sw[q];
                nr++;
            }
        }
        memcpy(w->sidx + i, w->ridx, nr * sizeof *w->sidx);
        memcpy(w->scls + i, w->rcls, nr * sizeof *w->scls);
        memcpy(w->sw + i, w->rw, nr * sizeof *w->sw);
        for (size_t q = 0; q < w->nw; q++)
            w->cur[q] |= w->found[q];
        /* Right pushed first so the left subtree is numbered first. */
        if (stack_push(w, i, e, id, se.depth + 1, 0, w->cur) < 0 ||
            stack_push(w, s, i, id, se.depth + 1, 1, w->cur) < 0)
            return -1;
    }

    memset(out, 0, sizeof *out);
    out->nn = w->nn;
    out->nv = w->nv;
    if (copy_out((void **)&out->node, w->node, w->nn, sizeof *w->node) < 0 ||
        copy_out((void **)&out->nsamp, w->nsamp, w->nn, sizeof *w->nsamp) < 0 ||
        copy_out((void **)&out->wn, w->wn, w->nn, sizeof *w->wn) < 0 ||
        copy_out((void **)&out->imp, w->imp, w->nn, sizeof *w->imp) < 0 ||
        copy_out((void **)&out->vcls, w->vcls, w->nv, sizeof *w->vcls) < 0 ||
        copy_out((void **)&out->vp, w->vp, w->nv, sizeof *w->vp) < 0 ||
        build_pred(out, nf, NULL) < 0) {
        tree_free(out);
        return -1;
    }
    return 0;
}

static void *train_worker(void *arg)
{
    work *w = arg;
    trainer *tr = w->tr;
    for (;;) {
        if (atomic_load(&tr->failed))
            break;
        int t = atomic_fetch_add(&tr->next, 1);
        if (t >= tr->ntrees)
            break;
        if (build_tree(w, t, &tr->out[t]) < 0) {
            atomic_store(&tr->failed, 1);
            break;
        }
        if (tr->progress) {
            pthread_mutex_lock(&tr->mu);
            tr->done++;
            tr->progress(tr->ctx, tr->done, tr->ntrees);
            pthread_mutex_unlock(&tr->mu);
        }
    }
    return NULL;
}

/* Build all trees with nth workers (the calling thread is one of them).
 * 0, or -1 when out of memory. */
static int run_training(trainer *tr, int nth)
{
    work *ws = calloc((size_t)nth, sizeof *ws);
    pthread_t *th = calloc((size_t)nth, sizeof *th);
    int *started = calloc((size_t)nth, sizeof *started);
    int nws = 0;
    if (ws && th && started)
        while (nws < nth && work_init(&ws[nws], tr) == 0)
            nws++;
    if (nws == 0) {
        free(ws);
        free(th);
        free(started);
        return -1;
    }
    /* A thread that cannot be started only means fewer workers: the trees
     * are shared out dynamically. */
    for (int i = 1; i < nws; i++)
        started[i] = pthread_create(&th[i], NULL, train_worker, &ws[i]) == 0;
    train_worker(&ws[0]);
    for (int i = 1; i < nws; i++)
        if (started[i])
            pthread_join(th[i], NULL);
    for (int i = 0; i < nws; i++)
        work_free(&ws[i]);
    free(ws);
    free(th);
    free(started);
    return atomic_load(&tr->failed) ? -1 : 0;
}

/* ---- training: setup -------------------------------------------------- */

/* Float to an unsigned key with the same order (-0 folded into +0). */
static inline uint32_t float_key(float x)
{
    uint32_t u;
    if (x == 0)
        x = 0;
    memcpy(&u, &x, sizeof u);
    return (u & 0x80000000u) ? ~u : u | 0x80000000u;
}

/* Rank every feature: val gets each feature's sorted distinct values
 * (feature j's at voff[j]), rank[j*n + i] the index of row i's value, in
 * rank16 or (when n > 65536) rank32. */
static int rank_features(const float *x, size_t n, size_t f, uint16_t *rank16,
                         uint32_t *rank32, float **valp, size_t *voff, uint8_t *close)
{
    uint64_t *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    uint32_t *hist = malloc(2048 * sizeof *hist);
    float *val = malloc(n * f * sizeof *val);
    if (!a || !b || !hist || !val) {
        free(a);
        free(b);
        free(hist);
        free(val);
        return -1;
    }
    size_t nv = 0;
    for (size_t j = 0; j < f; j++) {
        for (size_t i = 0; i < n; i++)
            a[i] = (uint64_t)float_key(x[i * f + j]) << 32 | i;
        /* LSD radix sort on the 32-bit key: 3 passes of 11 bits. */
        uint64_t *src = a, *dst = b;
        for (int sh = 32; sh < 64; sh += 11) {
            memset(hist, 0, 2048 * sizeof *hist);
            for (size_t i = 0; i < n; i++)
                hist[(src[i] >> sh) & 2047]++;
            uint32_t sum = 0;
            for (int q = 0; q < 2048; q++) {
                uint32_t c = hist[q];
                hist[q] = sum;
                sum += c;
            }
            for (size_t i = 0; i < n; i++)
                dst[hist[(src[i] >> sh) & 2047]++] = src[i];
            uint64_t *t = src;
            src = dst;
            dst = t;
        }
        voff[j] = nv;
        close[j] = 0;
        uint32_t r = 0;
        for (size_t i = 0; i < n; i++) {
            uint32_t row = (uint32_t)src[i];
            float xv = x[(size_t)row * f + j];
            if (xv == 0)
                xv = 0;         /* -0 and +0 are one value */
            if (i == 0) {
                val[nv++] = xv;
            } else if (xv != val[nv - 1]) {
                if (xv <= (float)(val[nv - 1] + FEAT_EPS))
                    close[j] = 1;
                val[nv++] = xv;
                r++;
            }
            if (rank16)
                rank16[j * n + row] = (uint16_t)r;
            else
                rank32[j * n + row] = r;
        }
    }
    free(a);
    free(b);
    free(hist);
    /* Shrink to the distinct values; keep the big block if that fails. */
    float *shr = realloc(val, (nv ? nv : 1) * sizeof *val);
    *valp = shr ? shr : val;
    return 0;
}

static int resolve_mf(int req, size_t f)
{
    long v;
    if (req > 0)
        return req;
    if (req == FOREST_ALL)
        return (int)f;
    if (req == FOREST_LOG2) {
        v = 0;
        while ((size_t)1 << (v + 1) <= f)
            v++;
    } else {
        v = (long)sqrt((double)f);
        while ((size_t)(v + 1) * (size_t)(v + 1) <= f)
            v++;
        while (v > 0 && (size_t)v * (size_t)v > f)
            v--;
    }
    return v < 1 ? 1 : (int)v;
}

forest *forest_train(const float *x, size_t n, size_t f, const int32_t *y, int k,
                     const forest_params *pp,
                     void (*progress)(void *ctx, int done, int total), void *ctx,
                     snitch_err *e)
{
    forest_params p;
    if (pp)
        p = *pp;
    else
        forest_default_params(&p);
    if (n == 0)
        return err_set(e, "forest: no training rows"), NULL;
    if (n >= UINT32_MAX)
        return err_set(e, "forest: %zu training rows, at most %u", n, UINT32_MAX - 1), NULL;
    if (f == 0 || f > INT32_MAX || n > SIZE_MAX / 8 / f)
        return err_set(e, "forest: %zu features of %zu rows", f, n), NULL;
    if (k < 1 || (uint32_t)k >= LEAF_PURE)
        return err_set(e, "forest: %d classes", k), NULL;
    if (p.n_trees < 1 || (unsigned)p.n_trees > FOREST_MAX_TREES)
        return err_set(e, "forest: n_trees %d, expected 1 .. %u", p.n_trees, FOREST_MAX_TREES), NULL;
    if (p.max_depth < 0)
        return err_set(e, "forest: max_depth %d is negative", p.max_depth), NULL;
    if (p.min_samples_leaf < 1)
        return err_set(e, "forest: min_samples_leaf %d, expected >= 1", p.min_samples_leaf), NULL;
    if (p.max_features < FOREST_ALL || (p.max_features > 0 && (size_t)p.max_features > f))
        return err_set(e, "forest: max_features %d, expected 1 .. %zu or sqrt/log2/all",
                       p.max_features, f), NULL;
    if (p.threads < 0)
        return err_set(e, "forest: threads %d is negative", p.threads), NULL;
    for (size_t i = 0; i < n; i++)
        if (y[i] < 0 || y[i] >= k)
            return err_set(e, "forest: row %zu: label %d outside 0 .. %d", i, (int)y[i], k - 1), NULL;
    for (size_t i = 0; i < n * f; i++)
        if (!isfinite(x[i]))
            return err_set(e, "forest: row %zu feature %zu: value is not finite", i / f, i % f), NULL;

    forest *m = calloc(1, sizeof *m);
    double *cw = malloc((size_t)k * sizeof *cw);
    size_t *cc = calloc((size_t)k, sizeof *cc);
    /* n rows have at most n distinct values: ranks below n. */
    uint16_t *rank16 = n <= 65536 ? malloc(n * f * sizeof *rank16) : NULL;
    uint32_t *rank32 = n > 65536 ? malloc(n * f * sizeof *rank32) : NULL;
    size_t *voff = malloc(f * sizeof *voff);
    uint8_t *close = malloc(f);
    float *val = NULL;
    int nth, ok = 0;
    trainer tr;
    memset(&tr, 0, sizeof tr);
    if (!m || !cw || !cc || (!rank16 && !rank32) || !voff || !close)
        goto oom;
    m->p = p;
    m->nfeat = f;
    m->k = k;
    m->mf = resolve_mf(p.max_features, f);
    m->ntrees = p.n_trees;
    m->tree = calloc((size_t)p.n_trees, sizeof *m->tree);
    if (!m->tree)
        goto oom;

    /* Balanced: n / (classes present * count), as sklearn's
     * compute_class_weight('balanced'). */
    for (size_t i = 0; i < n; i++)
        cc[y[i]]++;
    int present = 0;
    for (int c = 0; c < k; c++)
        present += cc[c] > 0;
    for (int c = 0; c < k; c++)
        cw[c] = p.balanced && cc[c] ? (double)n / ((double)present * (double)cc[c]) : 1.0;

    if (rank_features(x, n, f, rank16, rank32, &val, voff, close) < 0)
        goto oom;

    tr.n = n;
    tr.f = f;
    tr.k = k;
    tr.mf = m->mf;
    tr.maxd = p.max_depth;
    tr.msl = p.min_samples_leaf;
    tr.seed = p.seed;
    tr.rank16 = rank16;
    tr.rank32 = rank32;
    tr.val = val;
    tr.voff = voff;
    tr.close = close;
    tr.y = y;
    tr.cw = cw;
    tr.ntrees = p.n_trees;
    tr.out = m->tree;
    atomic_init(&tr.next, 0);
    atomic_init(&tr.failed, 0);
    tr.progress = progress;
    tr.ctx = ctx;
    if (pthread_mutex_init(&tr.mu, NULL) != 0)
        goto oom;

    nth = p.threads > 0 ? p.threads : ncpu();
    if (nth > p.n_trees)
        nth = p.n_trees;
    if (nth > 256)
        nth = 256;          /* each worker holds O(n) memory */
    ok = run_training(&tr, nth) == 0;
    pthread_mutex_destroy(&tr.mu);

oom:
    free(cw);
    free(cc);
    free(rank16);
    free(rank32);
    free(voff);
    free(close);
    free(val);
    if (!ok) {
        forest_free(m);
        err_set(e, "forest: out of memory while training");
        return NULL;
    }
    return m;
}

/* ---- prediction ------------------------------------------------------- */

typedef struct predictor {
    const forest *m;
    const float *x;
    size_t n;
    double *proba;
    size_t block;
    atomic_size_t next;
} predictor;

/* Add the leaf distribution with payload info (leaf_info) of tree tr to
 * the probability row pr. */
static inline void add_info(const ftree *tr, uint32_t info, double *pr)
{
    if (info & LEAF_PURE) {
        pr[info & ~LEAF_PURE] += 1.0;
    } else {
        uint32_t c = tr->vcls[info];
        for (uint32_t v = 1; v <= c; v++)
            pr[tr->vcls[info + v]] += tr->vp[info + v];
    }
}

/* One step of a plain walk over tr->node: to the left child when
 * x <= threshold. */
static inline uint32_t step(const fnode *nd, uint32_t i, const float *row)
{
    const fnode *q = &nd[i];
    uint32_t go_left = -(uint32_t)(row[q->feat] <= q->thr);
    return q->right ^ ((q->left ^ q->right) & go_left);
}

#define LANES 8

/* A node of the walking copy (16 bytes, four to a cache line).  Node 0 is
 * the root; the two children of a node are adjacent, left then right, and
 * pairs are handed out in depth-first order, so a subtree stays together.
 *   thr   go left when x <= thr; +inf in a leaf
 *   xoff  where this node's feature sits in a group of transposed rows:
 *         feature * LANES * 4 bytes, the value of lane j at xoff + 4 * j
 *   rel   bytes from this node to its left child (the right child is 16
 *         further); 0 in a leaf
 *   info  a leaf's payload (leaf_info), 0 in inner nodes
 * Why this shape: a lane is just a pointer, and a step is one compare and
 * "pointer += rel + 16 * went_right", with no node ids to scale and no
 * base address to add, which roughly halves the instructions of a step
 * over the {thr, feat, left, right} nodes.  A leaf keeps its lane in place
 * (rel 0, and x <= +inf) until all eight lanes stand on leaves. */
typedef struct pnode {
    float thr;
    uint32_t xoff;
    uint32_t rel;
    uint32_t info;
} pnode;

/* Offsets are 32-bit: trees up to 2^27 nodes (a model file holds at most
 * about 2^27 nodes in all) and 2^24 features get a walking copy. */
#define PN_MAX_NODES (1u << 27)
#define PN_MAX_FEAT (1u << 24)

/* Build tr->pn (NULL before) from tr->node, in a's block (or by malloc
 * with a NULL).  0, or -1 when out of memory; a tree beyond the limits
 * keeps pn NULL and is walked plainly. */
static int build_pred(ftree *tr, size_t nfeat, arena *a)
{
    uint32_t nn = tr->nn;
    if (nn > PN_MAX_NODES || nfeat > PN_MAX_FEAT)
        return 0;
    pnode *pn = arena_take(a, (size_t)nn * sizeof *pn);
    /* (old id, new id) pairs still to place; at most one pending per level
     * plus the right siblings, bounded by nn. */
    uint32_t *st = malloc(2 * (size_t)nn * sizeof *st);
    if (!pn || !st) {
        if (!a || !a->p)
            free(pn);
        free(st);
        return -1;
    }
    uint32_t sp = 0, next = 1;
    st[sp++] = 0;
    st[sp++] = 0;
    while (sp) {
        uint32_t p = st[--sp], o = st[--sp];
        const fnode *q = &tr->node[o];
        if (is_leaf(tr->node, o)) {
            pn[p] = (pnode){ INFINITY, 0, 0, leaf_info(q) };
            continue;
        }
        uint32_t c = next;
        next += 2;
        pn[p] = (pnode){ q->thr, (uint32_t)q->feat * LANES * 4u, (c - p) * (uint32_t)sizeof *pn, 0 };
        /* Left popped first: its subtree gets the next pairs. */
        st[sp++] = q->right;
        st[sp++] = c + 1;
        st[sp++] = q->left;
        st[sp++] = c;
    }
    free(st);
    tr->pn = pn;
    return 0;
}

/* Rows r0..r1 through tr one at a time: for a single row (a live verdict:
 * no lanes to fill), for trees without a walking copy (too big for its
 * 32-bit offsets), or when no scratch memory is left. */
static void predict_plain(const ftree *tr, const float *x, size_t f, size_t k, size_t r0,
                          size_t r1, double *proba)
{
    if (tr->pn) {       /* the walking copy, one row at a time */
        for (size_t r = r0; r < r1; r++) {
            const float *row = x + r * f;
            const pnode *q = tr->pn;
            while (q->rel) {
                float v = row[q->xoff / (LANES * 4u)];
                q = (const pnode *)((const char *)q + q->rel + (v <= q->thr ? 0 : sizeof *q));
            }
            add_info(tr, q->info, proba + r * k);
        }
        return;
    }
    for (size_t r = r0; r < r1; r++) {
        const float *row = x + r * f;
        uint32_t i = 0;
        while (!is_leaf(tr->node, i))
            i = step(tr->node, i, row);
        add_info(tr, leaf_info(&tr->node[i]), proba + r * k);
    }
}

/* Walk the LANES rows of one group (feature-major, xg) through tree tr in
 * lockstep and add the leaves of its first nr rows (from r0) into proba.
 * The lanes' chains of dependent loads are independent, so they overlap
 * (their latency, not the instruction count, is what a walk costs).
 * Written out lane by lane with scalar pointers: as a loop over an array,
 * the compiler keeps the lanes in memory and chains every step through
 * it. */
static void predict_group(const ftree *tr, const float *xg, size_t k, size_t r0, size_t nr,
                          double *proba, uint16_t *votes)
{
    const char *xb = (const char *)xg, *root = (const char *)tr->pn;
    const char *o0 = root, *o1 = root, *o2 = root, *o3 = root;
    const char *o4 = root, *o5 = root, *o6 = root, *o7 = root;
    uint32_t moved;
    /* right = !(x <= thr): NaN never reaches here (see predict_block). */
#define LANE_STEP(o, j)                                                         \
    do {                                                                        \
        const pnode *q_ = (const pnode *)(o);                                   \
        float v_ = *(const float *)(xb + q_->xoff + 4 * (j));                   \
        uint32_t r_ = q_->rel;                                                  \
        moved |= r_;                                                            \
        (o) += r_ + (16 & -(size_t)!(v_ <= q_->thr));                           \
    } while (0)
    do {
        moved = 0;
        LANE_STEP(o0, 0);
        LANE_STEP(o1, 1);
        LANE_STEP(o2, 2);
        LANE_STEP(o3, 3);
        LANE_STEP(o4, 4);
        LANE_STEP(o5, 5);
        LANE_STEP(o6, 6);
        LANE_STEP(o7, 7);
    } while (moved);
#undef LANE_STEP
    const char *o[LANES] = { o0, o1, o2, o3, o4, o5, o6, o7 };
    if (votes) {        /* every leaf pure: one vote for its class */
        for (size_t j = 0; j < nr; j++)
            votes[j * k + (((const pnode *)o[j])->info & ~LEAF_PURE)]++;
        return;
    }
    for (size_t j = 0; j < nr; j++)
        add_info(tr, ((const pnode *)o[j])->info, proba + (r0 + j) * k);
}

/* Rows r0..r1 (at most PRED_BLOCK_MAX) through every tree.  xg: scratch
 * for the block's rows in groups of LANES, each group feature-major
 * (value of feature q, lane j at q * LANES + j), so that a lane finds its
 * value at a constant offset from the node's; NULL: plain walks. */
static void predict_block(const forest *m, const float *x, size_t r0, size_t r1, double *proba,
                          float *xg, uint16_t *votes)
{
    size_t f = m->nfeat, k = (size_t)m->k;
    /* Votes instead of probabilities when every leaf is pure (fully grown
     * trees on distinct rows): the rows' counts take a quarter of the
     * memory of their probabilities, and adding to those was the slowest
     * part of a walk once the block's probabilities outgrew the cache.
     * The result is the same to the bit: a sum of ones in doubles is the
     * integer count, divided by the tree count once. */
    int use_votes = votes && xg && r1 - r0 > 1 && m->ntrees <= UINT16_MAX;
    for (int t = 0; use_votes && t < m->ntrees; t++)
        if (m->tree[t].nv || !m->tree[t].pn)
            use_votes = 0;
    if (use_votes)
        memset(votes, 0, (r1 - r0) * k * sizeof *votes);
    size_t ng = (r1 - r0 + LANES - 1) / LANES;
    if (xg) {
        for (size_t g = 0; g < ng; g++) {
            float *d = xg + g * f * LANES;
            for (size_t j = 0; j < LANES; j++) {
                size_t r = r0 + g * LANES + j;
                /* Padding lanes repeat the last row: they walk its path,
                 * adding no steps; their leaves are not used. */
                const float *row = x + (r < r1 ? r : r1 - 1) * f;
                for (size_t q = 0; q < f; q++) {
                    float v = row[q];
                    /* NaN goes right at every node (x <= thr is false), and
                     * so does +inf, no inner threshold being +inf (loaded
                     * ones are finite, trained ones lie below a larger
                     * value): the same walk, and leaves (+inf thresholds)
                     * can keep every lane. */
                    d[q * LANES + j] = isnan(v) ? INFINITY : v;
                }
            }
        }
    }
    for (int t = 0; t < m->ntrees; t++) {
        const ftree *tr = &m->tree[t];
        if (!xg || !tr->pn || r1 - r0 == 1) {
            predict_plain(tr, x, f, k, r0, r1, proba);
            continue;
        }
        /* Pull the whole tree into cache first when many rows will walk
         * it: a sequential sweep streams at memory bandwidth, while the
         * walks would otherwise take each first touch of a line as a
         * full-latency miss. */
        if (r1 - r0 >= 256)
            for (uint32_t i = 0; i < tr->nn; i += 64 / sizeof *tr->pn)
                __builtin_prefetch(&tr->pn[i]);
        for (size_t g = 0; g < ng; g++) {
            size_t rs = r0 + g * LANES, nr = r1 - rs < LANES ? r1 - rs : LANES;
            predict_group(tr, xg + g * f * LANES, k, rs, nr, proba,
                          use_votes ? votes + (rs - r0) * k : NULL);
        }
    }
    double T = (double)m->ntrees;
    if (use_votes) {
        for (size_t q = 0; q < (r1 - r0) * k; q++)
            proba[r0 * k + q] = (double)votes[q] / T;
        return;
    }
    for (size_t q = r0 * k; q < r1 * k; q++)
        proba[q] /= T;
}

static void *predict_worker(void *arg)
{
    predictor *pd = arg;
    size_t B = pd->block, nb = (pd->n + B - 1) / B;
    /* Whole groups of the block's rows; without it, plain walks (slower,
     * the same probabilities). */
    float *xg = malloc((B + LANES) * pd->m->nfeat * sizeof *xg);
    /* Vote counts of the block's rows (NULL: probabilities throughout). */
    uint16_t *votes = malloc(B * (size_t)pd->m->k * sizeof *votes);
    for (;;) {
        size_t b = atomic_fetch_add(&pd->next, 1);
        if (b >= nb)
            break;
        size_t r0 = b * B, r1 = r0 + B < pd->n ? r0 + B : pd->n;
        predict_block(pd->m, pd->x, r0, r1, pd->proba, xg, votes);
    }
    free(votes);
    free(xg);
    return NULL;
}

void forest_predict_proba(const forest *m, const float *x, size_t n, double *proba, int threads)
{
    if (n == 0)
        return;
    memset(proba, 0, n * (size_t)m->k * sizeof *proba);
    int nth = threads > 0 ? threads : ncpu();
    if (nth > 256)
        nth = 256;
    /* A thread costs tens of microseconds: not worth it for a few rows. */
    if (n * (size_t)m->ntrees < PRED_MIN_PER_THREAD * 2)
        nth = 1;
    /* Blocks as big as possible (every tree is brought into cache once
     * per block), but enough of them for every thread. */
    size_t block = (n + (size_t)nth - 1) / (size_t)nth;
    block = block < PRED_BLOCK_MIN ? PRED_BLOCK_MIN : block > PRED_BLOCK_MAX ? PRED_BLOCK_MAX : block;
    predictor pd = { .m = m, .x = x, .n = n, .proba = proba, .block = block };
    atomic_init(&pd.next, 0);
    size_t nb = (n + block - 1) / block;
    if ((size_t)nth > nb)
        nth = (int)nb;
    /* Every row sums its trees in tree order whichever thread takes it, so
     * the result does not depend on the thread count. */
    pthread_t th[256];
    int started[256] = { 0 };
    for (int i = 1; i < nth; i++)
        started[i] = pthread_create(&th[i], NULL, predict_worker, &pd) == 0;
    predict_worker(&pd);
    for (int i = 1; i < nth; i++)
        if (started[i])
            pthread_join(th[i], NULL);
}

/* ---- importances ------------------------------------------------------ */

/* Impurity decrease of inner node i, weighted like sklearn's
 * compute_feature_importances. */
static double node_decrease(const ftree *tr, uint32_t i)
{
    uint32_t l = tr->node[i].left, r = tr->node[i].right;
    return tr->wn[i] * tr->imp[i] - tr->wn[l] * tr->imp[l] - tr->wn[r] * tr->imp[r];
}

void forest_importances(const forest *m, double *out)
{
    memset(out, 0, m->nfeat * sizeof *out);
    if (m->lean)
        return;
    int used = 0;
    for (int t = 0; t < m->ntrees; t++) {
        const ftree *tr = &m->tree[t];
        if (tr->nn <= 1 || !(tr->wn[0] > 0))
            continue;
        /* Normalize per tree first (its decreases over the root weight,
         * then to sum 1), without a scratch array: sum, then add. */
        double sum = 0;
        for (uint32_t i = 0; i < tr->nn; i++)
            if (!is_leaf(tr->node, i))
                sum += node_decrease(tr, i) / tr->wn[0];
        used++;
        if (!(sum > 0))
            continue;
        for (uint32_t i = 0; i < tr->nn; i++)
            if (!is_leaf(tr->node, i))
                out[tr->node[i].feat] += node_decrease(tr, i) / tr->wn[0] / sum;
    }
    if (!used)
        return;
    double tot = 0;
    for (size_t j = 0; j < m->nfeat; j++) {
        out[j] /= used;
        tot += out[j];
    }
    if (tot > 0)
        for (size_t j = 0; j < m->nfeat; j++)
            out[j] /= tot;
}

/* ---- Graphviz --------------------------------------------------------- */

static void put_escaped(FILE *out, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fputc('\\', out), fputc(c, out);
        else if (c < 0x20 || c == 0x7f)
            fputc(' ', out);    /* a control character would break the label */
        else
            fputc(c, out);
    }
}

static void put_feature(FILE *out, const char *const *features, int j)
{
    if (features && features[j])
        put_escaped(out, features[j]);
    else
        fprintf(out, "f%d", j);
}

static void put_class(FILE *out, const char *const *classes, int c)
{
    if (classes && classes[c])
        put_escaped(out, classes[c]);
    else
        fprintf(out, "class %d", c);
}

/* Shortest decimal that reads back as the same float. */
static void put_float(FILE *out, float v)
{
    char buf[48];
    for (int prec = 1; prec <= 9; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, (double)v);
        if (strtof(buf, NULL) == v)
            break;
    }
    fputs(buf, out);
}

/* The start of node i's dot statement: its id, and a label opening with
 * the split (inner nodes), the Gini impurity and the sample count, up to
 * "value = ". */
static void put_node_head(FILE *out, const ftree *tr, uint32_t i, const char *const *features)
{
    const fnode *nd = &tr->node[i];
    fprintf(out, "%u [label=\"", i);
    if (!is_leaf(tr->node, i)) {
        put_feature(out, features, nd->feat);
        fputs(" <= ", out);
        put_float(out, nd->thr);
        fputs("\\n", out);
    }
    fprintf(out, "gini = %.3f\\nsamples = %u\\nvalue = ", tr->imp[i], tr->nsamp[i]);
}

/* Inner node i's two edges; the root's carry True/False labels, as
 * sklearn draws them. */
static void put_node_edges(FILE *out, const ftree *tr, uint32_t i)
{
    const fnode *nd = &tr->node[i];
    if (i == 0) {
        fprintf(out, "0 -> %u [labeldistance=2.5, labelangle=45, headlabel=\"True\"] ;\n", nd->left);
        fprintf(out, "0 -> %u [labeldistance=2.5, labelangle=-45, headlabel=\"False\"] ;\n", nd->right);
    } else {
        fprintf(out, "%u -> %u ;\n%u -> %u ;\n", i, nd->left, i, nd->right);
    }
}

/* Class weights of every node of tr (nn x k, malloc'd; NULL when out of
 * memory): leaves from their distribution times their weight, inner nodes
 * as the sum of their children (children follow parents, so walk
 * backwards). */
static double *node_class_weights(const ftree *tr, size_t k)
{
    double *d = calloc((size_t)tr->nn * k, sizeof *d);
    if (!d)
        return NULL;
    for (uint32_t i = tr->nn; i-- > 0;) {
        const fnode *nd = &tr->node[i];
        double *di = d + (size_t)i * k;
        if (is_leaf(tr->node, i)) {
            const uint32_t *cls;
            const double *pv;
            uint32_t c1;
            double p1;
            uint32_t cnt = leaf_dist(tr, nd, &cls, &pv, &c1, &p1);
            for (uint32_t q = 0; q < cnt; q++)
                di[cls[q]] = pv[q] * tr->wn[i];
        } else {
            const double *dl = d + (size_t)nd->left * k, *dr = d + (size_t)nd->right * k;
            for (size_t c = 0; c < k; c++)
                di[c] = dl[c] + dr[c];
        }
    }
    return d;
}

int forest_tree_dot(const forest *m, int t, const char *const *features,
                    const char *const *classes, FILE *out)
{
    if (!m || m->lean || t < 0 || t >= m->ntrees || !out)
        return -1;
    const ftree *tr = &m->tree[t];
    size_t k = (size_t)m->k;
    double *d = node_class_weights(tr, k);
    if (!d)
        return -1;
    fputs("digraph Tree {\nnode [shape=box] ;\n", out);
    for (uint32_t i = 0; i < tr->nn; i++) {
        const double *di = d + (size_t)i * k;
        size_t top = 0;
        double sum = 0;
        for (size_t c = 0; c < k; c++) {
            sum += di[c];
            if (di[c] > di[top])
                top = c;
        }
        put_node_head(out, tr, i, features);
        if (k <= 10) {
            fputc('[', out);
            for (size_t c = 0; c < k; c++)
                fprintf(out, "%s%.4g", c ? ", " : "", di[c]);
            fputc(']', out);
        } else {
            /* k counts would not fit a box: the top class's share. */
            fprintf(out, "%.4g of %.4g (%.1f%%) in the top class", di[top], sum,
                    sum > 0 ? 100.0 * di[top] / sum : 0.0);
        }
        fputs("\\nclass = ", out);
        put_class(out, classes, (int)top);
        fputs("\"] ;\n", out);
    }
    for (uint32_t i = 0; i < tr->nn; i++)
        if (!is_leaf(tr->node, i))
            put_node_edges(out, tr, i);
    fputs("}\n", out);
    free(d);
    return ferror(out) ? -1 : 0;
}

/* ---- serialization ---------------------------------------------------- */

int forest_is_lean(const forest *m) { return m->lean; }

void forest_save(const forest *m, mf_buf *out)
{
    mf_put_u32(out, FOREST_LAYOUT);
    mf_put_u32(out, (uint32_t)m->nfeat);
    mf_put_u32(out, (uint32_t)m->k);
    mf_put_u32(out, (uint32_t)m->ntrees);
    mf_put_u32(out, (uint32_t)m->p.max_depth);
    mf_put_u32(out, (uint32_t)m->p.max_features);
    mf_put_u32(out, (uint32_t)m->mf);
    mf_put_u32(out, (uint32_t)m->p.min_samples_leaf);
    mf_put_u8(out, m->p.balanced ? 1 : 0);
    mf_put_u64(out, m->p.seed);
    for (int t = 0; t < m->ntrees; t++) {
        const ftree *tr = &m->tree[t];
        mf_put_u32(out, tr->nn);
        for (uint32_t i = 0; i < tr->nn; i++) {
            const fnode *nd = &tr->node[i];
            int leaf = is_leaf(tr->node, i);
            mf_put_u32(out, leaf ? UINT32_MAX : (uint32_t)nd->feat);
            mf_put_f32(out, leaf ? 0.0f : nd->thr);
            mf_put_u32(out, leaf ? 0 : nd->left);
            mf_put_u32(out, leaf ? 0 : nd->right);
            mf_put_u32(out, tr->nsamp[i]);
            mf_put_f64(out, tr->wn[i]);
            mf_put_f64(out, tr->imp[i]);
        }
        for (uint32_t i = 0; i < tr->nn; i++) {
            const fnode *nd = &tr->node[i];
            if (!is_leaf(tr->node, i))
                continue;
            const uint32_t *cls;
            const double *pv;
            uint32_t c1;
            double p1;
            uint32_t cnt = leaf_dist(tr, nd, &cls, &pv, &c1, &p1);
            mf_put_u32(out, cnt);
            for (uint32_t q = 0; q < cnt; q++) {
                mf_put_u32(out, cls[q]);
                mf_put_f64(out, pv[q]);
            }
        }
    }
}

static size_t cur_left(const mf_cur *c) { return c->bad ? 0 : c->len - c->off; }

/* Little-endian fields of a record whose length was checked as a whole:
 * one bounds check per record instead of one call per field (the loader
 * reads tens of millions of fields for a big forest). */
static inline uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline float le_f32(const uint8_t *p)
{
    uint32_t u = le32(p);
    float v;
    memcpy(&v, &u, sizeof v);
    return v;
}

static inline double le_f64(const uint8_t *p)
{
    uint64_t u = (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
    double v;
    memcpy(&v, &u, sizeof v);
    return v;
}


/* A lean load's node array, reused from tree to tree. */
typedef struct node_scratch {
    fnode *p;
    size_t cap;
} node_scratch;

/* Read and check tree t; 0 or -1 with e.  scratch: NULL, or (lean
 * loading) a buffer for the node array, which then only serves to build the
 * walking copy and is left out of the tree, as are the node statistics
 * (checked all the same). */
static int load_tree(mf_cur *c, int t, size_t nfeat, int k, ftree *tr, arena *a,
                     node_scratch *scratch, snitch_err *e)
{
    uint32_t nn = mf_get_u32(c);
    if (c->bad)
        return err_set(e, "forest: tree %d: truncated before its node count", t);
    if (nn == 0 || nn > FOREST_MAX_NODES)
        return err_set(e, "forest: tree %d: node count %u outside 1 .. %u", t, nn, FOREST_MAX_NODES);
    /* Every node takes NODE_BYTES and every leaf at least 16 more. */
    if ((uint64_t)nn * NODE_BYTES > cur_left(c))
        return err_set(e, "forest: tree %d: %u nodes need %llu bytes, %zu left", t, nn,
                       (unsigned long long)nn * NODE_BYTES, cur_left(c));
    tr->nn = nn;
    uint8_t *seen = calloc(nn, 1);
    size_t vcap = 0, cap2 = 0;
    int rc = -1;
    if (scratch) {
        if (array_grow((void **)&scratch->p, &scratch->cap, nn, sizeof *scratch->p) < 0) {
            err_set(e, "forest: tree %d: out of memory", t);
            goto out;
        }
        tr->node = scratch->p;
    } else {
        tr->node = arena_take(a, (size_t)nn * sizeof *tr->node);
        tr->nsamp = arena_take(a, (size_t)nn * sizeof *tr->nsamp);
        tr->wn = arena_take(a, (size_t)nn * sizeof *tr->wn);
        tr->imp = arena_take(a, (size_t)nn * sizeof *tr->imp);
        if (!tr->node || !tr->nsamp || !tr->wn || !tr->imp) {
            err_set(e, "forest: tree %d: out of memory", t);
            goto out;
        }
    }
    if (!seen) {
        err_set(e, "forest: tree %d: out of memory", t);
        goto out;
    }
    /* All node records at once: their length was checked above. */
    const uint8_t *rec = mf_get_bytes(c, (size_t)nn * NODE_BYTES);
    if (!rec) {
        err_set(e, "forest: tree %d: truncated in its nodes", t);
        goto out;
    }
    for (uint32_t i = 0; i < nn; i++, rec += NODE_BYTES) {
        int32_t feat = (int32_t)le32(rec);
        float thr = le_f32(rec + 4);
        uint32_t l = le32(rec + 8), r = le32(rec + 12);
        uint32_t ns = le32(rec + 16);
        double wn = le_f64(rec + 20), imp = le_f64(rec + 28);
        if (feat < -1 || (feat >= 0 && (size_t)feat >= nfeat)) {
            err_set(e, "forest: tree %d node %u: feature %d outside 0 .. %zu", t, i, (int)feat, nfeat - 1);
            goto out;
        }
        if (!isfinite(thr)) {
            err_set(e, "forest: tree %d node %u: threshold is not finite", t, i);
            goto out;
        }
        if (ns == 0 || !isfinite(wn) || wn < 0 || !isfinite(imp) || imp < 0 || imp > 1) {
            err_set(e, "forest: tree %d node %u: bad sample count, weight or impurity", t, i);
            goto out;
        }
        if (feat < 0) {
            if (l != 0 || r != 0 || thr != 0) {
                err_set(e, "forest: tree %d node %u: leaf with children or threshold", t, i);
                goto out;
            }
        } else {
            if (l <= i || r <= i || l >= nn || r >= nn || l == r) {
                err_set(e, "forest: tree %d node %u: children %u, %u must be distinct, after the node "
                        "and below %u", t, i, l, r, nn);
                goto out;
            }
            if (seen[l] || seen[r]) {
                err_set(e, "forest: tree %d node %u: child %u already has a parent", t, i,
                        seen[l] ? l : r);
                goto out;
            }
            seen[l] = seen[r] = 1;
        }
        /* A leaf stays marked by feature -1 until its distribution is read. */
        tr->node[i] = (fnode){ thr, feat, l, r };
        if (!scratch) {
            tr->nsamp[i] = ns;
            tr->wn[i] = wn;
            tr->imp[i] = imp;
        }
    }
    for (uint32_t i = 1; i < nn; i++)
        if (!seen[i]) {
            err_set(e, "forest: tree %d node %u: not reachable from the root", t, i);
            goto out;
        }
    for (uint32_t i = 0; i < nn; i++) {
        fnode *nd = &tr->node[i];
        if (nd->feat >= 0)
            continue;
        const uint8_t *cp = mf_get_bytes(c, 4);
        if (!cp) {
            err_set(e, "forest: tree %d node %u: truncated before its class distribution", t, i);
            goto out;
        }
        uint32_t cnt = le32(cp), o = tr->nv;
        if (cnt == 0 || cnt > (uint32_t)k || (uint64_t)cnt * 12 > cur_left(c)) {
            err_set(e, "forest: tree %d node %u: class distribution of %u entries (%d classes, "
                    "%zu bytes left)", t, i, cnt, k, cur_left(c));
            goto out;
        }
        size_t need = (size_t)o + 1 + cnt;
        if (need >= LEAF_PURE ||
            array_grow((void **)&tr->vcls, &vcap, need, sizeof *tr->vcls) < 0 ||
            array_grow((void **)&tr->vp, &cap2, need, sizeof *tr->vp) < 0) {
            err_set(e, "forest: tree %d node %u: out of memory", t, i);
            goto out;
        }
        double sum = 0;
        const uint8_t *ent = mf_get_bytes(c, (size_t)cnt * 12);   /* checked above */
        if (!ent) {
            err_set(e, "forest: tree %d node %u: truncated in its class distribution", t, i);
            goto out;
        }
        for (uint32_t q = 0; q < cnt; q++, ent += 12) {
            uint32_t cls = le32(ent);
            double p = le_f64(ent + 4);
            if (cls >= (uint32_t)k || (q > 0 && cls <= tr->vcls[o + q])) {
                err_set(e, "forest: tree %d node %u: class %u out of range or order", t, i, cls);
                goto out;
            }
            if (!isfinite(p) || p < 0 || p > 1) {
                err_set(e, "forest: tree %d node %u: class %u probability is not in 0 .. 1", t, i, cls);
                goto out;
            }
            tr->vcls[o + 1 + q] = cls;
            tr->vp[o + 1 + q] = p;
            sum += p;
        }
        if (fabs(sum - 1.0) > 1e-6) {
            err_set(e, "forest: tree %d node %u: class probabilities sum to %g", t, i, sum);
            goto out;
        }
        if (cnt == 1 && tr->vp[o + 1] == 1.0) {
            *nd = make_leaf(i, LEAF_PURE | tr->vcls[o + 1]);
        } else {
            tr->vcls[o] = cnt;
            tr->vp[o] = 0;
            tr->nv = (uint32_t)need;
            *nd = make_leaf(i, o);
        }
    }
    if (build_pred(tr, nfeat, a) < 0 || (scratch && !tr->pn)) {
        err_set(e, "forest: tree %d: out of memory", t);
        goto out;
    }
    rc = 0;
out:
    if (scratch)
        tr->node = NULL;    /* the scratch's, not the tree's */
    free(seen);
    return rc;
}

forest *forest_load(const uint8_t *p, size_t len, size_t nfeat, int nclasses, int flags,
                    snitch_err *e)
{
    mf_cur c = { .p = p, .len = len };
    return forest_load_cur(&c, nfeat, nclasses, flags, e);
}

forest *forest_load_cur(mf_cur *c, size_t nfeat, int nclasses, int flags, snitch_err *e)
{
    int lean = (flags & FOREST_LOAD_LEAN) != 0;
    size_t len = c->len;
    uint32_t ver = mf_get_u32(c), nf = mf_get_u32(c), k = mf_get_u32(c), nt = mf_get_u32(c);
    int32_t maxd = (int32_t)mf_get_u32(c), mfreq = (int32_t)mf_get_u32(c);
    int32_t mfu = (int32_t)mf_get_u32(c), msl = (int32_t)mf_get_u32(c);
    uint8_t bal = mf_get_u8(c);
    uint64_t seed = mf_get_u64(c);
    if (c->bad)
        return err_set(e, "forest: truncated header (%zu bytes)", len), NULL;
    if (ver != FOREST_LAYOUT)
        return err_set(e, "forest: layout version %u, expected %u", ver, FOREST_LAYOUT), NULL;
    if (nf != nfeat)
        return err_set(e, "forest: model has %u features, expected %zu", nf, nfeat), NULL;
    if (nclasses < 1 || k != (uint32_t)nclasses)
        return err_set(e, "forest: model has %u classes, expected %d", k, nclasses), NULL;
    if (nt == 0 || nt > FOREST_MAX_TREES)
        return err_set(e, "forest: tree count %u outside 1 .. %u", nt, FOREST_MAX_TREES), NULL;
    if (maxd < 0 || msl < 1 || bal > 1 || mfreq < FOREST_ALL || mfu < 1 || (uint32_t)mfu > nf)
        return err_set(e, "forest: bad parameters (max_depth %d, min_samples_leaf %d, balanced %u, "
                       "max_features %d/%d)", maxd, msl, bal, mfreq, mfu), NULL;
    /* The smallest tree (one leaf of one class) takes 4 + 36 + 4 + 12 bytes. */
    if ((uint64_t)nt * (4 + NODE_BYTES + 16) > cur_left(c))
        return err_set(e, "forest: %u trees cannot fit in %zu bytes", nt, cur_left(c)), NULL;

    forest *m = calloc(1, sizeof *m);
    if (!m)
        return err_set(e, "forest: out of memory"), NULL;
    m->tree = calloc(nt, sizeof *m->tree);
    if (!m->tree) {
        free(m);
        return err_set(e, "forest: out of memory"), NULL;
    }
    m->ntrees = (int)nt;
    m->nfeat = nfeat;
    m->k = nclasses;
    m->mf = mfu;
    m->p.n_trees = (int)nt;
    m->p.max_depth = maxd;
    m->p.max_features = mfreq;
    m->p.min_samples_leaf = msl;
    m->p.balanced = bal;
    m->p.seed = seed;
    m->p.threads = 0;
    m->lean = lean;
    /* Every tree's node arrays in one block, bounded by the nodes the
     * section can hold (NODE_BYTES each), plus a line of alignment per
     * array.  Why: a big forest is tens of MB of arrays, and faulting them
     * in 4 KiB at a time was a third of the load time; the block asks for
     * transparent huge pages.  Pages beyond what the trees use are never
     * touched, so they cost address space only.  Without the block (no
     * memory for it), each array is allocated on its own. */
    size_t per_node = lean ? sizeof(pnode)
                           : sizeof(fnode) + sizeof(uint32_t) + 2 * sizeof(double) + sizeof(pnode);
    arena ar = { NULL, 0, (cur_left(c) / NODE_BYTES) * per_node + (size_t)nt * (lean ? 1 : 5) * 64 };
    ar.p = big_alloc(&ar.cap);
    m->arena = ar.p;
    node_scratch ns = { NULL, 0 };
    for (uint32_t t = 0; t < nt; t++)
        if (load_tree(c, (int)t, nfeat, nclasses, &m->tree[t], &ar, lean ? &ns : NULL, e) < 0) {
            free(ns.p);
            forest_free(m);
            return NULL;
        }
    free(ns.p);
    if (c->off != c->len) {
        forest_free(m);
        return err_set(e, "forest: %zu trailing bytes after the last tree", c->len - c->off), NULL;
    }
    return m;
}

/* ---- Graphviz, depth-limited (snitch report) ---------------------------- */

/* Fill colours by majority class: a qualitative palette, repeated past its
 * end (more classes than colours tell apart anyway). */
static const char *const dot_fill[] = {
    "1f77b4", "ff7f0e", "2ca02c", "d62728", "9467bd", "8c564b", "e377c2", "7f7f7f",
    "bcbd22", "17becf", "aec7e8", "ffbb78", "98df8a", "ff9896", "c5b0d5", "c49c94",
    "f7b6d2", "c7c7c7", "dbdb8d", "9edae5",
};

int forest_tree_dot_limited(const forest *m, int t, const char *const *features,
                            const char *const *classes, int max_depth, int filled, FILE *out)
{
    if (!m || m->lean || t < 0 || t >= m->ntrees || !out || max_depth < 0)
        return -1;
    const ftree *tr = &m->tree[t];
    size_t k = (size_t)m->k;
    /* Class weights per node; depths in one forward pass (children follow
     * their parent). */
    double *d = node_class_weights(tr, k);
    int *depth = calloc(tr->nn, sizeof *depth);
    if (!d || !depth) {
        free(d);
        free(depth);
        return -1;
    }
    for (uint32_t i = 0; i < tr->nn; i++)
        if (!is_leaf(tr->node, i))
            depth[tr->node[i].left] = depth[tr->node[i].right] = depth[i] + 1;
    fprintf(out, "digraph Tree {\nnode [shape=box, style=\"%s\", fontname=\"helvetica\"] ;\n"
                 "edge [fontname=\"helvetica\"] ;\n",
            filled ? "filled, rounded" : "rounded");
    for (uint32_t i = 0; i < tr->nn; i++) {
        if (max_depth && depth[i] > max_depth)
            continue;
        const double *di = d + (size_t)i * k;
        size_t top = 0;
        double sum = 0, second = 0;
        for (size_t c = 0; c < k; c++) {
            sum += di[c];
            if (di[c] > di[top])
                top = c;
        }
        for (size_t c = 0; c < k; c++)
            if (c != top && di[c] > second)
                second = di[c];
        put_node_head(out, tr, i, features);
        if (k <= 6) {
            fputc('[', out);
            for (size_t c = 0; c < k; c++)
                fprintf(out, "%s%.4g", c ? ", " : "", di[c]);
            fputc(']', out);
        } else {
            fprintf(out, "%.1f%% in the top class", sum > 0 ? 100.0 * di[top] / sum : 0.0);
        }
        fputs("\\nclass = ", out);
        put_class(out, classes, (int)top);
        fputc('"', out);
        if (filled) {
            /* Stronger colour for purer nodes, as scikit-learn draws them:
             * the lead of the top class over the runner-up. */
            double p1 = sum > 0 ? di[top] / sum : 0, p2 = sum > 0 ? second / sum : 0;
            double a = p2 < 1 ? (p1 - p2) / (1 - p2) : 0;
            int alpha = (int)(a * 255 + 0.5);
            alpha = alpha < 0 ? 0 : alpha > 255 ? 255 : alpha;
            fprintf(out, ", fillcolor=\"#%s%02x\"", dot_fill[top % (sizeof dot_fill / sizeof *dot_fill)],
                    alpha);
        }
        fputs("] ;\n", out);
        /* An inner node at the limit: one marker for the subtree left out. */
        if (!is_leaf(tr->node, i) && max_depth && depth[i] == max_depth)
            fprintf(out, "c%u [label=\"(...)\", shape=plaintext, style=\"\"] ;\n%u -> c%u ;\n", i, i, i);
    }
    for (uint32_t i = 0; i < tr->nn; i++)
        if (!is_leaf(tr->node, i) && !(max_depth && depth[i] >= max_depth))
            put_node_edges(out, tr, i);
    fputs("}\n", out);
    free(d);
    free(depth);
    return ferror(out) ? -1 : 0;
}
