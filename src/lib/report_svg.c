/* report_svg.c: the report's plots as inline SVG: volume trajectories per
 * participant with group means, and percent change per group as strip and
 * box plots. Everything is computed here; no script runs in the page. */
#include "report_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Okabe & Ito's palette: distinguishable with every common colour-vision
 * deficiency */
static const char *const palette[] = {
	"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000",
};

const char *lesion_report_colour(int g)
{
	if (g < 0)
		return "#777777";
	return palette[g % (int)(sizeof(palette) / sizeof(palette[0]))];
}

/* Round tick positions covering [lo, hi]: about five of them. */
struct ticks {
	double first, step;
	int n;
};

static struct ticks nice_ticks(double lo, double hi)
{
	struct ticks t;
	double range = hi - lo > 0 ? hi - lo : 1;
	double raw = range / 5, mag = pow(10, floor(log10(raw)));
	double f = raw / mag;
	t.step = (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
	t.first = floor(lo / t.step + 1e-9) * t.step;
	double last = ceil(hi / t.step - 1e-9) * t.step;
	t.n = (int)floor((last - t.first) / t.step + 0.5) + 1;
	if (t.n < 2)
		t.n = 2;
	return t;
}

static void tick_label(char *buf, size_t size, double v, double step)
{
	int decimals = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
	if (fabs(v) < step * 1e-6)
		v = 0;
	snprintf(buf, size, "%.*f", decimals, v);
}

/* Plot frame: the plot area and the data ranges mapped onto it. */
struct frame {
	double x0, y0, w, h;      /* plot area in SVG pixels, y0 at the top */
	double xlo, xhi, ylo, yhi;
};

static double px(const struct frame *f, double x)
{
	return f->x0 + (x - f->xlo) / (f->xhi - f->xlo) * f->w;
}

static double py(const struct frame *f, double y)
{
	return f->y0 + f->h - (y - f->ylo) / (f->yhi - f->ylo) * f->h;
}

/* y grid, y tick labels and the y axis title */
static void y_axis(struct lesion_buf *b, const struct frame *f, struct ticks t, const char *title)
{
	char lab[32];
	for (int i = 0; i < t.n; i++) {
		double v = t.first + i * t.step, y = py(f, v);
		tick_label(lab, sizeof(lab), v, t.step);
		lesion_buf_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
			    "stroke=\"#e3e3e3\"/>\n", f->x0, y, f->x0 + f->w, y);
		lesion_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" "
			    "dominant-baseline=\"middle\">%s</text>\n", f->x0 - 6, y, lab);
	}
	lesion_buf_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>\n",
		    f->x0, f->y0, f->x0, f->y0 + f->h);
	lesion_buf_printf(b, "<text transform=\"translate(%.1f,%.1f) rotate(-90)\" "
		    "text-anchor=\"middle\" class=\"axis\">", f->x0 - 52, f->y0 + f->h / 2);
	lesion_buf_escaped(b, title);
	lesion_buf_puts(b, "</text>\n");
}

static void x_title(struct lesion_buf *b, const struct frame *f, const char *title)
{
	lesion_buf_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>\n",
		    f->x0, f->y0 + f->h, f->x0 + f->w, f->y0 + f->h);
	lesion_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" class=\"axis\">",
		    f->x0 + f->w / 2, f->y0 + f->h + 40);
	lesion_buf_escaped(b, title);
	lesion_buf_puts(b, "</text>\n");
}

/* the x position of session @s of participant @p */
static double x_of(const struct report_data *d, const struct rpart *p, int s)
{
	return d->days_known ? p->days[s] : (double)s;
}

