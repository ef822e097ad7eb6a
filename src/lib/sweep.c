/* sweep.c: threshold, label and take each run's value statistics in one
 * sweep over the voxels, slab by slab, from memory or straight from the
 * file while it is being inflated (issue 9). */
#include "sweep_internal.h"

#include "components_internal.h"
#include "io_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { CHUNK = 4096 };

static double clamp01(double v)
{
	return v < 0.0 ? 0.0 : (v > 1.0 ? 1.0 : v);
}

/*
 * Narrow unscaled integers: the sum of a run is exact in 64-bit integers
 * (|v| < 2^16, fewer than 2^31 voxels), so it equals the double sum taken
 * voxel by voxel, and the clamped values are 0 or 1.
 */
#define INT_RUN(T)                                                             \
	do {                                                                   \
		const T *v = (const T *)src;                                   \
		int64_t sum = 0, soft = 0, peak = 0;                           \
		T max = v[0];                                                  \
		for (int64_t q = 0; q < count; q++) {                          \
			sum += v[q];                                           \
			soft += v[q] >= 1;                                     \
			if (v[q] > max) {                                      \
				max = v[q];                                    \
				peak = q;                                      \
			}                                                      \
		}                                                              \
		st->sum = (double)sum;                                         \
		st->soft = (double)soft;                                       \
		st->max = (double)max;                                         \
		st->peak = peak;                                               \
		return;                                                        \
	} while (0)

void lesion_run_stat_of(const struct lesion_volume *vol, const void *src, int64_t count,
			struct lesion_run_stat *st)
{
	double buf[CHUNK];
	const int bpv = vol->bytes_per_voxel;
	if (!vol->scaled && count > 0) {
		switch (vol->dtype) {
		case LESION_DT_UINT8: INT_RUN(uint8_t);
		case LESION_DT_INT8: INT_RUN(int8_t);
		case LESION_DT_INT16: INT_RUN(int16_t);
		case LESION_DT_UINT16: INT_RUN(uint16_t);
		default: break;
		}
	}
	st->sum = 0.0;
	st->soft = 0.0;
	st->max = -INFINITY;
	st->peak = -1;
	/* voxel by voxel in file order: the same sums whoever calls */
	for (int64_t s = 0; s < count; s += CHUNK) {
		int64_t cnt = count - s < CHUNK ? count - s : CHUNK;
		lesion_values_convert(vol, (const unsigned char *)src + s * bpv, cnt, buf);
		for (int64_t q = 0; q < cnt; q++) {
			double v = buf[q];
			st->sum += v;
			st->soft += clamp01(v);
			if (v > st->max || st->peak < 0) {
				st->max = v;
				st->peak = s + q;
			}
		}
	}
}

enum lesion_status lesion_run_stats(const struct lesion_volume *vol,
				    const struct lesion_components *c,
				    struct lesion_run_stat **out, struct lesion_error *err)
{
	const int64_t nx = c->dim[0];
	const int bpv = vol->bytes_per_voxel;
	struct lesion_run_stat *st = lesion_alloc_large(sizeof(*st) * (size_t)(c->n_runs + 1));
	*out = NULL;
	if (!st)
		return lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
#pragma omp parallel for schedule(dynamic, 64)
	for (int64_t r = 0; r < c->n_rows; r++)
		for (int64_t i = c->row_start[r]; i < c->row_start[r + 1]; i++)
			lesion_run_stat_of(vol, (const unsigned char *)vol->data +
					   (r * nx + c->runs[i].x0) * bpv,
					   c->runs[i].x1 - c->runs[i].x0, &st[i]);
	*out = st;
	return LESION_OK;
}

/* The run statistics of one slab, in the order of its runs. */
struct slab_stats {
	struct lesion_run_stat *st;
	int64_t n, cap;
};

struct sweep {
	struct lesion_threshold t;
	const struct lesion_volume *vol;
	struct lesion_labeller *L;
	int64_t n_slabs;
	int bpv;
	/* where the stored bytes of slab s begin, for voxel slab_start(s):
	 * the volume's buffer, or a slot of the ring the reader fills */
	const unsigned char *data;  /* whole volume, or NULL */
	unsigned char *ring;
	int64_t n_slots, slot_bytes;
	int *busy;                  /* per slot: a task still reads it */
	struct slab_stats *stats;
};

static const unsigned char *slab_bytes(const struct sweep *w, int64_t slab, int64_t start)
{
	if (w->data)
		return w->data + start * w->bpv;
	int64_t first = lesion_labeller_slab_start(w->L, slab);
	return w->ring + (slab % w->n_slots) * w->slot_bytes + (start - first) * w->bpv;
}

static int64_t sweep_fill(void *ctx, int64_t slab, int64_t start, int64_t n, uint8_t *out)
{
	const struct sweep *w = ctx;
	return lesion_threshold_span_at(&w->t, slab_bytes(w, slab, start), start, n, out);
}

