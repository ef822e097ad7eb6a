/* main.c: the lesionvol program: a static table of commands and dispatch. */
#include "cli.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "lesionvol/status.h"

const struct cli_command *const cli_commands[] = {
	&cmd_info,
	&cmd_measure,
	&cmd_change,
	&cmd_quicklook,
	&cmd_simulate,
	&cmd_cohort,
	&cmd_bids,
	&cmd_evaluate,
	&cmd_regions,
	NULL,
};

static void print_main_help(FILE *f)
{
	fprintf(f, "usage: lesionvol COMMAND [options]\n\n"
		   "Lesion volume and its change over time from NIfTI images.\n\n"
		   "Commands:\n");
	for (int i = 0; cli_commands[i]; i++)
		fprintf(f, "  %-10s %s\n", cli_commands[i]->name, cli_commands[i]->summary);
	fprintf(f, "\n'lesionvol COMMAND --help' describes a command and its options.\n"
		   "'lesionvol --version' prints the version.\n");
}

static const struct cli_command *find_command(const char *name)
{
	for (int i = 0; cli_commands[i]; i++)
		if (strcmp(cli_commands[i]->name, name) == 0)
			return cli_commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	/*
	 * Volumes, rings and run arrays of a few MiB each come and go once per
	 * image; glibc would map and unmap each (zeroing fresh pages, flushing
	 * other threads' TLBs). Served from the heap and kept there, a
	 * cohort's next participant reuses them: memory stays bounded by
	 * the threads' largest images, as before.
	 */
	mallopt(M_MMAP_THRESHOLD, 64 << 20);
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
	if (argc < 2) {
		print_main_help(stderr);
		return LESION_ERR_USAGE;
	}
	const char *name = argv[1];
	if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 ||
	    strcmp(name, "help") == 0) {
		if (argc > 2 && find_command(argv[2])) {
			cli_print_help(stdout, find_command(argv[2]));
			return 0;
		}
		print_main_help(stdout);
		return 0;
	}
	if (strcmp(name, "--version") == 0 || strcmp(name, "-V") == 0) {
		printf("lesionvol %s\n", lesion_version());
		return 0;
	}
	if (strcmp(name, "--help-markdown") == 0) {
		/* README's command reference is generated from the descriptors */
		for (int i = 0; cli_commands[i]; i++)
			cli_print_markdown(stdout, cli_commands[i]);
		return 0;
	}
	const struct cli_command *cmd = find_command(name);
	if (!cmd) {
		fprintf(stderr, "lesionvol: '%s' is not a command\n", name);
		print_main_help(stderr);
		return LESION_ERR_USAGE;
	}
	cli_set_command_name(cmd->name);
	cli_argc = argc, cli_argv = argv; /* for provenance.json */
	struct cli_args args;
	int done = 0;
	int rc = cli_parse(cmd, argc - 2, argv + 2, &args, &done);
	if (rc == 0 && !done)
		rc = cmd->run(cmd, &args);
	cli_args_release(&args);
	return rc;
}
