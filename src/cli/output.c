/* output.c: rendering cJSON results as aligned tables, TSV, CSV and JSON, and
 * writing them to stdout or atomically to --output. */
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lesionvol/io.h"
#include "lesionvol/number.h"

enum cli_format cli_format_of(const struct cli_args *args)
{
	const char *f = cli_string(args, "format");
	if (!f || strcmp(f, "table") == 0)
		return CLI_FORMAT_TABLE;
	if (strcmp(f, "tsv") == 0)
		return CLI_FORMAT_TSV;
	if (strcmp(f, "csv") == 0)
		return CLI_FORMAT_CSV;
	return CLI_FORMAT_JSON;
}

void cli_format_number(double v, char *buf, size_t size)
{
	if (!isfinite(v)) {
		snprintf(buf, size, "n/a");
		return;
	}
	/* this always tried 15 digits first: the same text for every normal
	 * double, but subnormals (fewer bits) could have shorter ones */
	if (fpclassify(v) == FP_SUBNORMAL)
		lesion_double_shortest_g(v, 15, buf, size);
	else
		lesion_double_shortest(v, buf, size);
}

/* Table cells are for people: seven significant digits. */
static void format_number_short(double v, char *buf, size_t size)
{
	if (!isfinite(v))
		snprintf(buf, size, "n/a");
	else if (v == floor(v) && fabs(v) < 1e15)
		snprintf(buf, size, "%.0f", v);
	else
		snprintf(buf, size, "%.7g", v);
}

/* Text of one cell; arrays are joined with ',' (TSV/CSV) or ', ' (table). */
static void cell_text(const cJSON *item, int human, char *buf, size_t size)
{
	if (!item || cJSON_IsNull(item)) {
		snprintf(buf, size, "n/a");
	} else if (cJSON_IsBool(item)) {
		snprintf(buf, size, "%s", cJSON_IsTrue(item) ? "true" : "false");
	} else if (cJSON_IsNumber(item)) {
		if (human)
			format_number_short(item->valuedouble, buf, size);
		else
			cli_format_number(item->valuedouble, buf, size);
	} else if (cJSON_IsString(item)) {
		snprintf(buf, size, "%s", item->valuestring);
	} else if (cJSON_IsArray(item)) {
		size_t used = 0;
		buf[0] = '\0';
		const cJSON *e;
		int first = 1;
		cJSON_ArrayForEach(e, item) {
			char one[64];
			cell_text(e, human, one, sizeof(one));
			int w = snprintf(buf + used, size - used, "%s%s",
					 first ? "" : (human ? ", " : ","), one);
			if (w < 0 || (size_t)w >= size - used)
				break;
			used += (size_t)w;
			first = 0;
		}
	} else {
		snprintf(buf, size, "?");
	}
}

static void put_field(FILE *f, enum cli_format fmt, const char *text)
{
	if (fmt == CLI_FORMAT_CSV && strpbrk(text, ",\"\n\r")) {
		fputc('"', f);
		for (const char *p = text; *p; p++) {
			if (*p == '"')
				fputc('"', f);
			fputc(*p, f);
		}
		fputc('"', f);
		return;
	}
	if (fmt == CLI_FORMAT_TSV) {
		for (const char *p = text; *p; p++)
			fputc((*p == '\t' || *p == '\n' || *p == '\r') ? ' ' : *p, f);
		return;
	}
	fputs(text, f);
}

/*
 * cJSON prints a number with 15 digits whenever that reads back within an
 * epsilon of it, which is not exactly: numbers become raw text written by
 * cli_format_number() for the print, so every one reads back to the same
 * double, and numbers again afterwards. The tree is changed in place and
 * the texts share one buffer: copying a result with hundreds of components
 * cost more than printing it (fresh heap pages, one fault each).
 */
enum { NUMBER_TEXT = 32, WAS_NUMBER = 1 << 14 };

static size_t count_numbers(const cJSON *item, int siblings)
{
	size_t n = 0;
	for (; item; item = siblings ? item->next : NULL)
		n += (size_t)cJSON_IsNumber(item) + count_numbers(item->child, 1);
	return n;
}

static void numbers_to_text(cJSON *item, int siblings, char **at)
{
	for (; item; item = siblings ? item->next : NULL) {
		if (cJSON_IsNumber(item)) {
			if (isfinite(item->valuedouble))
				cli_format_number(item->valuedouble, *at, NUMBER_TEXT);
			else
				snprintf(*at, NUMBER_TEXT, "null");
			item->type = (item->type & ~0xFF) | cJSON_Raw | WAS_NUMBER;
			item->valuestring = *at;
			*at += strlen(*at) + 1;
		}
		numbers_to_text(item->child, 1, at);
	}
}

static void text_to_numbers(cJSON *item, int siblings)
{
	for (; item; item = siblings ? item->next : NULL) {
		if (item->type & WAS_NUMBER) {
			item->type = (item->type & ~0xFF & ~WAS_NUMBER) | cJSON_Number;
			item->valuestring = NULL;
		}
		text_to_numbers(item->child, 1);
	}
}

void cli_write_json(FILE *f, const cJSON *obj)
{
	/* printing leaves @obj as it was; only the print sees raw text */
	cJSON *o = (cJSON *)obj;
	char *texts = malloc(count_numbers(o, 0) * NUMBER_TEXT + 1), *at = texts;
	if (texts)
		numbers_to_text(o, 0, &at); /* else cJSON prints the numbers */
	char *s = cJSON_Print(o);
	if (texts)
		text_to_numbers(o, 0);
	free(texts);
	if (s) {
		fputs(s, f);
		fputc('\n', f);
		cJSON_free(s);
	}
}

