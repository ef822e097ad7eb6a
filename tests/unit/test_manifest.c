/* test_manifest.c: cohort manifests (columns, encodings, line-numbered
 * errors), BIDS labels, plans, SHA-256 and exact number text. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cohort_internal.h"
#include "lesionvol/cohort.h"

static enum lesion_status parse(const char *text, struct lesion_manifest *m,
				struct lesion_error *err)
{
	memset(err, 0, sizeof(*err));
	return lesion_manifest_parse(text, strlen(text), "m.tsv", "/data/study", m, err);
}

static void expect_error(const char *text, const char *needle)
{
	struct lesion_manifest m;
	struct lesion_error err;
	assert_int_equal(parse(text, &m, &err), LESION_ERR_INPUT);
	if (!strstr(err.message, needle))
		fail_msg("message '%s' lacks '%s'", err.message, needle);
}

static void test_manifest__reads_required_optional_and_extra_columns(void **state)
{
	(void)state;
	struct lesion_manifest m;
	struct lesion_error err;
	const char *text = "participant_id\tsession\timage\tgroup\tdays\tmask\tage\tnihss\n"
			   "sub-01\tacute\ta.nii.gz\ttreated\t1.5\tbrain.nii\t63\tn/a\n"
			   "sub-01\tchronic\t/abs/b.nii.gz\ttreated\t90\t\t63\t4\n";
	assert_int_equal(parse(text, &m, &err), LESION_OK);
	assert_int_equal(m.n_rows, 2);
	assert_true(m.has_group && m.has_days && m.has_mask);
	assert_int_equal(m.n_extra, 2);
	assert_string_equal(m.extra_names[0], "age");
	assert_string_equal(m.extra_names[1], "nihss");
	assert_string_equal(m.rows[0].image, "a.nii.gz");
	assert_string_equal(m.rows[0].image_path, "/data/study/a.nii.gz");
	assert_string_equal(m.rows[1].image_path, "/abs/b.nii.gz");
	assert_string_equal(m.rows[0].mask_path, "/data/study/brain.nii");
	assert_null(m.rows[1].mask_path);
	assert_true(m.rows[0].days == 1.5);
	assert_string_equal(m.rows[0].group, "treated");
	assert_null(m.rows[0].extra[1]);
	assert_string_equal(m.rows[1].extra[1], "4");
	assert_int_equal(m.rows[1].line, 3);
	lesion_manifest_release(&m);
}

static void test_manifest__anatomy_column_is_a_path_not_an_extra(void **state)
{
	(void)state;
	struct lesion_manifest m;
	struct lesion_cohort_plan plan;
	struct lesion_error err;
	const char *text = "participant_id\tsession\timage\tdays\tanatomy\tage\n"
			   "sub-01\tb\tb.nii.gz\t30\tflair_b.nii.gz\t63\n"
			   "sub-01\ta\ta.nii.gz\t1\tn/a\t63\n";
	assert_int_equal(parse(text, &m, &err), LESION_OK);
	assert_true(m.has_anatomy);
	assert_int_equal(m.n_extra, 1);
	assert_string_equal(m.extra_names[0], "age");
	assert_string_equal(m.rows[0].anatomy_path, "/data/study/flair_b.nii.gz");
	assert_null(m.rows[1].anatomy_path);
	assert_int_equal(lesion_cohort_plan_from_manifest(&m, &plan, &err), LESION_OK);
	/* sorted by days: the anatomy travels with its session */
	assert_string_equal(plan.participants[0].timepoints[0].session, "a");
	assert_null(plan.participants[0].timepoints[0].anatomy_path);
	assert_string_equal(plan.participants[0].timepoints[1].anatomy_path,
			    "/data/study/flair_b.nii.gz");
	lesion_cohort_plan_release(&plan);
	lesion_manifest_release(&m);
}

static void test_manifest__bom_crlf_blank_lines_and_trailing_tabs_are_tolerated(void **state)
{
	(void)state;
	struct lesion_manifest m;
	struct lesion_error err;
	const char *text = "\xef\xbb\xbfparticipant_id\tsession\timage\r\n"
			   "\r\n"
			   "01\t1\tx.nii\t\t\r\n"
			   "02 \t 1\ty.nii\r\n";
	assert_int_equal(parse(text, &m, &err), LESION_OK);
	assert_int_equal(m.n_rows, 2);
	assert_string_equal(m.rows[0].participant_id, "01");
	assert_string_equal(m.rows[0].image, "x.nii");
	assert_string_equal(m.rows[1].participant_id, "02");
	assert_string_equal(m.rows[1].session, "1");
	assert_int_equal(m.rows[1].line, 4);
	assert_true(isnan(m.rows[0].days));
	assert_null(m.rows[0].group);
	lesion_manifest_release(&m);
}

