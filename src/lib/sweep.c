/* sweep.c: threshold, label and take each run's value statistics in one
 * sweep over the voxels, row by row in file order, from memory or straight
 * from the file while it is being inflated (issue 9). */
#include "sweep_internal.h"

#include "components_internal.h"
#include "io_internal.h"

#include <math.h>
#include <omp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

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

/*
 * The rows are handed out in chunks of whole rows small enough to stay in
 * cache between the thread that inflates them and the one that labels them;
 * eight of them make the ring between the two.
 */
enum { CHUNK_BYTES = 256 << 10, N_SLOTS = 8 };

struct sweep {
	struct lesion_threshold t;
	const struct lesion_volume *vol;
	struct lesion_row_labeller *L;
	int64_t nx, bpv, n_rows, rows_per_chunk, n_chunks;
	uint8_t *mask;                 /* one chunk's rows, thresholded */
	struct lesion_run_stat *st;    /* every run's, in file order */
	int64_t n_st, cap_st;
	int64_t n_nan;
	int zero_is_background; /* a voxel stored as all zero bytes is never lesion */
};

/*
 * The offset of the first non-zero byte of the @n at @p, or @n: 64 bytes a
 * step (SSE2, which every x86-64 has, else 64-bit words), so a mostly zero
 * volume is passed over at the speed of memory.
 */
static int64_t first_nonzero(const unsigned char *p, int64_t n)
{
	int64_t i = 0;
#ifdef __SSE2__
	const __m128i zero = _mm_setzero_si128();
	for (; i + 64 <= n; i += 64) {
		__m128i a = _mm_or_si128(_mm_loadu_si128((const __m128i *)(p + i)),
					 _mm_loadu_si128((const __m128i *)(p + i + 16)));
		__m128i b = _mm_or_si128(_mm_loadu_si128((const __m128i *)(p + i + 32)),
					 _mm_loadu_si128((const __m128i *)(p + i + 48)));
		if (_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_or_si128(a, b), zero)) != 0xFFFF)
			break;
	}
#else
	for (; i + 64 <= n; i += 64) {
		uint64_t w[8], any = 0;
		memcpy(w, p + i, sizeof(w));
		for (int k = 0; k < 8; k++)
			any |= w[k];
		if (any)
			break;
	}
#endif
	while (i < n && !p[i])
		i++;
	return i;
}

/* Label rows [@r0, @r1), thresholded into w->mask from row @m0 on. */
static int label_rows(struct sweep *w, const unsigned char *data, int64_t m0,
		      int64_t r0, int64_t r1)
{
	const int64_t nx = w->nx, bpv = w->bpv;
	for (int64_t r = r0; r < r1; r++) {
		const struct lesion_run *runs;
		const unsigned char *row = data + (r - m0) * nx * bpv;
		int64_t k = lesion_row_labeller_add_row(w->L, w->mask + (r - m0) * nx, &runs);
		if (k < 0)
			return -1;
		if (!k)
			continue;
		if (w->n_st + k > w->cap_st) {
			int64_t cap = w->cap_st * 2 + k;
			struct lesion_run_stat *g = lesion_realloc_large(
				w->st, sizeof(*g) * (size_t)w->cap_st, sizeof(*g) * (size_t)cap);
			if (!g)
				return -1;
			w->st = g;
			w->cap_st = cap;
		}
		for (int64_t i = 0; i < k; i++)
			lesion_run_stat_of(w->vol, row + runs[i].x0 * bpv, runs[i].x1 - runs[i].x0,
					   &w->st[w->n_st + i]);
		w->n_st += k;
	}
	return 0;
}

/*
 * Threshold, label and take the run statistics of rows [@r0, @r1), whose
 * stored bytes start at @data; -1 when out of memory. Lesion masks and
 * probability maps are mostly zero: when zero is background, rows stored
 * as zero bytes are skipped after a look at their bytes, and the others
 * are thresholded in stretches, as few calls as the image allows.
 */
