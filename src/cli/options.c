/* options.c: the option parser and help text generated from command
 * descriptors, and the option groups every command shares. */
#include "cli.h"
#include "lesionvol/number.h"

#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const struct cli_option_group cli_group_segmentation = {
	"Segmentation rule (the same for every command)",
	(const struct cli_option[]){
		{"thr", 0, CLI_DOUBLE, "X",
		 "lesion where value >= X (scaled values); in every threshold form "
		 "exact zeros stay background and negative values within the bounds "
		 "count (fslmaths' -bin keeps only values > 0)"},
		{"uthr", 0, CLI_DOUBLE, "X",
		 "lesion where value <= X (and != 0); with --thr: X1 <= value <= X2 "
		 "(and != 0)"},
		{"zthr", 0, CLI_DOUBLE, "K",
		 "lesion where value >= median + K * 1.4826 * MAD of the reference "
		 "voxels (the --mask, else all non-zero finite voxels)"},
		{"uzthr", 0, CLI_DOUBLE, "K",
		 "lesion where value <= median - K * 1.4826 * MAD of the reference voxels"},
		{"mask", 0, CLI_STRING, "MASK",
		 "only voxels where MASK is non-zero count (same grid as the image)"},
		{"fill-holes", 0, CLI_FLAG, NULL,
		 "background enclosed by lesion (not connected to the border) becomes lesion"},
		{"connectivity", 'c', CLI_CHOICE, "N", "3D neighbourhood of components",
		 "6|18|26", 0, 0, "26"},
		{"min-voxels", 0, CLI_INT, "N", "drop components smaller than N voxels",
		 NULL, 0, 1e15, "0"},
		{"min-volume", 0, CLI_DOUBLE, "MM3", "drop components smaller than MM3 mm^3",
		 NULL, 0, INFINITY, "0"},
		{"soft", 0, CLI_FLAG, NULL,
		 "also report sum(clamp(value,0,1)) x voxel volume over kept voxels "
		 "(partial-volume estimate for probability maps)"},
		{"volume", 0, CLI_INT, "N", "which volume of a 4D image (0-based)",
		 NULL, 0, 1e12},
		{NULL},
	},
};

const struct cli_option_group cli_group_output = {
	"Output",
	(const struct cli_option[]){
		{"format", 'f', CLI_CHOICE, "FMT", "output format", "table|tsv|csv|json",
		 0, 0, "table"},
		{"output", 'o', CLI_STRING, "FILE",
		 "write the result to FILE (atomically) instead of stdout"},
		{NULL},
	},
};

const struct cli_option_group cli_group_threads = {
	"Parallelism",
	(const struct cli_option[]){
		{"threads", 'j', CLI_INT, "N", "threads to use (0: all cores)", NULL, 0,
		 4096, "0"},
		{NULL},
	},
};

const struct cli_option_group cli_group_general = {
	"General",
	(const struct cli_option[]){
		{"quiet", 'q', CLI_FLAG, NULL, "no warnings or progress on stderr"},
		{"verbose", 'v', CLI_FLAG, NULL, "more detail on stderr"},
		{"help", 'h', CLI_FLAG, NULL, "show this help and exit"},
		{NULL},
	},
};

int cli_verbosity = 1;
static const char *command_name = NULL;

void cli_set_command_name(const char *name)
{
	command_name = name;
}

static void prefix(FILE *f)
{
	if (command_name)
		fprintf(f, "lesionvol %s: ", command_name);
	else
		fprintf(f, "lesionvol: ");
}

int cli_error(const struct lesion_error *err)
{
	prefix(stderr);
	fprintf(stderr, "error: %s\n", err->message);
	return (int)err->status;
}