static void test_manifest__missing_column_is_named(void **state)
{
	(void)state;
	expect_error("participant_id\tsession\tpath\n01\t1\tx.nii\n",
		     "'m.tsv' line 1: missing required column 'image'");
	expect_error("subject\tsession\timage\n01\t1\tx.nii\n",
		     "missing required column 'participant_id'");
}

static void test_manifest__bad_days_names_line_and_value(void **state)
{
	(void)state;
	expect_error("participant_id\tsession\timage\tdays\n01\t1\tx.nii\t0\n01\t2\ty.nii\tday7\n",
		     "'m.tsv' line 3: days 'day7' is not a number");
	expect_error("participant_id\tsession\timage\tdays\n01\t1\tx.nii\tinf\n",
		     "line 2: days 'inf' is not a number");
}

static void test_manifest__duplicate_participant_session_names_both_lines(void **state)
{
	(void)state;
	expect_error("participant_id\tsession\timage\n01\t1\ta.nii\n02\t1\tb.nii\nsub-01\tses-1\tc.nii\n",
		     "'m.tsv' line 4: participant 'sub-01' session 'ses-1' is listed twice (also line 2)");
}

static void test_manifest__conflicting_groups_are_refused(void **state)
{
	(void)state;
	expect_error("participant_id\tsession\timage\tgroup\n01\t1\ta.nii\tA\n01\t2\tb.nii\tB\n",
		     "line 3: participant '01' is in group 'B' here but 'A' on line 2");
}

static void test_manifest__field_count_encoding_and_empty_values(void **state)
{
	(void)state;
	expect_error("participant_id\tsession\timage\n01\t1\n",
		     "'m.tsv' line 2: 2 fields, the header has 3");
	expect_error("participant_id\tsession\timage\n01\t\tx.nii\n", "line 2: empty session");
	expect_error("participant_id\tsession\timage\nn/a\t1\tx.nii\n",
		     "line 2: empty participant_id");
	expect_error("participant_id\tsession\timage\n01\t1\tx\xff.nii\n",
		     "line 2: not valid UTF-8");
	expect_error("participant_id\tsession\tsession\n", "column 'session' appears twice");
	expect_error("", "is empty");
	struct lesion_manifest m;
	struct lesion_error err;
	const char utf16[] = "\xff\xfep\0a\0";
	assert_int_equal(lesion_manifest_parse(utf16, sizeof(utf16) - 1, "m.tsv", "/", &m, &err),
			 LESION_ERR_INPUT);
	assert_non_null(strstr(err.message, "UTF-16"));
}

static void test_label__only_letters_and_digits_are_valid(void **state)
{
	(void)state;
	assert_true(lesion_label_valid("01"));
	assert_true(lesion_label_valid("r001s001"));
	assert_false(lesion_label_valid(""));
	assert_false(lesion_label_valid("../../etc"));
	assert_false(lesion_label_valid("a/b"));
	assert_false(lesion_label_valid("a_b"));
	assert_false(lesion_label_valid("a-b"));
	assert_false(lesion_label_valid("."));
	assert_false(lesion_label_valid("\xc3\xa9t\xc3\xa9"));
	assert_string_equal(lesion_label_from_id("sub-01", "sub-"), "01");
	assert_string_equal(lesion_label_from_id("01", "sub-"), "01");
}