static int sweep_rows(struct sweep *w, const unsigned char *data, int64_t r0, int64_t r1)
{
	const int64_t nx = w->nx, row_bytes = w->nx * w->bpv;
	int64_t r = r0;
	while (r < r1) {
		int64_t e = r;
		if (w->zero_is_background) {
			/* empty rows up to the row of the next non-zero byte */
			const unsigned char *from = data + (r - r0) * row_bytes;
			e = r + first_nonzero(from, (r1 - r) * row_bytes) / row_bytes;
			lesion_row_labeller_add_empty_rows(w->L, e - r);
			r = e;
			/* then the rows up to the next empty one */
			while (e < r1 && first_nonzero(data + (e - r0) * row_bytes, row_bytes) <
			       row_bytes)
				e++;
		} else {
			e = r1;
		}
		if (e == r)
			continue;
		const unsigned char *from = data + (r - r0) * row_bytes;
		w->n_nan += lesion_threshold_span_at(&w->t, from, r * nx, (e - r) * nx, w->mask);
		if (label_rows(w, from, r, r, e))
			return -1;
		r = e;
	}
	return 0;
}

static int64_t chunk_rows(const struct sweep *w, int64_t c)
{
	int64_t r0 = c * w->rows_per_chunk;
	return w->n_rows - r0 < w->rows_per_chunk ? w->n_rows - r0 : w->rows_per_chunk;
}

/*
 * The ring between the reading thread and the labelling one. A side that
 * has to wait sleeps until BATCH chunks are ready for it (or the last
 * one), and the other side wakes it only then: waking a thread costs
 * tens of microseconds on a virtual machine, and a sparse mask is labelled
 * several times faster than it is inflated (the MS mask's 400 chunks made
 * 443 context switches, now 62).
 */
enum { BATCH = N_SLOTS / 2 };

struct pipe {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int64_t filled, labelled;      /* chunks so far */
	int64_t wake_filled;           /* the labeller sleeps until filled reaches it */
	int64_t wake_labelled;         /* the reader sleeps until labelled reaches it */
	int stop;                      /* a read failed or memory ran out */
};

/* Wait until *@count >= @need; if that means sleeping, until *@count >=
 * @enough (>= @need), announced in *@wake. */
static void pipe_wait(struct pipe *p, const int64_t *count, int64_t *wake, int64_t need,
		      int64_t enough, int *stop)
{
	pthread_mutex_lock(&p->mu);
	if (*count < need) {
		*wake = enough;
		while (!p->stop && *count < enough)
			pthread_cond_wait(&p->cv, &p->mu);
		*wake = 0;
	}
	*stop = p->stop;
	pthread_mutex_unlock(&p->mu);
}