void lesion_report_plot_trajectories(struct lesion_buf *b, const struct report_data *d)
{
	const double W = 760, H = 400;
	struct frame f = {80, 20, W - 80 - 200, H - 20 - 60, 0, 0, 0, 0};
	double xmin = INFINITY, xmax = -INFINITY, ymax = 0;
	for (int i = 0; i < d->n_parts; i++)
		for (int s = 0; s < d->n_sessions; s++) {
			const struct rpart *p = &d->parts[i];
			if (!isfinite(p->volume_ml[s]) || !isfinite(x_of(d, p, s)))
				continue;
			xmin = fmin(xmin, x_of(d, p, s));
			xmax = fmax(xmax, x_of(d, p, s));
			ymax = fmax(ymax, p->volume_ml[s]);
		}
	if (!isfinite(xmin)) {
		lesion_buf_puts(b, "<p>No participant was measured.</p>\n");
		return;
	}
	struct ticks yt = nice_ticks(0, ymax > 0 ? ymax : 1);
	f.ylo = yt.first;
	f.yhi = yt.first + (yt.n - 1) * yt.step;
	if (d->days_known) {
		struct ticks xt = nice_ticks(xmin, xmax > xmin ? xmax : xmin + 1);
		f.xlo = xt.first;
		f.xhi = xt.first + (xt.n - 1) * xt.step;
	} else {
		f.xlo = -0.4;
		f.xhi = d->n_sessions - 0.6;
	}
	lesion_buf_printf(b, "<svg width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
		    "role=\"img\" aria-label=\"lesion volume over time per participant\">\n",
		    W, H, W, H);
	y_axis(b, &f, yt, "lesion volume (mL)");
	char lab[64];
	if (d->days_known) {
		struct ticks xt = nice_ticks(f.xlo, f.xhi);
		for (int i = 0; i < xt.n; i++) {
			double v = xt.first + i * xt.step;
			tick_label(lab, sizeof(lab), v, xt.step);
			lesion_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n",
				    px(&f, v), f.y0 + f.h + 18, lab);
		}
		x_title(b, &f, "days (the manifest's days column)");
	} else {
		for (int s = 0; s < d->n_sessions; s++) {
			lesion_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">",
				    px(&f, s), f.y0 + f.h + 18);
			lesion_buf_escaped(b, d->sessions[s]);
			lesion_buf_puts(b, "</text>\n");
		}
		x_title(b, &f, "session");
	}
	/* participants, thin and light, under the group means; a participant
	 * with a failed timepoint still shows the ones that were measured */
	for (int i = 0; i < d->n_parts; i++) {
		const struct rpart *p = &d->parts[i];
		lesion_buf_printf(b, "<g stroke=\"%s\" fill=\"%s\" opacity=\"0.45\"><title>",
			    lesion_report_colour(p->group), lesion_report_colour(p->group));
		lesion_buf_escaped(b, p->id);
		lesion_buf_puts(b, "</title><polyline fill=\"none\" stroke-width=\"1.3\" points=\"");
		for (int s = 0; s < d->n_sessions; s++)
			if (isfinite(p->volume_ml[s]) && isfinite(x_of(d, p, s)))
				lesion_buf_printf(b, "%.1f,%.1f ", px(&f, x_of(d, p, s)), py(&f, p->volume_ml[s]));
		lesion_buf_puts(b, "\"/>");
		for (int s = 0; s < d->n_sessions; s++)
			if (isfinite(p->volume_ml[s]) && isfinite(x_of(d, p, s)))
				lesion_buf_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.2\" stroke=\"none\"/>",
					    px(&f, x_of(d, p, s)), py(&f, p->volume_ml[s]));
		lesion_buf_puts(b, "</g>\n");
	}
	/* group means: the mean volume (and mean day) of each session */
	for (int g = 0; g < d->n_groups; g++) {
		int n_members = 0;
		lesion_buf_printf(b, "<g stroke=\"%s\" fill=\"%s\"><polyline fill=\"none\" "
			    "stroke-width=\"3.5\" points=\"", lesion_report_colour(g), lesion_report_colour(g));
		struct lesion_buf dots = {0};
		for (int s = 0; s < d->n_sessions; s++) {
			double sv = 0, sx = 0;
			int n = 0;
			for (int i = 0; i < d->n_parts; i++) {
				const struct rpart *p = &d->parts[i];
				if (p->group != g || !isfinite(p->volume_ml[s]) ||
				    !isfinite(x_of(d, p, s)))
					continue;
				sv += p->volume_ml[s];
				sx += x_of(d, p, s);
				n++;
			}
			if (!n)
				continue;
			lesion_buf_printf(b, "%.1f,%.1f ", px(&f, sx / n), py(&f, sv / n));
			lesion_buf_printf(&dots, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4.5\" "
				    "stroke=\"#fff\" stroke-width=\"1.5\"/>", px(&f, sx / n), py(&f, sv / n));
		}
		lesion_buf_puts(b, "\"/>");
		lesion_buf_puts(b, dots.data ? dots.data : "");
		b->failed |= dots.failed;
		free(dots.data);
		lesion_buf_puts(b, "</g>\n");
		for (int i = 0; i < d->n_parts; i++) {
			int measured = 0;
			for (int s = 0; s < d->n_sessions; s++)
				measured |= isfinite(d->parts[i].volume_ml[s]);
			n_members += d->parts[i].group == g && measured;
		}
		double ly = f.y0 + 10 + 22 * g, lx = f.x0 + f.w + 24;
		lesion_buf_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
			    "stroke-width=\"3.5\"/><text x=\"%.1f\" y=\"%.1f\" "
			    "dominant-baseline=\"middle\">", lx, ly, lx + 24, ly, lesion_report_colour(g),
			    lx + 30, ly);
		lesion_buf_escaped(b, d->groups[g]);
		lesion_buf_printf(b, " (n = %d)</text>\n", n_members);
	}
	lesion_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" class=\"note\">thick: group mean</text>\n"
		    "<text x=\"%.1f\" y=\"%.1f\" class=\"note\">thin: one participant</text>\n",
		    f.x0 + f.w + 24, f.y0 + 22 * d->n_groups + 14,
		    f.x0 + f.w + 24, f.y0 + 22 * d->n_groups + 30);
	lesion_buf_puts(b, "</svg>\n");
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double quantile(const double *v, int n, double q)
{
	double pos = q * (n - 1);
	int i = (int)floor(pos);
	return i >= n - 1 ? v[n - 1] : v[i] + (pos - i) * (v[i + 1] - v[i]);
}