static int sweep_runs(void *ctx, int64_t slab, int64_t start, const struct lesion_run *runs,
		      int64_t n)
{
	struct sweep *w = ctx;
	struct slab_stats *ss = &w->stats[slab];
	if (ss->n + n > ss->cap) {
		int64_t cap = ss->cap * 2 + n + 256;
		struct lesion_run_stat *g = lesion_realloc_large(ss->st, sizeof(*g) * (size_t)cap);
		if (!g)
			return -1;
		ss->st = g;
		ss->cap = cap;
	}
	const unsigned char *row = slab_bytes(w, slab, start);
	for (int64_t i = 0; i < n; i++)
		lesion_run_stat_of(w->vol, row + (int64_t)runs[i].x0 * w->bpv,
				   runs[i].x1 - runs[i].x0, &ss->st[ss->n + i]);
	ss->n += n;
	return 0;
}

static void run_slab_task(struct sweep *w, int64_t slab, int64_t slot)
{
	uint8_t *scratch = malloc((size_t)w->vol->geom.dim[0]);
	if (scratch) /* else the slab stays unfinished and finish says so */
		lesion_labeller_run_slab(w->L, slab, scratch);
	free(scratch);
	if (slot >= 0) {
#pragma omp atomic write
		w->busy[slot] = 0;
	}
}

/*
 * Read the volume slab by slab into a ring of slots while other threads
 * label the slabs already read: on two cores the labelling hides behind
 * the inflate, and only the ring, never the whole volume, is in memory.
 */
static enum lesion_status sweep_stream(struct sweep *w, struct lesion_voxel_reader *reader,
				       struct lesion_error *err)
{
	enum lesion_status st = LESION_OK;
#pragma omp parallel shared(st)
#pragma omp single
	{
		for (int64_t s = 0; s < w->n_slabs && !st; s++) {
			int64_t slot = s % w->n_slots;
			int busy;
#pragma omp atomic read
			busy = w->busy[slot];
			if (busy) {
				/* the slot's last slab is still being labelled */
#pragma omp taskwait
			}
			int64_t first = lesion_labeller_slab_start(w->L, s);
			int64_t n = lesion_labeller_slab_end(w->L, s) - first;
			st = lesion_voxel_reader_read(reader, w->ring + slot * w->slot_bytes, n, err);
			if (st)
				break;
			w->busy[slot] = 1;
#pragma omp task firstprivate(s, slot)
			run_slab_task(w, s, slot);
		}
#pragma omp taskwait
	}
	return st;
}

enum lesion_status lesion_sweep_label(const struct lesion_volume *vol,
				      struct lesion_voxel_reader *reader,
				      const struct lesion_volume *brain,
				      const struct lesion_bounds *b, int connectivity,
				      struct lesion_components *comps,
				      struct lesion_run_stat **stats, int64_t *nan_voxels,
				      struct lesion_error *err)
{
	struct sweep w;
	enum lesion_status st;
	memset(&w, 0, sizeof(w));
	memset(comps, 0, sizeof(*comps));
	*stats = NULL;
	lesion_threshold_init(&w.t, vol, brain, b, 0);
	w.vol = vol;
	w.bpv = vol->bytes_per_voxel;
	const struct lesion_row_source src = {sweep_fill, sweep_runs, &w};
	st = lesion_labeller_alloc(&w.L, &src, vol->geom.dim, connectivity, err);
	if (st)
		return st;
	w.n_slabs = lesion_labeller_n_slabs(w.L);
	w.stats = calloc((size_t)w.n_slabs, sizeof(*w.stats));
	if (!w.stats)
		goto oom;
	if (reader) {
		int64_t most = 0;
		for (int64_t s = 0; s < w.n_slabs; s++) {
			int64_t n = lesion_labeller_slab_end(w.L, s) - lesion_labeller_slab_start(w.L, s);
			most = n > most ? n : most;
		}
		w.slot_bytes = most * w.bpv;
		w.n_slots = 8;
		w.ring = lesion_alloc_large((size_t)(w.slot_bytes * w.n_slots));
		w.busy = calloc((size_t)w.n_slots, sizeof(*w.busy));
		if (!w.ring || !w.busy)
			goto oom;
		st = sweep_stream(&w, reader, err);
	} else {
		w.data = vol->data;
#pragma omp parallel for schedule(dynamic, 1)
		for (int64_t s = 0; s < w.n_slabs; s++)
			run_slab_task(&w, s, -1);
	}
	if (!st)
		st = lesion_labeller_finish(w.L, comps, nan_voxels, err);
	else
		lesion_labeller_free(w.L);
	w.L = NULL;
	if (!st) {
		/* the slabs' statistics in slab order are the runs' in file order */
		struct lesion_run_stat *all = lesion_alloc_large(sizeof(*all) *
								 (size_t)(comps->n_runs + 1));
		if (!all) {
			lesion_components_release(comps);
			goto oom;
		}
		int64_t at = 0;
		for (int64_t s = 0; s < w.n_slabs; s++) {
			if (w.stats[s].n)
				memcpy(all + at, w.stats[s].st, sizeof(*all) * (size_t)w.stats[s].n);
			at += w.stats[s].n;
		}
		*stats = all;
	}
	goto out;
oom:
	lesion_labeller_free(w.L);
	st = lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
out:
	for (int64_t s = 0; w.stats && s < w.n_slabs; s++)
		free(w.stats[s].st);
	free(w.stats);
	free(w.ring);
	free(w.busy);
	return st;
}