static void test_plan__invalid_label_fails_only_that_participant(void **state)
{
	(void)state;
	struct lesion_manifest m;
	struct lesion_cohort_plan plan;
	struct lesion_error err;
	const char *text = "participant_id\tsession\timage\tdays\n"
			   "sub-02\tchronic\tc.nii\t90\n"
			   "../../etc\t1\tevil.nii\t1\n"
			   "sub-02\tacute\ta.nii\t1\n"
			   "01\t1\tb.nii\tn/a\n";
	assert_int_equal(parse(text, &m, &err), LESION_OK);
	assert_int_equal(lesion_cohort_plan_from_manifest(&m, &plan, &err), LESION_OK);
	assert_int_equal(plan.n_participants, 3);
	/* byte order of participant_id: "../../etc" < "sub-01" < "sub-02" */
	assert_string_equal(plan.participants[0].participant_id, "../../etc");
	assert_null(plan.participants[0].label);
	assert_non_null(strstr(plan.participants[0].error,
			       "invalid participant label: '../../etc' (line 3)"));
	assert_string_equal(plan.participants[1].participant_id, "sub-01");
	assert_string_equal(plan.participants[1].label, "01");
	assert_null(plan.participants[1].error);
	/* sessions ordered by days */
	const struct lesion_cohort_participant *p = &plan.participants[2];
	assert_int_equal(p->n_timepoints, 2);
	assert_string_equal(p->timepoints[0].session, "acute");
	assert_string_equal(p->timepoints[1].session, "chronic");
	assert_string_equal(p->timepoints[1].image_path, "/data/study/c.nii");
	lesion_cohort_plan_release(&plan);
	lesion_manifest_release(&m);
}

static void test_plan__unknown_days_keep_manifest_order(void **state)
{
	(void)state;
	struct lesion_manifest m;
	struct lesion_cohort_plan plan;
	struct lesion_error err;
	const char *text = "participant_id\tsession\timage\tdays\n"
			   "01\tses-b\tb.nii\t5\n01\tses-a\ta.nii\tn/a\n";
	assert_int_equal(parse(text, &m, &err), LESION_OK);
	assert_int_equal(lesion_cohort_plan_from_manifest(&m, &plan, &err), LESION_OK);
	assert_string_equal(plan.participants[0].timepoints[0].session, "b");
	assert_string_equal(plan.participants[0].timepoints[1].session, "a");
	lesion_cohort_plan_release(&plan);
	lesion_manifest_release(&m);
}

static void test_sha256__matches_fips_vectors(void **state)
{
	(void)state;
	char hex[65];
	lesion_sha256_hex("abc", 3, hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	lesion_sha256_hex("", 0, hex);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	lesion_sha256_hex(two, strlen(two), hex);
	assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	/* a million 'a' fed in uneven pieces */
	struct lesion_sha256 s;
	char chunk[997];
	memset(chunk, 'a', sizeof(chunk));
	lesion_sha256_init(&s);
	size_t left = 1000000;
	while (left) {
		size_t n = left < sizeof(chunk) ? left : sizeof(chunk);
		lesion_sha256_update(&s, chunk, n);
		left -= n;
	}
	lesion_sha256_final(&s, hex);
	assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void test_number__shortest_text_reads_back_exactly(void **state)
{
	(void)state;
	const double values[] = {0.1, 1.0 / 3.0, 0.1 + 0.2, 1e-300, 123456789.125,
				 2.0 / 3.0 * 1e21, -7.25, 5e-324};
	char buf[40];
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		lesion_number_format(values[i], buf, sizeof(buf));
		assert_true(strtod(buf, NULL) == values[i]);
	}
	lesion_number_format(0.1, buf, sizeof(buf));
	assert_string_equal(buf, "0.1");
	lesion_number_format(0.1 + 0.2, buf, sizeof(buf));
	assert_string_equal(buf, "0.30000000000000004");
	lesion_number_format(1616, buf, sizeof(buf));
	assert_string_equal(buf, "1616");
	lesion_number_format(-0.0, buf, sizeof(buf));
	assert_string_equal(buf, "0");
	lesion_number_format(NAN, buf, sizeof(buf));
	assert_string_equal(buf, "n/a");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_manifest__reads_required_optional_and_extra_columns),
		cmocka_unit_test(test_manifest__anatomy_column_is_a_path_not_an_extra),
		cmocka_unit_test(test_manifest__bom_crlf_blank_lines_and_trailing_tabs_are_tolerated),
		cmocka_unit_test(test_manifest__missing_column_is_named),
		cmocka_unit_test(test_manifest__bad_days_names_line_and_value),
		cmocka_unit_test(test_manifest__duplicate_participant_session_names_both_lines),
		cmocka_unit_test(test_manifest__conflicting_groups_are_refused),
		cmocka_unit_test(test_manifest__field_count_encoding_and_empty_values),
		cmocka_unit_test(test_label__only_letters_and_digits_are_valid),
		cmocka_unit_test(test_plan__invalid_label_fails_only_that_participant),
		cmocka_unit_test(test_plan__unknown_days_keep_manifest_order),
		cmocka_unit_test(test_sha256__matches_fips_vectors),
		cmocka_unit_test(test_number__shortest_text_reads_back_exactly),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
