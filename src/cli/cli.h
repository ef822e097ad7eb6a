/* cli.h: commands as data (descriptor + run function), the option parser and
 * help generated from the descriptors, and the output writers. */
#ifndef LESIONVOL_CLI_H
#define LESIONVOL_CLI_H

#include <stdint.h>
#include <stdio.h>

#include <cJSON.h>

#include "lesionvol/status.h"

enum cli_type {
	CLI_FLAG,    /* no value */
	CLI_INT,     /* integer, range-checked when min < max */
	CLI_DOUBLE,  /* number, range-checked when min < max */
	CLI_STRING,  /* any text (a path, a list...) */
	CLI_CHOICE,  /* one of the '|'-separated words in .choices */
};

/*
 * struct cli_option - one option, declared once with its help text.
 * A repeatable option collects every value (cli_strings()).
 */
struct cli_option {
	const char *name;          /* long name, without "--" */
	char short_name;           /* 0 when none */
	enum cli_type type;
	const char *metavar;       /* "X", "FILE"... */
	const char *help;
	const char *choices;       /* CLI_CHOICE: "table|tsv|csv|json" */
	double min, max;           /* inclusive range when min < max */
	const char *default_value; /* shown in help, used when absent */
	int repeatable;
};

struct cli_option_group {
	const char *title;
	const struct cli_option *options; /* terminated by { NULL } */
};

struct cli_args;
struct cli_command;

typedef int (*cli_run_fn)(const struct cli_command *cmd, struct cli_args *args);

/*
 * struct cli_command - everything about a command: the parser, --help and
 * README's command reference are all generated from it.
 */
struct cli_command {
	const char *name;
	const char *synopsis;      /* after "lesionvol NAME " */
	const char *summary;       /* one line */
	const char *description;   /* paragraphs, '\n'-separated */
	int min_args, max_args;    /* positional arguments; max -1: unlimited */
	const struct cli_option_group *const *groups; /* NULL-terminated */
	const char *const *examples; /* NULL-terminated runnable command lines */
	cli_run_fn run;
};

/* Shared option groups: one spelling of each option everywhere. */
extern const struct cli_option_group cli_group_segmentation;
extern const struct cli_option_group cli_group_output;
extern const struct cli_option_group cli_group_threads;
extern const struct cli_option_group cli_group_general;

/* The parsed command line of one command. */
struct cli_args {
	const struct cli_command *cmd;
	int n_positional;
	char **positional;
	int n_values;
	struct cli_value {
		const struct cli_option *opt;
		int count;
		const char *value;     /* last value given */
		const char **values;   /* every value, for repeatable options */
	} *values;
};

/* Parsing; returns 0, or an exit code (2 usage error, 0 after --help). */
int cli_parse(const struct cli_command *cmd, int argc, char **argv,
	      struct cli_args *args, int *done);
void cli_args_release(struct cli_args *args);

/* Option values; names are long names. */
int cli_given(const struct cli_args *args, const char *name);
int cli_flag(const struct cli_args *args, const char *name);
long long cli_int(const struct cli_args *args, const char *name);
double cli_double(const struct cli_args *args, const char *name);
const char *cli_string(const struct cli_args *args, const char *name);
const char **cli_strings(const struct cli_args *args, const char *name, int *n);

/* Help. */
void cli_print_help(FILE *f, const struct cli_command *cmd);
void cli_print_usage_short(FILE *f, const struct cli_command *cmd);
void cli_print_markdown(FILE *f, const struct cli_command *cmd);