void cli_json_put_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\b': fputs("\\b", f); break;
		case '\f': fputs("\\f", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		default:
			if (*p < 0x20)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

void cli_write_rows(FILE *f, enum cli_format fmt, const char *const *columns,
		    const cJSON *rows, int header)
{
	enum { CELL = 512 };
	int ncol = 0;
	while (columns[ncol])
		ncol++;
	if (fmt == CLI_FORMAT_JSON) {
		cli_write_json(f, rows);
		return;
	}
	if (fmt != CLI_FORMAT_TABLE) {
		char sep = fmt == CLI_FORMAT_CSV ? ',' : '\t';
		if (header) {
			for (int c = 0; c < ncol; c++) {
				if (c)
					fputc(sep, f);
				put_field(f, fmt, columns[c]);
			}
			fputc('\n', f);
		}
		const cJSON *row;
		cJSON_ArrayForEach(row, rows) {
			for (int c = 0; c < ncol; c++) {
				char buf[CELL];
				cell_text(cJSON_GetObjectItemCaseSensitive(row, columns[c]), 0,
					  buf, sizeof(buf));
				if (c)
					fputc(sep, f);
				put_field(f, fmt, buf);
			}
			fputc('\n', f);
		}
		return;
	}
	/* aligned table: measure widths first */
	int *width = calloc((size_t)ncol, sizeof(int));
	if (!width)
		return;
	for (int c = 0; c < ncol; c++)
		width[c] = (int)strlen(columns[c]);
	const cJSON *row;
	cJSON_ArrayForEach(row, rows) {
		for (int c = 0; c < ncol; c++) {
			char buf[CELL];
			cell_text(cJSON_GetObjectItemCaseSensitive(row, columns[c]), 1, buf,
				  sizeof(buf));
			int w = (int)strlen(buf);
			if (w > width[c])
				width[c] = w;
		}
	}
	if (header) {
		for (int c = 0; c < ncol; c++)
			fprintf(f, "%s%-*s", c ? "  " : "", c == ncol - 1 ? 0 : width[c],
				columns[c]);
		fputc('\n', f);
	}
	cJSON_ArrayForEach(row, rows) {
		for (int c = 0; c < ncol; c++) {
			char buf[CELL];
			const cJSON *item = cJSON_GetObjectItemCaseSensitive(row, columns[c]);
			cell_text(item, 1, buf, sizeof(buf));
			int right = item && cJSON_IsNumber(item);
			int w = c == ncol - 1 && !right ? 0 : width[c];
			fprintf(f, right ? "%s%*s" : "%s%-*s", c ? "  " : "", w, buf);
		}
		fputc('\n', f);
	}
	free(width);
}

void cli_write_record(FILE *f, enum cli_format fmt, const cJSON *obj,
		      const char *const *columns)
{
	if (fmt == CLI_FORMAT_JSON) {
		cli_write_json(f, obj);
		return;
	}
	if (fmt != CLI_FORMAT_TABLE) {
		cJSON *rows = cJSON_CreateArray();
		cJSON_AddItemReferenceToArray(rows, (cJSON *)obj);
		cli_write_rows(f, fmt, columns, rows, 1);
		cJSON_Delete(rows);
		return;
	}
	int keyw = 0;
	for (int c = 0; columns[c]; c++)
		if ((int)strlen(columns[c]) > keyw)
			keyw = (int)strlen(columns[c]);
	for (int c = 0; columns[c]; c++) {
		char buf[1024];
		const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, columns[c]);
		const cJSON *first = cJSON_IsArray(item) ? item->child : NULL;
		if (first && cJSON_IsString(first)) {
			/* a list of sentences (warnings): one per line */
			const cJSON *e;
			int k = 0;
			cJSON_ArrayForEach(e, item)
				fprintf(f, "%-*s  %s\n", keyw, k++ ? "" : columns[c],
					cJSON_IsString(e) ? e->valuestring : "?");
			continue;
		}
		if (cJSON_IsArray(item) && !first) {
			fprintf(f, "%-*s  none\n", keyw, columns[c]);
			continue;
		}
		cell_text(item, 1, buf, sizeof(buf));
		fprintf(f, "%-*s  %s\n", keyw, columns[c], buf);
	}
}

int cli_output_open(struct cli_output *out, const struct cli_args *args)
{
	memset(out, 0, sizeof(*out));
	out->path = cli_string(args, "output");
	if (!out->path || strcmp(out->path, "-") == 0) {
		out->path = NULL;
		out->f = stdout;
		return 0;
	}
	out->f = open_memstream(&out->buf, &out->size);
	return out->f ? 0 : LESION_ERR_INTERNAL;
}

int cli_output_close(struct cli_output *out)
{
	if (!out->path) {
		if (fflush(stdout) != 0 || ferror(stdout)) {
			struct lesion_error e;
			lesion_error_set(&e, LESION_ERR_WRITE, "unable to write to standard output");
			return cli_error(&e);
		}
		return 0;
	}
	fclose(out->f);
	struct lesion_error e;
	enum lesion_status st = lesion_write_file_atomic(out->path, out->buf, out->size, &e);
	free(out->buf);
	out->buf = NULL;
	return st ? cli_error(&e) : 0;
}

cJSON *cli_json_number(double v)
{
	return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull();
}

void cli_json_add_number(cJSON *obj, const char *key, double v)
{
	cJSON_AddItemToObject(obj, key, cli_json_number(v));
}

void cli_json_add_vec3(cJSON *obj, const char *key, const double v[3])
{
	cJSON *a = cJSON_CreateArray();
	for (int i = 0; i < 3; i++)
		cJSON_AddItemToArray(a, cli_json_number(v[i]));
	cJSON_AddItemToObject(obj, key, a);
}
