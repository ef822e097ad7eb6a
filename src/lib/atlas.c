/* atlas.c: label atlases (image + names file) and the lesion load of each of
 * their regions. */
#include "lesionvol/atlas.h"
#include "lesionvol/evaluate.h"
#include "change_internal.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { CHUNK = 4096 };
/* labels span at most this many values for a direct lookup table */
#define TABLE_SPAN ((int64_t)1 << 22)
/* whole numbers beyond this are not labels but a mistaken image */
#define MAX_LABEL 2147483647.0

struct named {
	int64_t label;
	char *name;
};

static int cmp_int64(const void *pa, const void *pb)
{
	const int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;
	return (a > b) - (a < b);
}

static int cmp_named(const void *pa, const void *pb)
{
	return cmp_int64(&((const struct named *)pa)->label, &((const struct named *)pb)->label);
}

/* Split @line in place at tabs (when it has one) or runs of whitespace. */
static int split_fields(char *line, char **out, int max)
{
	int n = 0;
	if (strchr(line, '\t')) {
		char *p = line;
		while (n < max) {
			out[n++] = p;
			char *tab = strchr(p, '\t');
			if (!tab)
				break;
			*tab = '\0';
			p = tab + 1;
		}
		return n;
	}
	char *save = NULL;
	for (char *t = strtok_r(line, " \f\v", &save); t && n < max;
	     t = strtok_r(NULL, " \f\v", &save))
		out[n++] = t;
	return n;
}

static int parse_label(const char *s, int64_t *label)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	while (end != s && isspace((unsigned char)*end))
		end++;
	if (end == s || *end || errno)
		return 0;
	*label = v;
	return 1;
}

enum { MAX_FIELDS = 64 };

static enum lesion_status read_names(const char *path, struct named **out, int64_t *n_out,
				     struct lesion_error *err)
{
	enum lesion_status st = LESION_OK;
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	long lineno = 0;
	int col_index = 0, col_name = 1, seen_data = 0;
	struct named *list = NULL;
	int64_t n = 0, alloc = 0;

	if (!f)
		return lesion_error_set(err, LESION_ERR_INPUT, "unable to read '%s': %s", path,
					strerror(errno));
	while (getline(&line, &cap, f) >= 0) {
		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		char *text = line;
		if (lineno == 1 && strncmp(text, "\xef\xbb\xbf", 3) == 0)
			text += 3; /* UTF-8 byte-order mark */
		if (!text[strspn(text, " \t")] || text[strspn(text, " \t")] == '#')
			continue;
		char *field[MAX_FIELDS];
		int nf = split_fields(text, field, MAX_FIELDS);
		int64_t label;
		if (nf == 0)
			continue;
		if (!seen_data && !parse_label(field[0], &label)) {
			/* a header row: find the columns by name */
			for (int i = 0; i < nf; i++) {
				if (strcasecmp(field[i], "index") == 0 || strcasecmp(field[i], "label") == 0)
					col_index = i;
				else if (strcasecmp(field[i], "name") == 0)
					col_name = i;
			}
			seen_data = 1;
			continue;
		}
		seen_data = 1;
		if (col_index >= nf || !parse_label(field[col_index], &label)) {
			st = lesion_error_set(err, LESION_ERR_INPUT,
					      "'%s' line %ld: '%s' is not a label number", path,
					      lineno, col_index < nf ? field[col_index] : "");
			goto out;
		}
		if (n == alloc) {
			alloc = alloc ? 2 * alloc : 64;
			struct named *more = realloc(list, (size_t)alloc * sizeof(*list));
			if (!more) {
				st = lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
				goto out;
			}
			list = more;
		}
		list[n].label = label;
		list[n].name = strdup(col_name < nf ? field[col_name] : "");
		if (!list[n++].name) {
			st = lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
			goto out;
		}
	}
	if (ferror(f))
		st = lesion_error_set(err, LESION_ERR_INPUT, "unable to read '%s': %s", path,
				      strerror(errno));
	if (!st && n)
		qsort(list, (size_t)n, sizeof(*list), cmp_named);
	for (int64_t i = 1; !st && i < n; i++)
		if (list[i].label == list[i - 1].label && strcmp(list[i].name, list[i - 1].name))
			st = lesion_error_set(err, LESION_ERR_INPUT,
					      "'%s' names label %lld twice ('%s' and '%s')", path,
					      (long long)list[i].label, list[i - 1].name,
					      list[i].name);
out:
	fclose(f);
	free(line);
	if (st) {
		for (int64_t i = 0; i < n; i++)
			free(list[i].name);
		free(list);
		return st;
	}
	*out = list;
	*n_out = n;
	return LESION_OK;
}

