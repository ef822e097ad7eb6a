/* test_report.c: report.html from group-level tables written here: what it
 * needs, what it escapes, what it embeds and that it is reproducible. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "lesionvol/quicklook.h"
#include "lesionvol/report.h"

static char dir[64];

static void put_file(const char *name, const char *text)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static char *read_report(void)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/report.html", dir);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *s = malloc((size_t)n + 1);
	assert_non_null(s);
	assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
	s[n] = '\0';
	fclose(f);
	return s;
}

static const char timepoints[] =
	"participant_id\tgroup\tsession\tdays\timage\tlesion_voxels\tlesion_volume_mm3\t"
	"lesion_volume_ml\tn_components\tlargest_component_mm3\tstatus\tmessage\n"
	"sub-01\tA&B\tacute\t1\ta.nii\t10\t10000\t10\t1\t10000\tok\tn/a\n"
	"sub-01\tA&B\tchronic\t90\tb.nii\t5\t5000\t5\t1\t5000\tok\tn/a\n"
	"sub-02\tcontrol\tacute\t2\tc.nii\t20\t20000\t20\t1\t20000\tok\tn/a\n"
	"sub-02\tcontrol\tchronic\t91\td.nii\tn/a\tn/a\tn/a\tn/a\tn/a\terror\t"
	"unable to read 'd.nii': <truncated>\n";

static const char changes[] =
	"participant_id\tgroup\tbaseline_session\tsession\tpercent_change\tstatus\tmessage\n"
	"sub-01\tA&B\tacute\tchronic\t-50\tok\tn/a\n";

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/lesionvol-report-XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_report__needs_timepoints_tsv(void **state)
{
	(void)state;
	struct lesion_error err;
	assert_int_equal(lesion_report_write(dir, &err), LESION_ERR_INPUT);
	assert_non_null(strstr(err.message, "timepoints.tsv"));
}

static void test_report__escapes_text_and_marks_failures(void **state)
{
	(void)state;
	put_file("timepoints.tsv", timepoints);
	put_file("changes.tsv", changes);
	assert_int_equal(lesion_report_write(dir, NULL), LESION_OK);
	char *html = read_report();
	assert_non_null(strstr(html, "A&amp;B"));
	assert_null(strstr(html, "A&B"));
	assert_non_null(strstr(html, "&lt;truncated&gt;"));
	assert_non_null(strstr(html, "<tr class=\"error\"><td class=\"l\">sub-02"));
	assert_non_null(strstr(html, "-50.0%"));
	assert_non_null(strstr(html, "<svg"));
	assert_null(strstr(html, "http"));
	assert_null(strstr(html, "<script"));
	/* acute before chronic: by days, not alphabetically by accident */
	assert_true(strstr(html, ">acute<br/>") < strstr(html, ">chronic<br/>"));
	free(html);
}

static void test_report__embeds_quicklooks_of_valid_labels_only(void **state)
{
	(void)state;
	const unsigned char rgb[3] = {255, 0, 0};
	char path[256];
	put_file("timepoints.tsv", timepoints);
	snprintf(path, sizeof(path), "%s/sub-01", dir);
	assert_int_equal(mkdir(path, 0777), 0);
	snprintf(path, sizeof(path), "%s/sub-01/sub-01_ses-chronic_quicklook.png", dir);
	assert_int_equal(lesion_png_write(path, rgb, 1, 1, NULL), LESION_OK);
	snprintf(path, sizeof(path), "%s/sub-01/notes_quicklook.png", dir);
	assert_int_equal(lesion_png_write(path, rgb, 1, 1, NULL), LESION_OK);
	assert_int_equal(lesion_report_write(dir, NULL), LESION_OK);
	char *html = read_report();
	char *img = strstr(html, "<img class=\"ql\" alt=\"sub-01_ses-chronic_quicklook.png\"");
	assert_non_null(img);
	assert_non_null(strstr(img, "src=\"data:image/png;base64,iVBORw0KGgo"));
	assert_null(strstr(html, "notes_quicklook"));
	free(html);
}

static void test_report__comparison_leads_with_the_primary_result(void **state)
{
	(void)state;
	put_file("timepoints.tsv", timepoints);
	put_file("comparison.tsv",
		 "session\treference_group\tcomparison_group\toutcome\ttest\tn_reference\t"
		 "n_comparison\testimate\tse\tstatistic\tdf\tp_value\tci_low\tci_high\t"
		 "ratio\tratio_ci_low\tratio_ci_high\tnote\n"
		 "chronic\tcontrol\tA&B\tfollowup_volume\tancova_log\t1\t1\t-0.3\t0.1\t-3\t5\t"
		 "0.0004\t-0.5\t-0.1\t0.74\t0.6\t0.9\tA&B follow-up volume 0.74x control\n"
		 "chronic\tcontrol\tA&B\tdelta_mm3\tmann_whitney_u\t1\t1\tn/a\tn/a\t16\tn/a\t"
		 "0.03\tn/a\tn/a\tn/a\tn/a\tn/a\texact p\n");
	assert_int_equal(lesion_report_write(dir, NULL), LESION_OK);
	char *html = read_report();
	char *headline = strstr(html, "<p class=\"headline\">A&amp;B follow-up volume 0.74x control</p>");
	assert_non_null(headline);
	assert_true(headline < strstr(html, "<table class=\"stats\">"));
	assert_non_null(strstr(html, "ANCOVA of log volume (primary)"));
	assert_non_null(strstr(html, "&lt; 0.001"));
	assert_non_null(strstr(html, ">exact p<"));
	assert_null(strstr(html, "No comparison.tsv"));
	free(html);
}

static void test_report__unknown_comparison_layout_is_shown_as_it_is(void **state)
{
	(void)state;
	put_file("timepoints.tsv", timepoints);
	put_file("comparison.tsv", "what\tvalue\nmeaning of life\t42.000001\n");
	assert_int_equal(lesion_report_write(dir, NULL), LESION_OK);
	char *html = read_report();
	assert_non_null(strstr(html, "<th>what</th><td>meaning of life</td>"));
	assert_non_null(strstr(html, "<td>42</td>"));
	free(html);
}

static void test_report__same_tables_give_the_same_page(void **state)
{
	(void)state;
	put_file("timepoints.tsv", timepoints);
	put_file("changes.tsv", changes);
	assert_int_equal(lesion_report_write(dir, NULL), LESION_OK);
	char *a = read_report();
	assert_int_equal(lesion_report_write(dir, NULL), LESION_OK);
	char *b = read_report();
	assert_string_equal(a, b);
	free(a);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_report__needs_timepoints_tsv, setup, teardown),
		cmocka_unit_test_setup_teardown(test_report__escapes_text_and_marks_failures,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_report__embeds_quicklooks_of_valid_labels_only,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_report__comparison_leads_with_the_primary_result,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_report__unknown_comparison_layout_is_shown_as_it_is,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_report__same_tables_give_the_same_page,
						setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