/* Messages (stderr, prefixed by the program and command name). */
extern int cli_verbosity; /* 0 quiet, 1 normal (default), 2 verbose */
int cli_error(const struct lesion_error *err);
int cli_usage_error(const struct cli_command *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void cli_warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_set_command_name(const char *name);

/* cli_same_file() - 1 when @a and @b name one file: the same text, or the
 * same device and inode; 0 when either is NULL. */
int cli_same_file(const char *a, const char *b);

/*
 * cli_refuse_overwrite() - exit code 2 (usage error printed) when the file of
 * an output option in @outputs (NULL-terminated long names) is an input: a
 * positional argument or the value of another path option, by name or by
 * inode; or when two output options name one file. Else 0.
 */
int cli_refuse_overwrite(const struct cli_args *args, const char *const *outputs);

/* Threads: applies --threads (0 = all cores). */
void cli_apply_threads(const struct cli_args *args);

/*
 * Output. Results are built as cJSON (the one data model); writers render
 * them as an aligned table, TSV, CSV or JSON.
 */
enum cli_format { CLI_FORMAT_TABLE, CLI_FORMAT_TSV, CLI_FORMAT_CSV, CLI_FORMAT_JSON };
enum cli_format cli_format_of(const struct cli_args *args);

/* A number that is exact: integral doubles as integers, others as the
 * shortest text that reads back to the same double. */
void cli_format_number(double v, char *buf, size_t size);

/* Rows of @rows (an array of objects) with the given @columns. */
void cli_write_rows(FILE *f, enum cli_format fmt, const char *const *columns,
		    const cJSON *rows, int header);
/* One object as "key  value" lines (table) or a one-row TSV/CSV. */
void cli_write_record(FILE *f, enum cli_format fmt, const cJSON *obj,
		      const char *const *columns);
/* JSON, indented, numbers exact. */
void cli_write_json(FILE *f, const cJSON *obj);
/* @s as a JSON string, escaped as cJSON_Print escapes it. */
void cli_json_put_string(FILE *f, const char *s);

/*
 * The output stream of a command: stdout, or a memory buffer that
 * cli_output_close() writes to --output FILE atomically.
 */
struct cli_output {
	FILE *f;
	char *buf;
	size_t size;
	const char *path;
};
int cli_output_open(struct cli_output *out, const struct cli_args *args);
/* Returns 0 or the exit code 4 (message printed). */
int cli_output_close(struct cli_output *out);

/* cJSON helpers: a number or null when not finite. */
cJSON *cli_json_number(double v);
void cli_json_add_number(cJSON *obj, const char *key, double v);
void cli_json_add_vec3(cJSON *obj, const char *key, const double v[3]);

/*
 * The segmentation rule (rule.c). cli_rule_from_args() turns the options of
 * cli_group_segmentation into @rule; returns 0, or the exit code 2 after
 * printing the usage error. cli_mask_from_args() loads --mask (3D) into
 * *@mask, NULL when not given (free with lesion_volume_free()); returns 0 or
 * the exit code after printing the error.
 */
struct lesion_rule;
struct lesion_volume;
int cli_rule_from_args(const struct cli_args *args, struct lesion_rule *rule);
int cli_mask_from_args(const struct cli_args *args, struct lesion_volume **mask);

/*
 * Measurements as cJSON (measurement.c), keys as documented in README.
 * cli_measurement_json(): the per-image fields (with "image" first when
 * @image is not NULL; soft_volume_mm3 with rule->soft; the reference median,
 * MAD and thresholds with --zthr/--uzthr). cli_component_json(): one
 * component (with "image" first when @image is not NULL); @flat splits vectors into one key per coordinate
 * (centroid_vox_i, centroid_mm_x, bbox_min_i, peak_vox_i...) for TSV/CSV.
 */
struct lesion_measurement;
struct lesion_component;
cJSON *cli_measurement_json(const char *image, const struct lesion_measurement *m,
			    const struct lesion_rule *rule);
cJSON *cli_component_json(const char *image, const struct lesion_component *c,
			  int soft, int flat);
/* The same as cli_write_json() of cli_measurement_json() with a "components"
 * array of the first @top components, written straight to @f: no tree. */
void cli_measurement_write_json(FILE *f, const char *image, const struct lesion_measurement *m,
				const struct lesion_rule *rule, int64_t top);

/* The commands (one file each). */
extern const struct cli_command cmd_info;
extern const struct cli_command cmd_measure;
extern const struct cli_command cmd_change;
extern const struct cli_command cmd_quicklook;
extern const struct cli_command cmd_simulate;
extern const struct cli_command cmd_cohort;
extern const struct cli_command cmd_bids;
extern int cli_argc; extern char **cli_argv; /* the whole command line */
extern const struct cli_command cmd_evaluate;
extern const struct cli_command cmd_regions;
extern const struct cli_command *const cli_commands[];

#endif
