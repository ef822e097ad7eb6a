/* lesionvol/number.h: doubles as the shortest text that reads back exactly. */
#ifndef LESIONVOL_NUMBER_H
#define LESIONVOL_NUMBER_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A buffer of this many bytes holds any text the functions below write. */
#define LESION_DOUBLE_TEXT_MAX 32

/*
 * lesion_double_shortest() - write @v into @buf as the shortest decimal text
 * that strtod() reads back as exactly @v: integral values of magnitude below
 * 2^53 as "%.0f" prints them ("12", "-0"), every other value as glibc's
 * "%.{p}g" prints it for the smallest precision p (1..17) that reads back
 * ("0.1", "10.488420758928571", "1e-05", "1.5e+20"). The text is the same,
 * byte for byte, as that of the snprintf() and strtod() loop it replaces;
 * the usual magnitudes (1e-11 to 1e41) are computed exactly with integer
 * arithmetic, without printf or strtod. Non-finite values print as "%g"
 * does ("inf", "-inf", "nan", "-nan"); callers wanting "n/a" or null check
 * isfinite() first.
 *
 * Writes at most @size bytes including the terminating NUL, truncating like
 * snprintf() (nothing when @size is 0); LESION_DOUBLE_TEXT_MAX bytes always
 * suffice. Returns the length of the whole text (at most 24), not counting
 * the NUL. Thread safe. The point is always '.' (the program never changes
 * the "C" locale that printf and strtod would otherwise follow).
 */
size_t lesion_double_shortest(double v, char *buf, size_t size);

/*
 * lesion_double_shortest_g() - like lesion_double_shortest() but with no
 * special case for integral values, and the precision counted from
 * @min_precision (1..17): the text glibc's "%.{p}g" prints for the smallest
 * p >= @min_precision whose text reads back as @v. With @min_precision 6,
 * 1000000 prints as "1e+06" and 100000 as "100000", as "%g" would.
 * Returns the length of the whole text; writes and truncates like
 * lesion_double_shortest(). Thread safe.
 */
size_t lesion_double_shortest_g(double v, int min_precision, char *buf, size_t size);

/*
 * lesion_double_parse() - read a finite double from the start of @text
 * (strtod()'s syntax, leading blanks allowed) into *@out, *@end (may be
 * NULL) pointing past it. Every finite double is accepted, subnormal ones
 * such as 5e-324 included (which strtod() flags with ERANGE, as if they
 * were out of range). Refused, returning -1 with *@out untouched: no number
 * at all, inf and nan, a magnitude past the largest double (1e309), and a
 * text that is not zero but reads as zero (1e-400: a different number).
 * Returns 0. Thread safe.
 */
int lesion_double_parse(const char *text, char **end, double *out);

#ifdef __cplusplus
}
#endif
#endif