/* values of percent change of group @g at session @s, sorted; returns n */
static int percent_values(const struct report_data *d, int g, int s, double *out)
{
	int n = 0;
	for (int i = 0; i < d->n_parts; i++)
		if (d->parts[i].group == g && isfinite(d->parts[i].percent[s]))
			out[n++] = d->parts[i].percent[s];
	qsort(out, (size_t)n, sizeof(double), cmp_double);
	return n;
}

void lesion_report_plot_percent(struct lesion_buf *b, const struct report_data *d)
{
	const double cat_w = 84, H = 380;
	double *v = malloc(sizeof(double) * (size_t)(d->n_parts + 1));
	int n_cat = 0, n_blocks = 0;
	double lo = 0, hi = 0;
	if (!v) {
		b->failed = 1;
		return;
	}
	for (int s = 1; s < d->n_sessions; s++) {
		int any = 0;
		for (int g = 0; g < d->n_groups; g++) {
			int n = percent_values(d, g, s, v);
			if (!n)
				continue;
			n_cat++;
			any = 1;
			lo = fmin(lo, v[0]);
			hi = fmax(hi, v[n - 1]);
		}
		n_blocks += any;
	}
	if (!n_cat) {
		free(v);
		lesion_buf_puts(b, "<p>No percent change to show (it needs a baseline "
			     "and a later session with a non-empty baseline).</p>\n");
		return;
	}
	struct ticks yt = nice_ticks(lo, hi > lo ? hi : lo + 1);
	double W = 80 + n_cat * cat_w + (n_blocks - 1) * 24 + 30;
	struct frame f = {80, 20, W - 80 - 30, H - 20 - 70, 0, 1,
			  yt.first, yt.first + (yt.n - 1) * yt.step};
	lesion_buf_printf(b, "<svg width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
		    "role=\"img\" aria-label=\"percent change of lesion volume per group\">\n",
		    W, H, W, H);
	y_axis(b, &f, yt, "change from baseline (%)");
	lesion_buf_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#555\" "
		    "stroke-dasharray=\"4 3\"/>\n", f.x0, py(&f, 0), f.x0 + f.w, py(&f, 0));
	double x = f.x0;
	for (int s = 1; s < d->n_sessions; s++) {
		double block_start = x;
		int any = 0;
		for (int g = 0; g < d->n_groups; g++) {
			int n = percent_values(d, g, s, v);
			if (!n)
				continue;
			any = 1;
			double cx = x + cat_w / 2, half = cat_w * 0.28;
			double q1 = quantile(v, n, 0.25), med = quantile(v, n, 0.5),
			       q3 = quantile(v, n, 0.75), iqr = q3 - q1;
			double wlo = q1, whi = q3;
			for (int i = 0; i < n; i++) {
				if (v[i] >= q1 - 1.5 * iqr && v[i] < wlo)
					wlo = v[i];
				if (v[i] <= q3 + 1.5 * iqr && v[i] > whi)
					whi = v[i];
			}
			const char *c = lesion_report_colour(g);
			lesion_buf_printf(b, "<g stroke=\"%s\"><line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
				    "y2=\"%.1f\"/><line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
				    "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
				    "fill=\"%s\" fill-opacity=\"0.15\"/><line x1=\"%.1f\" y1=\"%.1f\" "
				    "x2=\"%.1f\" y2=\"%.1f\" stroke-width=\"2.5\"/></g>\n",
				    c, cx, py(&f, whi), cx, py(&f, q3), cx, py(&f, q1), cx, py(&f, wlo),
				    cx - half, py(&f, q3), 2 * half, fmax(py(&f, q1) - py(&f, q3), 1), c,
				    cx - half, py(&f, med), cx + half, py(&f, med));
			/* the points, spread by a fixed sequence so the page never changes */
			lesion_buf_printf(b, "<g fill=\"%s\" fill-opacity=\"0.75\">", c);
			for (int i = 0; i < n; i++) {
				double jitter = fmod(i * 0.618033988749895, 1.0) - 0.5;
				lesion_buf_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\"/>",
					    cx + jitter * half * 1.6, py(&f, v[i]));
			}
			lesion_buf_printf(b, "</g>\n<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", cx,
				    f.y0 + f.h + 18);
			lesion_buf_escaped(b, d->groups[g]);
			lesion_buf_printf(b, "</text><text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
				    "class=\"note\">n = %d</text>\n", cx, f.y0 + f.h + 34, n);
			x += cat_w;
		}
		if (!any)
			continue;
		lesion_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" class=\"axis\">"
			    "session ", (block_start + x) / 2, f.y0 + f.h + 56);
		lesion_buf_escaped(b, d->sessions[s]);
		lesion_buf_puts(b, "</text>\n");
		x += 24;
	}
	lesion_buf_puts(b, "</svg>\n");
	free(v);
}
