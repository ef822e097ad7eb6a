/* tsv.c: tab-separated tables with a header row (manifests,
 * participants.tsv, sessions.tsv): UTF-8 checked, BOM and CRLF tolerated,
 * errors naming the line. */
#include "cohort_internal.h"

#include <stdlib.h>
#include <string.h>

static int utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned c = s[i];
		size_t k;
		unsigned min;
		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			k = 1; min = 0x80; c &= 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			k = 2; min = 0x800; c &= 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			k = 3; min = 0x10000; c &= 0x07;
		} else {
			return 0;
		}
		for (size_t j = 1; j <= k; j++) {
			if (i + j >= n || (s[i + j] & 0xc0) != 0x80)
				return 0;
			c = (c << 6) | (s[i + j] & 0x3f);
		}
		if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
			return 0;
		i += k + 1;
	}
	return 1;
}

static char *dup_trimmed(const char *s, size_t n)
{
	while (n && (*s == ' '))
		s++, n--;
	while (n && (s[n - 1] == ' '))
		n--;
	char *d = malloc(n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

/* Split one line into fields (new strings); returns the count or -1. */
static int split_fields(const char *line, size_t n, char ***out)
{
	int count = 1;
	for (size_t i = 0; i < n; i++)
		count += line[i] == '\t';
	char **f = calloc((size_t)count, sizeof(char *));
	if (!f)
		return -1;
	size_t start = 0;
	int k = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && line[i] != '\t')
			continue;
		f[k] = dup_trimmed(line + start, i - start);
		if (!f[k]) {
			for (int j = 0; j < k; j++)
				free(f[j]);
			free(f);
			return -1;
		}
		k++;
		start = i + 1;
	}
	*out = f;
	return count;
}

static void free_fields(char **f, int n)
{
	for (int i = 0; f && i < n; i++)
		free(f[i]);
	free(f);
}

void lesion_tsv_release(struct lesion_tsv *t)
{
	free_fields(t->columns, t->n_columns);
	for (int r = 0; r < t->n_rows; r++)
		free_fields(t->cells[r], t->n_columns);
	free(t->cells);
	free(t->lines);
	memset(t, 0, sizeof(*t));
}

enum lesion_status lesion_tsv_parse(const char *text, size_t size, const char *name,
				    struct lesion_tsv *out, struct lesion_error *err)
{
	enum lesion_status st = LESION_OK;
	const unsigned char *u = (const unsigned char *)text;
	memset(out, 0, sizeof(*out));
	if (size >= 2 && ((u[0] == 0xff && u[1] == 0xfe) || (u[0] == 0xfe && u[1] == 0xff)))
		return lesion_error_set(err, LESION_ERR_INPUT,
			"'%s' is UTF-16 encoded; save it as UTF-8 text", name);
	if (size >= 3 && u[0] == 0xef && u[1] == 0xbb && u[2] == 0xbf) {
		text += 3;
		size -= 3;
	}
	if (memchr(text, '\0', size))
		return lesion_error_set(err, LESION_ERR_INPUT,
			"'%s' is not a text file (it holds NUL bytes)", name);
	/* old Mac files end lines with a lone CR */
	char eol = memchr(text, '\n', size) || !memchr(text, '\r', size) ? '\n' : '\r';
	int line_no = 0, cap = 0;
	size_t pos = 0;
	while (pos < size) {
		const char *line = text + pos;
		const char *nl = memchr(line, eol, size - pos);
		size_t len = nl ? (size_t)(nl - line) : size - pos;
		pos += len + (nl ? 1 : 0);
		line_no++;
		if (len && line[len - 1] == '\r')
			len--;
		if (!utf8_valid((const unsigned char *)line, len)) {
			st = lesion_error_set(err, LESION_ERR_INPUT,
				"'%s' line %d: not valid UTF-8 text", name, line_no);
			goto out;
		}
		size_t blank = 0;
		while (blank < len && (line[blank] == ' ' || line[blank] == '\t'))
			blank++;
		if (blank == len)
			continue;
		char **fields = NULL;
		int nf = split_fields(line, len, &fields);
		if (nf < 0) {
			st = lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
			goto out;
		}
		if (!out->columns) {
			out->columns = fields;
			out->n_columns = nf;
			for (int c = 0; c < nf; c++) {
				if (!fields[c][0]) {
					st = lesion_error_set(err, LESION_ERR_INPUT,
						"'%s' line %d: column %d of the header has no name",
						name, line_no, c + 1);
					goto out;
				}
				for (int d = 0; d < c; d++)
					if (strcmp(fields[c], fields[d]) == 0) {
						st = lesion_error_set(err, LESION_ERR_INPUT,
							"'%s' line %d: column '%s' appears twice in the header",
							name, line_no, fields[c]);
						goto out;
					}
			}
			continue;
		}
		/* spreadsheets often leave trailing tabs: empty extra fields are fine */
		while (nf > out->n_columns && !fields[nf - 1][0]) {
			free(fields[nf - 1]);
			nf--;
		}
		if (nf != out->n_columns) {
			free_fields(fields, nf);
			st = lesion_error_set(err, LESION_ERR_INPUT,
				"'%s' line %d: %d field%s, the header has %d (fields are separated by tabs)",
				name, line_no, nf, nf == 1 ? "" : "s", out->n_columns);
			goto out;
		}
		if (out->n_rows == cap) {
			int ncap = cap ? 2 * cap : 64;
			char ***nc = realloc(out->cells, sizeof(*nc) * (size_t)ncap);
			int *nl2 = nc ? realloc(out->lines, sizeof(int) * (size_t)ncap) : NULL;
			if (nc)
				out->cells = nc;
			if (!nc || !nl2) {
				free_fields(fields, nf);
				st = lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
				goto out;
			}
			out->lines = nl2;
			cap = ncap;
		}
		out->cells[out->n_rows] = fields;
		out->lines[out->n_rows] = line_no;
		out->n_rows++;
	}
	if (!out->columns)
		st = lesion_error_set(err, LESION_ERR_INPUT,
			"'%s' is empty (a header row is needed)", name);
out:
	if (st)
		lesion_tsv_release(out);
	return st;
}

enum lesion_status lesion_tsv_read(const char *path, struct lesion_tsv *out,
				   struct lesion_error *err)
{
	char *text;
	size_t size;
	memset(out, 0, sizeof(*out));
	enum lesion_status st = lesion_read_text_file(path, &text, &size, err);
	if (st)
		return st;
	st = lesion_tsv_parse(text, size, path, out, err);
	free(text);
	return st;
}

int lesion_tsv_column(const struct lesion_tsv *t, const char *name)
{
	for (int c = 0; c < t->n_columns; c++)
		if (strcmp(t->columns[c], name) == 0)
			return c;
	return -1;
}