/* The label of every voxel (0 for background and NaN) into @labels, with the
 * smallest and largest non-zero label (@lo > @hi when there is none). */
static enum lesion_status voxel_labels(const struct lesion_volume *vol, int32_t *labels,
				       int64_t *lo, int64_t *hi, struct lesion_error *err)
{
	double buf[CHUNK];
	const int64_t n = vol->geom.n_voxels, nx = vol->geom.dim[0], ny = vol->geom.dim[1];
	*lo = INT64_MAX;
	*hi = INT64_MIN;
	for (int64_t start = 0; start < n; start += CHUNK) {
		int64_t count = n - start < CHUNK ? n - start : CHUNK;
		lesion_volume_values(vol, start, count, buf);
		for (int64_t i = 0; i < count; i++) {
			double v = buf[i];
			if (isnan(v) || v == 0.0) {
				labels[start + i] = 0;
				continue;
			}
			if (v != floor(v) || fabs(v) > MAX_LABEL) {
				int64_t at = start + i;
				return lesion_error_set(err, LESION_ERR_INPUT,
							"'%s' is not a label image: value %.9g at "
							"voxel (%lld,%lld,%lld) is not a whole number",
							vol->path, v, (long long)(at % nx),
							(long long)(at / nx % ny),
							(long long)(at / nx / ny));
			}
			int64_t l = (int64_t)v;
			labels[start + i] = (int32_t)l;
			if (l < *lo)
				*lo = l;
			if (l > *hi)
				*hi = l;
		}
	}
	return LESION_OK;
}

/* Sorted distinct labels: those in the image and those named. */
static enum lesion_status collect_regions(struct lesion_atlas *a, const int32_t *labels,
					  int64_t lo, int64_t hi,
					  const struct named *names, int64_t n_names)
{
	const int64_t n = a->geom.n_voxels;
	int64_t *all = NULL, m = 0;
	int64_t span = hi >= lo ? hi - lo + 1 : 0;
	if (span && span <= TABLE_SPAN) {
		uint8_t *seen = calloc((size_t)span, 1);
		if (!seen)
			return LESION_ERR_INTERNAL;
		int64_t distinct = 0;
		for (int64_t i = 0; i < n; i++)
			if (labels[i] && !seen[labels[i] - lo]) {
				seen[labels[i] - lo] = 1;
				distinct++;
			}
		all = malloc((size_t)(distinct + n_names + 1) * sizeof(*all));
		for (int64_t l = 0; all && l < span; l++)
			if (seen[l])
				all[m++] = lo + l;
		free(seen);
	} else {
		int64_t nz = 0;
		for (int64_t i = 0; i < n; i++)
			nz += labels[i] != 0;
		all = malloc((size_t)(nz + n_names + 1) * sizeof(*all));
		for (int64_t i = 0; all && i < n; i++)
			if (labels[i])
				all[m++] = labels[i];
	}
	if (!all)
		return LESION_ERR_INTERNAL;
	for (int64_t i = 0; i < n_names; i++)
		if (names[i].label)
			all[m++] = names[i].label;
	qsort(all, (size_t)m, sizeof(*all), cmp_int64);
	int64_t u = 0;
	for (int64_t i = 0; i < m; i++)
		if (!u || all[i] != all[u - 1])
			all[u++] = all[i];
	a->regions = calloc((size_t)u + 1, sizeof(*a->regions));
	if (!a->regions) {
		free(all);
		return LESION_ERR_INTERNAL;
	}
	a->n_regions = u;
	for (int64_t r = 0; r < u; r++) {
		const struct named key = {all[r], NULL};
		const struct named *hit = n_names ? bsearch(&key, names, (size_t)n_names,
							    sizeof(*names), cmp_named) : NULL;
		a->regions[r].label = all[r];
		a->regions[r].name = strdup(hit ? hit->name : "");
		if (!a->regions[r].name) {
			free(all);
			return LESION_ERR_INTERNAL;
		}
	}
	free(all);
	return LESION_OK;
}