int cli_usage_error(const struct cli_command *cmd, const char *fmt, ...)
{
	va_list ap;
	prefix(stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (cmd) {
		cli_print_usage_short(stderr, cmd);
		fprintf(stderr, "Try 'lesionvol %s --help' for more.\n", cmd->name);
	} else {
		fprintf(stderr, "Try 'lesionvol --help' for more.\n");
	}
	return LESION_ERR_USAGE;
}

void cli_warning(const char *fmt, ...)
{
	va_list ap;
	if (cli_verbosity < 1)
		return;
	prefix(stderr);
	fprintf(stderr, "warning: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void cli_info(const char *fmt, ...)
{
	va_list ap;
	if (cli_verbosity < 2)
		return;
	prefix(stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int count_options(const struct cli_command *cmd)
{
	int n = 0;
	for (int g = 0; cmd->groups && cmd->groups[g]; g++)
		for (const struct cli_option *o = cmd->groups[g]->options; o->name; o++)
			n++;
	return n;
}

static struct cli_value *find_value(const struct cli_args *args, const char *name)
{
	for (int i = 0; i < args->n_values; i++)
		if (strcmp(args->values[i].opt->name, name) == 0)
			return &args->values[i];
	return NULL;
}

static int check_value(const struct cli_command *cmd, const struct cli_option *o,
		       const char *v)
{
	char *end;
	switch (o->type) {
	case CLI_FLAG:
	case CLI_STRING:
		return 0;
	case CLI_INT: {
		errno = 0;
		long long x = strtoll(v, &end, 10);
		if (errno || end == v || *end)
			return cli_usage_error(cmd, "option '--%s' needs a whole number, not '%s'",
					       o->name, v);
		if (o->min < o->max && (x < o->min || x > o->max))
			return cli_usage_error(cmd, "option '--%s' must be between %.15g and %.15g, not %s",
					       o->name, o->min, o->max, v);
		return 0;
	}
	case CLI_DOUBLE: {
		double x;
		if (lesion_double_parse(v, &end, &x) || *end)
			return cli_usage_error(cmd, "option '--%s' needs a number a double "
					       "holds (0, or 4.9e-324 to 1.8e308 in magnitude), "
					       "not '%s'", o->name, v);
		if (o->min < o->max && isinf(o->max) && x < o->min)
			return cli_usage_error(cmd, "option '--%s' must be at least %.15g, not %s",
					       o->name, o->min, v);
		if (o->min < o->max && (x < o->min || x > o->max))
			return cli_usage_error(cmd, "option '--%s' must be between %.15g and %.15g, not %s",
					       o->name, o->min, o->max, v);
		return 0;
	}
	case CLI_CHOICE: {
		size_t n = strlen(v);
		const char *c = o->choices;
		while (c && *c) {
			const char *bar = strchr(c, '|');
			size_t len = bar ? (size_t)(bar - c) : strlen(c);
			if (len == n && strncmp(c, v, n) == 0)
				return 0;
			c = bar ? bar + 1 : NULL;
		}
		return cli_usage_error(cmd, "option '--%s' must be one of %s, not '%s'",
				       o->name, o->choices, v);
	}
	}
	return 0;
}

static int store(const struct cli_command *cmd, struct cli_value *val, const char *v)
{
	int rc = check_value(cmd, val->opt, v);
	if (rc)
		return rc;
	if (val->count && !val->opt->repeatable && val->opt->type != CLI_FLAG)
		return cli_usage_error(cmd, "option '--%s' given twice", val->opt->name);
	const char **nv = realloc(val->values, sizeof(*nv) * (size_t)(val->count + 1));
	if (!nv)
		return LESION_ERR_INTERNAL;
	val->values = nv;
	val->values[val->count++] = v;
	val->value = v;
	return 0;
}

int cli_parse(const struct cli_command *cmd, int argc, char **argv,
	      struct cli_args *args, int *done)
{
	memset(args, 0, sizeof(*args));
	*done = 0;
	args->cmd = cmd;
	args->n_values = count_options(cmd);
	args->values = calloc((size_t)args->n_values + 1, sizeof(*args->values));
	args->positional = calloc((size_t)argc + 1, sizeof(char *));
	if (!args->values || !args->positional)
		return LESION_ERR_INTERNAL;
	int k = 0;
	for (int g = 0; cmd->groups && cmd->groups[g]; g++)
		for (const struct cli_option *o = cmd->groups[g]->options; o->name; o++)
			args->values[k++].opt = o;

	int only_positional = 0;
	for (int i = 0; i < argc; i++) {
		char *a = argv[i];
		if (only_positional || a[0] != '-' || a[1] == '\0') {
			args->positional[args->n_positional++] = a;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			only_positional = 1;
			continue;
		}
		struct cli_value *val = NULL;
		const char *inline_value = NULL;
		char namebuf[64];
		if (a[1] == '-') {
			const char *eq = strchr(a + 2, '=');
			size_t len = eq ? (size_t)(eq - (a + 2)) : strlen(a + 2);
			if (len >= sizeof(namebuf))
				len = sizeof(namebuf) - 1;
			memcpy(namebuf, a + 2, len);
			namebuf[len] = '\0';
			val = find_value(args, namebuf);
			inline_value = eq ? eq + 1 : NULL;
			if (!val)
				return cli_usage_error(cmd, "unknown option '--%s'", namebuf);
		} else {
			for (int j = 0; j < args->n_values; j++)
				if (args->values[j].opt->short_name == a[1])
					val = &args->values[j];
			if (!val)
				return cli_usage_error(cmd, "unknown option '-%c'", a[1]);
			if (a[2])
				inline_value = a + 2;
		}
		if (strcmp(val->opt->name, "help") == 0) {
			cli_print_help(stdout, cmd);
			*done = 1;
			return 0;
		}
		if (val->opt->type == CLI_FLAG) {
			if (inline_value)
				return cli_usage_error(cmd, "option '--%s' takes no value",
						       val->opt->name);
			val->count++;
			continue;
		}
		if (!inline_value) {
			if (i + 1 >= argc)
				return cli_usage_error(cmd, "option '--%s' needs a value (%s)",
						       val->opt->name, val->opt->metavar);
			inline_value = argv[++i];
		}
		int rc = store(cmd, val, inline_value);
		if (rc)
			return rc;
	}
	if (args->n_positional < cmd->min_args)
		return cli_usage_error(cmd, "missing argument%s",
				       cmd->min_args - args->n_positional > 1 ? "s" : "");
	if (cmd->max_args >= 0 && args->n_positional > cmd->max_args)
		return cli_usage_error(cmd, "unexpected argument '%s'",
				       args->positional[cmd->max_args]);
	if (cli_flag(args, "quiet"))
		cli_verbosity = 0;
	else if (cli_flag(args, "verbose"))
		cli_verbosity = 2;
	return 0;
}

void cli_args_release(struct cli_args *args)
{
	for (int i = 0; i < args->n_values; i++)
		free(args->values[i].values);
	free(args->values);
	free(args->positional);
	memset(args, 0, sizeof(*args));
}

int cli_given(const struct cli_args *args, const char *name)
{
	const struct cli_value *v = find_value(args, name);
	return v && v->count > 0;
}

int cli_flag(const struct cli_args *args, const char *name)
{
	return cli_given(args, name);
}

static const char *value_or_default(const struct cli_args *args, const char *name)
{
	const struct cli_value *v = find_value(args, name);
	if (!v)
		return NULL;
	return v->count ? v->value : v->opt->default_value;
}

long long cli_int(const struct cli_args *args, const char *name)
{
	const char *s = value_or_default(args, name);
	return s ? strtoll(s, NULL, 10) : 0;
}

double cli_double(const struct cli_args *args, const char *name)
{
	const char *s = value_or_default(args, name);
	double x = NAN;
	if (s)
		lesion_double_parse(s, NULL, &x); /* checked by check_value() */
	return x;
}

const char *cli_string(const struct cli_args *args, const char *name)
{
	return value_or_default(args, name);
}

const char **cli_strings(const struct cli_args *args, const char *name, int *n)
{
	const struct cli_value *v = find_value(args, name);
	*n = v ? v->count : 0;
	return v ? v->values : NULL;
}

void cli_apply_threads(const struct cli_args *args)
{
	if (cli_given(args, "threads") && cli_int(args, "threads") > 0)
		omp_set_num_threads((int)cli_int(args, "threads"));
}

void cli_print_usage_short(FILE *f, const struct cli_command *cmd)
{
	fprintf(f, "usage: lesionvol %s %s\n", cmd->name, cmd->synopsis);
}

static void print_wrapped(FILE *f, const char *text, int indent, int first_col)
{
	int col = first_col;
	const char *p = text;
	while (*p) {
		const char *sp = p;
		while (*sp && *sp != ' ' && *sp != '\n')
			sp++;
		int wl = (int)(sp - p);
		if (col > indent && col + 1 + wl > 79) {
			fprintf(f, "\n%*s", indent, "");
			col = indent;
		} else if (col > indent) {
			fputc(' ', f);
			col++;
		}
		fwrite(p, 1, (size_t)wl, f);
		col += wl;
		p = sp;
		if (*p == '\n') {
			fprintf(f, "\n%*s", indent, "");
			col = indent;
			p++;
		} else if (*p == ' ') {
			p++;
		}
	}
	fputc('\n', f);
}

static void option_label(const struct cli_option *o, char *buf, size_t size)
{
	char s[8] = "";
	if (o->short_name)
		snprintf(s, sizeof(s), "-%c, ", o->short_name);
	if (o->type == CLI_FLAG)
		snprintf(buf, size, "%s--%s", s, o->name);
	else if (o->type == CLI_CHOICE)
		snprintf(buf, size, "%s--%s %s", s, o->name, o->choices);
	else
		snprintf(buf, size, "%s--%s %s", s, o->name, o->metavar ? o->metavar : "X");
}

void cli_print_help(FILE *f, const struct cli_command *cmd)
{
	cli_print_usage_short(f, cmd);
	fprintf(f, "\n%s\n\n", cmd->summary);
	if (cmd->description && *cmd->description) {
		print_wrapped(f, cmd->description, 0, 0);
		fputc('\n', f);
	}
	for (int g = 0; cmd->groups && cmd->groups[g]; g++) {
		fprintf(f, "%s:\n", cmd->groups[g]->title);
		for (const struct cli_option *o = cmd->groups[g]->options; o->name; o++) {
			char label[128];
			option_label(o, label, sizeof(label));
			fprintf(f, "  %s", label);
			int col = 2 + (int)strlen(label);
			char help[512];
			if (o->default_value)
				snprintf(help, sizeof(help), "%s (default: %s)", o->help, o->default_value);
			else
				snprintf(help, sizeof(help), "%s", o->help);
			if (col >= 30) {
				fprintf(f, "\n%*s", 30, "");
				col = 30;
			} else {
				fprintf(f, "%*s", 30 - col, "");
				col = 30;
			}
			print_wrapped(f, help, 30, 30);
		}
		fputc('\n', f);
	}
	if (cmd->examples && cmd->examples[0]) {
		fprintf(f, "Examples:\n");
		for (int i = 0; cmd->examples[i]; i++)
			fprintf(f, "  %s\n", cmd->examples[i]);
		fputc('\n', f);
	}
	fprintf(f, "Exit codes: 0 success, 1 input error, 2 usage error, 3 some "
		   "participants failed, 4 cannot write output, 70 internal error.\n");
}

void cli_print_markdown(FILE *f, const struct cli_command *cmd)
{
	fprintf(f, "### `lesionvol %s`\n\n", cmd->name);
	fprintf(f, "```\nlesionvol %s %s\n```\n\n", cmd->name, cmd->synopsis);
	fprintf(f, "%s\n\n", cmd->summary);
	if (cmd->description && *cmd->description)
		fprintf(f, "%s\n\n", cmd->description);
	fprintf(f, "| option | meaning | default |\n|---|---|---|\n");
	for (int g = 0; cmd->groups && cmd->groups[g]; g++)
		for (const struct cli_option *o = cmd->groups[g]->options; o->name; o++) {
			char label[128];
			option_label(o, label, sizeof(label));
			for (char *p = label; *p; p++)
				if (*p == '|')
					*p = '/';
			fprintf(f, "| `%s` | %s | %s |\n", label, o->help,
				o->default_value ? o->default_value : "");
		}
	if (cmd->examples && cmd->examples[0]) {
		fprintf(f, "\nExamples:\n\n```sh\n");
		for (int i = 0; cmd->examples[i]; i++)
			fprintf(f, "%s\n", cmd->examples[i]);
		fprintf(f, "```\n");
	}
	fputc('\n', f);
}

int cli_same_file(const char *a, const char *b)
{
	struct stat sa, sb;
	if (!a || !b)
		return 0;
	if (strcmp(a, b) == 0)
		return 1;
	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

static int is_output_option(const char *name, const char *const *outputs)
{
	for (int k = 0; outputs[k]; k++)
		if (strcmp(name, outputs[k]) == 0)
			return 1;
	return 0;
}

int cli_refuse_overwrite(const struct cli_args *args, const char *const *outputs)
{
	for (int k = 0; outputs[k]; k++) {
		const char *out = cli_given(args, outputs[k]) ? cli_string(args, outputs[k]) : NULL;
		if (!out || strcmp(out, "-") == 0)
			continue;
		for (int i = 0; i < args->n_positional; i++)
			if (cli_same_file(out, args->positional[i]))
				return cli_usage_error(args->cmd, "refusing to overwrite the input "
						       "'%s' with --%s", args->positional[i], outputs[k]);
		for (int v = 0; v < args->n_values; v++) {
			const struct cli_value *val = &args->values[v];
			if (val->opt->type != CLI_STRING || !val->count ||
			    strcmp(val->opt->name, outputs[k]) == 0)
				continue;
			for (int c = 0; c < val->count; c++) {
				if (!cli_same_file(out, val->values[c]))
					continue;
				if (is_output_option(val->opt->name, outputs))
					return cli_usage_error(args->cmd, "--%s and --%s both name '%s'",
							       val->opt->name, outputs[k], out);
				return cli_usage_error(args->cmd, "refusing to overwrite the input "
						       "'%s' (--%s) with --%s", val->values[c],
						       val->opt->name, outputs[k]);
			}
		}
	}
	return 0;
}
