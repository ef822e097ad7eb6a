/* measurement.c: a lesion_measurement's fields (the documented names), listed once
 * and handed to a sink: a cJSON tree for tables, or JSON text streamed
 * straight to the output, which `measure --format json` uses because
 * building a tree of hundreds of components cost more than measuring them
 * (issue 9: every node is a fresh heap allocation, and page faults are
 * slow). Both give the same bytes as cJSON_Print of the tree. */
#include "cli.h"

#include <math.h>
#include <stdio.h>

#include "lesionvol/segment.h"

/* Where fields go; vectors carry their axis letters for flat tables. */
struct sink {
	void (*number)(struct sink *s, const char *key, double v);
	void (*string)(struct sink *s, const char *key, const char *v);
	void (*vec3)(struct sink *s, const char *key, const char *axes, const double v[3]);
};

static void ivec3(struct sink *s, const char *key, const char *axes, const int64_t v[3])
{
	const double d[3] = {(double)v[0], (double)v[1], (double)v[2]};
	s->vec3(s, key, axes, d);
}

static void measurement_fields(struct sink *s, const char *image,
			       const struct lesion_measurement *m,
			       const struct lesion_rule *rule)
{
	if (image)
		s->string(s, "image", image);
	s->number(s, "voxel_volume_mm3", m->voxel_volume_mm3);
	s->string(s, "voxel_volume_source", m->voxel_volume_source);
	s->string(s, "world_source", m->world_source);
	s->number(s, "lesion_voxels", (double)m->lesion_voxels);
	s->number(s, "lesion_volume_mm3", m->lesion_volume_mm3);
	s->number(s, "lesion_volume_ml", m->lesion_volume_ml);
	s->number(s, "n_components", (double)m->n_components);
	s->number(s, "largest_component_mm3", m->largest_component_mm3);
	s->number(s, "nan_voxels", (double)m->nan_voxels);
	if (rule->soft)
		s->number(s, "soft_volume_mm3", m->soft_volume_mm3);
	if (rule->has_zthr || rule->has_uzthr) {
		s->number(s, "reference_median", m->ref_median);
		s->number(s, "reference_mad", m->ref_mad);
		s->number(s, "lower_threshold", m->lower);
		s->number(s, "upper_threshold", m->upper);
	}
	s->string(s, "rule", m->rule);
}

static void component_fields(struct sink *s, const char *image,
			     const struct lesion_component *c, int soft)
{
	if (image)
		s->string(s, "image", image);
	s->number(s, "label", (double)c->label);
	s->number(s, "voxels", (double)c->voxels);
	s->number(s, "volume_mm3", c->volume_mm3);
	s->vec3(s, "centroid_vox", "ijk", c->centroid_vox);
	s->vec3(s, "centroid_mm", "xyz", c->centroid_mm);
	ivec3(s, "bbox_min", "ijk", c->bbox_min);
	ivec3(s, "bbox_max", "ijk", c->bbox_max);
	s->number(s, "mean", c->mean);
	s->number(s, "max", c->max);
	ivec3(s, "peak_vox", "ijk", c->peak_vox);
	if (soft)
		s->number(s, "soft_mm3", c->soft_mm3);
}

/* The tree sink: @flat splits vectors into one key per coordinate. */
struct tree_sink {
	struct sink base;
	cJSON *obj;
	int flat;
};

static void tree_number(struct sink *s, const char *key, double v)
{
	cli_json_add_number(((struct tree_sink *)s)->obj, key, v);
}

static void tree_string(struct sink *s, const char *key, const char *v)
{
	cJSON_AddStringToObject(((struct tree_sink *)s)->obj, key, v);
}

static void tree_vec3(struct sink *s, const char *key, const char *axes, const double v[3])
{
	struct tree_sink *t = (struct tree_sink *)s;
	if (!t->flat) {
		cli_json_add_vec3(t->obj, key, v);
		return;
	}
	for (int d = 0; d < 3; d++) {
		char name[64];
		snprintf(name, sizeof(name), "%s_%c", key, axes[d]);
		cli_json_add_number(t->obj, name, v[d]);
	}
}

static struct tree_sink tree_sink(int flat)
{
	struct tree_sink t = {{tree_number, tree_string, tree_vec3}, cJSON_CreateObject(), flat};
	return t;
}

cJSON *cli_measurement_json(const char *image, const struct lesion_measurement *m,
			    const struct lesion_rule *rule)
{
	struct tree_sink t = tree_sink(0);
	measurement_fields(&t.base, image, m, rule);
	return t.obj;
}

cJSON *cli_component_json(const char *image, const struct lesion_component *c,
			  int soft, int flat)
{
	struct tree_sink t = tree_sink(flat);
	component_fields(&t.base, image, c, soft);
	return t.obj;
}

/* The stream sink: members of an object at @depth, laid out as cJSON_Print
 * lays them out (tabs, "key":<tab>value, arrays on one line). */
struct stream_sink {
	struct sink base;
	FILE *f;
	int depth;
	int first;
};

static void stream_key(struct stream_sink *t, const char *key)
{
	if (!t->first)
		fputc(',', t->f);
	fputc('\n', t->f);
	for (int i = 0; i < t->depth; i++)
		fputc('\t', t->f);
	cli_json_put_string(t->f, key);
	fputs(":\t", t->f);
	t->first = 0;
}

static void put_number(FILE *f, double v)
{
	char text[40];
	if (!isfinite(v)) {
		fputs("null", f);
		return;
	}
	cli_format_number(v, text, sizeof(text));
	fputs(text, f);
}

static void stream_number(struct sink *s, const char *key, double v)
{
	struct stream_sink *t = (struct stream_sink *)s;
	stream_key(t, key);
	put_number(t->f, v);
}

static void stream_string(struct sink *s, const char *key, const char *v)
{
	struct stream_sink *t = (struct stream_sink *)s;
	stream_key(t, key);
	cli_json_put_string(t->f, v);
}

static void stream_vec3(struct sink *s, const char *key, const char *axes, const double v[3])
{
	struct stream_sink *t = (struct stream_sink *)s;
	(void)axes;
	stream_key(t, key);
	for (int d = 0; d < 3; d++) {
		fputs(d ? ", " : "[", t->f);
		put_number(t->f, v[d]);
	}
	fputc(']', t->f);
}

static void stream_close(struct stream_sink *t)
{
	fputc('\n', t->f);
	for (int i = 0; i < t->depth - 1; i++)
		fputc('\t', t->f);
	fputc('}', t->f);
}

void cli_measurement_write_json(FILE *f, const char *image, const struct lesion_measurement *m,
				const struct lesion_rule *rule, int64_t top)
{
	struct stream_sink t = {{stream_number, stream_string, stream_vec3}, f, 1, 1};
	fputc('{', f);
	measurement_fields(&t.base, image, m, rule);
	stream_key(&t, "components");
	fputc('[', f);
	for (int64_t l = 0; l < m->n_components && l < top; l++) {
		struct stream_sink c = {{stream_number, stream_string, stream_vec3}, f, 3, 1};
		fputs(l ? ", {" : "{", f);
		component_fields(&c.base, NULL, &m->components[l], rule->soft);
		stream_close(&c);
	}
	fputc(']', f);
	stream_close(&t);
	fputc('\n', f);
}