static int64_t find_region(const struct lesion_atlas *a, int64_t label)
{
	int64_t lo = 0, hi = a->n_regions - 1;
	while (lo <= hi) {
		int64_t mid = lo + (hi - lo) / 2;
		if (a->regions[mid].label == label)
			return mid;
		if (a->regions[mid].label < label)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

enum lesion_status lesion_atlas_read(const char *path, const char *names_path,
				     struct lesion_atlas **out, struct lesion_error *err)
{
	enum lesion_status st;
	struct lesion_volume *vol = NULL;
	struct lesion_atlas *a = NULL;
	struct named *names = NULL;
	int64_t n_names = 0, lo, hi;

	*out = NULL;
	if (names_path && (st = read_names(names_path, &names, &n_names, err)))
		return st;
	if ((st = lesion_volume_read(path, -1, &vol, err)))
		goto out;
	a = calloc(1, sizeof(*a));
	if (!a || !(a->path = strdup(path)) ||
	    (names_path && !(a->names_path = strdup(names_path))) ||
	    !(a->region_of = malloc((size_t)vol->geom.n_voxels * sizeof(*a->region_of)))) {
		st = lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
		goto out;
	}
	a->geom = vol->geom;
	/* region_of holds the labels first, then their region indices */
	if ((st = voxel_labels(vol, a->region_of, &lo, &hi, err)))
		goto out;
	if ((st = collect_regions(a, a->region_of, lo, hi, names, n_names))) {
		lesion_error_set(err, st, "out of memory");
		goto out;
	}
	for (int64_t i = 0; i < a->geom.n_voxels; i++) {
		int64_t r = a->region_of[i] ? find_region(a, a->region_of[i]) : -1;
		a->region_of[i] = (int32_t)r;
		if (r >= 0)
			a->regions[r].voxels++;
	}
	for (int64_t r = 0; r < a->n_regions; r++)
		a->regions[r].volume_mm3 = (double)a->regions[r].voxels * a->geom.voxel_volume_mm3;
out:
	for (int64_t i = 0; i < n_names; i++)
		free(names[i].name);
	free(names);
	lesion_volume_free(vol);
	if (st) {
		lesion_atlas_free(a);
		return st;
	}
	*out = a;
	return LESION_OK;
}

void lesion_atlas_free(struct lesion_atlas *atlas)
{
	if (!atlas)
		return;
	for (int64_t r = 0; atlas->regions && r < atlas->n_regions; r++)
		free(atlas->regions[r].name);
	free(atlas->regions);
	free(atlas->region_of);
	free(atlas->path);
	free(atlas->names_path);
	free(atlas);
}

enum lesion_status lesion_atlas_measure(const struct lesion_atlas *atlas,
					const struct lesion_volume *image,
					const uint8_t *mask,
					struct lesion_region_load *loads,
					int64_t *outside_voxels,
					struct lesion_error *err)
{
	char why[256];
	if (lesion_geometry_mismatch(&atlas->geom, &image->geom, why, sizeof(why)))
		return lesion_error_set(err, LESION_ERR_INPUT,
					"atlas '%s' is not on the grid of '%s' (%s): resample the "
					"atlas onto the image (nearest neighbour) first",
					atlas->path, image->path, why);
	int64_t outside = 0;
	for (int64_t r = 0; r < atlas->n_regions; r++)
		loads[r].lesion_voxels = 0;
	for (int64_t i = 0; i < image->geom.n_voxels; i++) {
		if (!mask[i])
			continue;
		int32_t r = atlas->region_of[i];
		if (r >= 0)
			loads[r].lesion_voxels++;
		else
			outside++;
	}
	for (int64_t r = 0; r < atlas->n_regions; r++) {
		const struct lesion_region *g = &atlas->regions[r];
		loads[r].lesion_volume_mm3 = (double)loads[r].lesion_voxels *
					     image->geom.voxel_volume_mm3;
		loads[r].fraction = g->voxels ? (double)loads[r].lesion_voxels / (double)g->voxels
					      : NAN;
	}
	if (outside_voxels)
		*outside_voxels = outside;
	return LESION_OK;
}

void lesion_region_change_compute(const struct lesion_region_load *from,
				  const struct lesion_region_load *to, double days,
				  struct lesion_region_change *out)
{
	double v0 = from->lesion_volume_mm3, v1 = to->lesion_volume_mm3;
	out->baseline_mm3 = v0;
	out->volume_mm3 = v1;
	out->delta_mm3 = v1 - v0;
	out->percent_change = lesion_percent_change(v0, v1);
	out->rate_mm3_per_day = lesion_rate_per_day(v0, v1, days);
	out->baseline_fraction = from->fraction;
	out->fraction = to->fraction;
	out->delta_fraction = to->fraction - from->fraction;
}