/* Set *@count to @value and wake the other side if it waits for that. */
static void pipe_post(struct pipe *p, int64_t *count, const int64_t *wake, int64_t value,
		      int stop)
{
	pthread_mutex_lock(&p->mu);
	*count = value;
	p->stop |= stop;
	if (p->stop || (*wake && *count >= *wake))
		pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

/* The labelling side of the ring: chunks in file order as they are read. */
struct labeller_job {
	struct sweep *w;
	struct pipe *p;
	unsigned char *ring;
	int oom;
};

static void *label_chunks(void *arg)
{
	struct labeller_job *job = arg;
	struct sweep *w = job->w;
	const int64_t slot_bytes = w->rows_per_chunk * w->nx * w->bpv;
	struct pipe *p = job->p;
	for (int64_t c = 0; c < w->n_chunks; c++) {
		int stop;
		int64_t enough = c + BATCH < w->n_chunks ? c + BATCH : w->n_chunks;
		pipe_wait(p, &p->filled, &p->wake_filled, c + 1, enough, &stop);
		if (stop)
			break;
		int64_t r0 = c * w->rows_per_chunk;
		job->oom = sweep_rows(w, job->ring + (c % N_SLOTS) * slot_bytes, r0,
				      r0 + chunk_rows(w, c)) != 0;
		pipe_post(p, &p->labelled, &p->wake_labelled, c + 1, job->oom);
		if (job->oom)
			break;
	}
	return NULL;
}

/*
 * Read the volume chunk by chunk into a ring of slots while a second
 * thread labels the chunks already read, in file order: on two cores the
 * labelling hides behind the inflate, and only the ring, never the whole
 * volume, is in memory. The second thread is a plain thread, not an OpenMP
 * team, so no idle OpenMP thread spins after the sweep. With one thread
 * allowed (--threads 1, or inside another parallel region) the same
 * chunks are read and labelled in turn.
 */
static enum lesion_status sweep_stream(struct sweep *w, struct lesion_voxel_reader *reader,
				       unsigned char *ring, int *oom, struct lesion_error *err)
{
	enum lesion_status st = LESION_OK;
	const int64_t slot_bytes = w->rows_per_chunk * w->nx * w->bpv;
	struct pipe p = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0, 0, 0};
	struct labeller_job job = {w, &p, ring, 0};
	pthread_t labeller;
	*oom = 0;
	if (w->n_chunks < 2 || omp_in_parallel() || omp_get_max_threads() < 2 ||
	    pthread_create(&labeller, NULL, label_chunks, &job) != 0) {
		for (int64_t c = 0; c < w->n_chunks && !st && !*oom; c++) {
			int64_t r0 = c * w->rows_per_chunk;
			st = lesion_voxel_reader_read(reader, ring, chunk_rows(w, c) * w->nx, err);
			if (!st)
				*oom = sweep_rows(w, ring, r0, r0 + chunk_rows(w, c)) != 0;
		}
		return st;
	}
	for (int64_t c = 0; c < w->n_chunks; c++) {
		int stop;
		/* slot c % N_SLOTS is free once chunk c - N_SLOTS is labelled */
		pipe_wait(&p, &p.labelled, &p.wake_labelled, c - N_SLOTS + 1,
			  c - N_SLOTS + BATCH, &stop);
		if (stop)
			break;
		st = lesion_voxel_reader_read(reader, ring + (c % N_SLOTS) * slot_bytes,
					      chunk_rows(w, c) * w->nx, err);
		pipe_post(&p, &p.filled, &p.wake_filled, c + 1, st != LESION_OK);
		if (st)
			break;
	}
	pthread_join(labeller, NULL);
	*oom = job.oom;
	pthread_cond_destroy(&p.cv);
	pthread_mutex_destroy(&p.mu);
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
	unsigned char *ring = NULL;
	enum lesion_status st;
	int oom = 0;
	memset(&w, 0, sizeof(w));
	memset(comps, 0, sizeof(*comps));
	*stats = NULL;
	*nan_voxels = 0;
	lesion_threshold_init(&w.t, vol, brain, b, 0);
	w.vol = vol;
	w.bpv = vol->bytes_per_voxel;
	{
		/* the rule applied to one voxel of zero bytes, without the brain
		 * mask (which only removes): background, and not NaN? */
		struct lesion_threshold t0 = w.t;
		const unsigned char zero[16] = {0};
		uint8_t in = 1;
		t0.brain = NULL;
		w.zero_is_background = w.bpv <= (int64_t)sizeof(zero) &&
			lesion_threshold_span_at(&t0, zero, 0, 1, &in) == 0 && in == 0;
	}
	w.nx = vol->geom.dim[0];
	w.n_rows = vol->geom.dim[1] * vol->geom.dim[2];
	/* a first guess of the runs, from which the arrays grow by doubling */
	const int64_t guess = vol->geom.n_voxels / 64 + 1024;
	st = lesion_row_labeller_alloc(&w.L, vol->geom.dim, connectivity, guess, err);
	if (st)
		return st;
	w.rows_per_chunk = CHUNK_BYTES / (w.nx * w.bpv) > 0 ? CHUNK_BYTES / (w.nx * w.bpv) : 1;
	w.n_chunks = (w.n_rows + w.rows_per_chunk - 1) / w.rows_per_chunk;
	w.cap_st = guess;
	w.st = lesion_alloc_large(sizeof(*w.st) * (size_t)w.cap_st);
	w.mask = lesion_alloc_large((size_t)(w.rows_per_chunk * w.nx));
	if (!w.st || !w.mask)
		goto oom;
	if (reader) {
		ring = lesion_alloc_large((size_t)(w.rows_per_chunk * w.nx * w.bpv * N_SLOTS));
		if (!ring)
			goto oom;
		st = sweep_stream(&w, reader, ring, &oom, err);
	} else {
		const unsigned char *data = vol->data;
		for (int64_t c = 0; c < w.n_chunks && !oom; c++) {
			int64_t r0 = c * w.rows_per_chunk;
			oom = sweep_rows(&w, data + r0 * w.nx * w.bpv, r0, r0 + chunk_rows(&w, c)) != 0;
		}
	}
	if (oom)
		goto oom;
	if (st)
		goto out;
	st = lesion_row_labeller_finish(w.L, comps, err);
	w.L = NULL;
	if (st)
		goto out;
	*stats = w.st;
	w.st = NULL;
	*nan_voxels = w.n_nan;
	goto out;
oom:
	st = lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
out:
	lesion_row_labeller_free(w.L);
	free(w.st);
	free(w.mask);
	free(ring);
	return st;
}
