/* cohort_util.c: text buffers, exact numbers and JSON printing, and paths
 * for the cohort modules. */
#include "cohort_internal.h"

#include "lesionvol/number.h"

#include <cJSON.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int buf_reserve(struct lesion_buf *b, size_t extra)
{
	if (b->failed)
		return 0;
	if (b->len + extra + 1 <= b->cap)
		return 1;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < b->len + extra + 1)
		cap *= 2;
	char *d = realloc(b->data, cap);
	if (!d) {
		b->failed = 1;
		return 0;
	}
	b->data = d;
	b->cap = cap;
	return 1;
}

void lesion_buf_put(struct lesion_buf *b, const char *s, size_t n)
{
	if (!buf_reserve(b, n))
		return;
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void lesion_buf_puts(struct lesion_buf *b, const char *s)
{
	lesion_buf_put(b, s, strlen(s));
}

void lesion_buf_printf(struct lesion_buf *b, const char *fmt, ...)
{
	char small[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->failed = 1;
		return;
	}
	if ((size_t)n < sizeof(small)) {
		lesion_buf_put(b, small, (size_t)n);
		return;
	}
	if (!buf_reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void lesion_buf_release(struct lesion_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

void lesion_number_format(double v, char *buf, size_t size)
{
	if (!isfinite(v)) {
		snprintf(buf, size, "n/a");
		return;
	}
	lesion_double_shortest(v == 0 ? 0.0 : v, buf, size); /* no "-0" */
}

static void json_string(struct lesion_buf *b, const char *s)
{
	lesion_buf_put(b, "\"", 1);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': lesion_buf_puts(b, "\\\""); break;
		case '\\': lesion_buf_puts(b, "\\\\"); break;
		case '\n': lesion_buf_puts(b, "\\n"); break;
		case '\r': lesion_buf_puts(b, "\\r"); break;
		case '\t': lesion_buf_puts(b, "\\t"); break;
		default:
			if (*p < 0x20)
				lesion_buf_printf(b, "\\u%04x", *p);
			else
				lesion_buf_put(b, (const char *)p, 1);
		}
	}
	lesion_buf_put(b, "\"", 1);
}

static void json_item(const cJSON *it, struct lesion_buf *b, int depth)
{
	char num[40];
	if (cJSON_IsNull(it) || cJSON_IsInvalid(it)) {
		lesion_buf_puts(b, "null");
	} else if (cJSON_IsFalse(it)) {
		lesion_buf_puts(b, "false");
	} else if (cJSON_IsTrue(it)) {
		lesion_buf_puts(b, "true");
	} else if (cJSON_IsNumber(it)) {
		if (!isfinite(it->valuedouble)) {
			lesion_buf_puts(b, "null");
		} else {
			lesion_number_format(it->valuedouble, num, sizeof(num));
			lesion_buf_puts(b, num);
		}
	} else if (cJSON_IsString(it)) {
		json_string(b, it->valuestring ? it->valuestring : "");
	} else if (cJSON_IsRaw(it)) {
		lesion_buf_puts(b, it->valuestring ? it->valuestring : "null");
	} else {
		int obj = cJSON_IsObject(it);
		const cJSON *c = it->child;
		if (!c) {
			lesion_buf_puts(b, obj ? "{}" : "[]");
			return;
		}
		lesion_buf_puts(b, obj ? "{\n" : "[\n");
		for (; c; c = c->next) {
			lesion_buf_printf(b, "%*s", 2 * (depth + 1), "");
			if (obj) {
				json_string(b, c->string ? c->string : "");
				lesion_buf_puts(b, ": ");
			}
			json_item(c, b, depth + 1);
			lesion_buf_puts(b, c->next ? ",\n" : "\n");
		}
		lesion_buf_printf(b, "%*s%s", 2 * depth, "", obj ? "}" : "]");
	}
}

void lesion_json_print(const cJSON *item, struct lesion_buf *b)
{
	json_item(item, b, 0);
	lesion_buf_put(b, "\n", 1);
}

void lesion_cohort_drop_components(cJSON *doc)
{
	cJSON *t;
	cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(doc, "timepoints"))
		cJSON_DeleteItemFromObjectCaseSensitive(t, "components");
}

void lesion_json_add_number(cJSON *obj, const char *key, double v)
{
	cJSON_AddItemToObject(obj, key, isfinite(v) ? cJSON_CreateNumber(v)
						    : cJSON_CreateNull());
}

void lesion_json_add_string(cJSON *obj, const char *key, const char *s)
{
	cJSON_AddItemToObject(obj, key, s ? cJSON_CreateString(s) : cJSON_CreateNull());
}

double lesion_json_number(const cJSON *obj, const char *key)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
	return cJSON_IsNumber(it) ? it->valuedouble : NAN;
}

const char *lesion_json_string(const cJSON *obj, const char *key)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
	return cJSON_IsString(it) ? it->valuestring : NULL;
}

char *lesion_strdup(const char *s)
{
	if (!s)
		return NULL;
	size_t n = strlen(s) + 1;
	char *d = malloc(n);
	if (d)
		memcpy(d, s, n);
	return d;
}

char *lesion_path_join(const char *dir, const char *name)
{
	if (name[0] == '/' || !dir || !dir[0])
		return lesion_strdup(name);
	size_t nd = strlen(dir), nn = strlen(name);
	int slash = dir[nd - 1] != '/';
	char *p = malloc(nd + (size_t)slash + nn + 1);
	if (!p)
		return NULL;
	memcpy(p, dir, nd);
	if (slash)
		p[nd] = '/';
	memcpy(p + nd + (size_t)slash, name, nn + 1);
	return p;
}

enum lesion_status lesion_read_text_file(const char *path, char **text, size_t *size,
					 struct lesion_error *err)
{
	struct lesion_buf b = {0};
	char chunk[1 << 14];
	*text = NULL;
	*size = 0;
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return lesion_error_set(err, LESION_ERR_INPUT, "unable to read '%s': %s",
					path, strerror(errno));
	struct stat sb;
	if (fstat(fd, &sb) == 0 && S_ISDIR(sb.st_mode)) {
		close(fd);
		return lesion_error_set(err, LESION_ERR_INPUT,
					"unable to read '%s': is a folder", path);
	}
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			close(fd);
			lesion_buf_release(&b);
			return lesion_error_set(err, LESION_ERR_INPUT,
						"unable to read '%s': %s", path, strerror(e));
		}
		if (n == 0)
			break;
		lesion_buf_put(&b, chunk, (size_t)n);
	}
	close(fd);
	if (b.failed) {
		lesion_buf_release(&b);
		return lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory reading '%s'",
					path);
	}
	if (!b.data)
		lesion_buf_put(&b, "", 0);
	if (!b.data)
		return lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
	*text = b.data;
	*size = b.len;
	return LESION_OK;
}

char *lesion_cohort_participant_json_path(const char *out_dir, const char *label)
{
	struct lesion_buf b = {0};
	lesion_buf_printf(&b, "%s%ssub-%s/sub-%s_lesionvol.json", out_dir,
			  out_dir[0] && out_dir[strlen(out_dir) - 1] != '/' ? "/" : "",
			  label, label);
	if (b.failed) {
		lesion_buf_release(&b);
		return NULL;
	}
	return b.data;
}
