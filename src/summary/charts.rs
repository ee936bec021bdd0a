//! Small inline SVG charts for the HTML summary: no scripts, no external
//! assets, readable without colour (every bar is labelled).

use std::fmt::Write;

/// One series of a stacked bar chart: a name and its colour.
pub struct Series<'a> {
    pub name: &'a str,
    pub colour: &'a str,
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The `<svg>` start tag with its accessible title.
fn open(title: &str, width: usize, height: usize) -> String {
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}" aria-label="{t}"><title>{t}</title>"#,
        t = escape(title)
    )
}

/// One coloured square and name per series, left to right from `x`.
fn legend(svg: &mut String, series: &[Series<'_>], mut x: usize) {
    for s in series {
        let _ = write!(
            svg,
            r#"<rect x="{x}" y="6" width="12" height="12" fill="{}"/><text x="{}" y="16" font-size="12">{}</text>"#,
            s.colour,
            x + 16,
            escape(s.name)
        );
        x += 16 + 8 * s.name.len() + 20;
    }
}

/// Horizontal stacked bars: one row per label, one segment per series.
pub fn stacked_bars(title: &str, series: &[Series<'_>], rows: &[(String, Vec<u64>)]) -> String {
    let width = 640;
    let label_w = 170;
    let bar_h = 22;
    let gap = 10;
    let legend_h = 28;
    let height = legend_h + rows.len().max(1) * (bar_h + gap) + 10;
    let max: u64 = rows
        .iter()
        .map(|(_, v)| v.iter().sum::<u64>())
        .max()
        .unwrap_or(0)
        .max(1);
    let scale = (width - label_w - 60) as f64 / max as f64;
    let mut svg = open(title, width, height);
    legend(&mut svg, series, label_w);
    for (i, (label, values)) in rows.iter().enumerate() {
        let y = legend_h + i * (bar_h + gap);
        let _ = write!(
            svg,
            r#"<text x="{}" y="{}" font-size="12" text-anchor="end">{}</text>"#,
            label_w - 8,
            y + bar_h / 2 + 4,
            escape(label)
        );
        let mut x = label_w as f64;
        for (v, s) in values.iter().zip(series) {
            let w = *v as f64 * scale;
            if *v > 0 {
                let _ = write!(
                    svg,
                    r#"<rect class="bar" x="{x:.1}" y="{y}" width="{w:.1}" height="{bar_h}" fill="{}"><title>{}: {} {v}</title></rect>"#,
                    s.colour,
                    escape(label),
                    escape(s.name)
                );
            }
            x += w;
        }
        let total: u64 = values.iter().sum();
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{}" font-size="12">{total}</text>"#,
            x + 6.0,
            y + bar_h / 2 + 4
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Vertical bars over time (one group per day), for two series drawn side
/// by side.
pub fn daily_bars(title: &str, series: &[Series<'_>], days: &[(String, Vec<u64>)]) -> String {
    let width = 640;
    let height = 220;
    let top = 28;
    let bottom = 40;
    let left = 40;
    let plot_h = height - top - bottom;
    let max: u64 = days
        .iter()
        .flat_map(|(_, v)| v.iter().copied())
        .max()
        .unwrap_or(0)
        .max(1);
    let n = days.len().max(1);
    let group_w = (width - left - 10) as f64 / n as f64;
    let bar_w = (group_w * 0.8 / series.len().max(1) as f64).max(1.0);
    let mut svg = open(title, width, height);
    legend(&mut svg, series, left);
    let _ = write!(
        svg,
        r##"<line x1="{left}" y1="{}" x2="{}" y2="{}" stroke="#888"/><text x="{}" y="{}" font-size="11" text-anchor="end">{max}</text>"##,
        top + plot_h,
        width - 10,
        top + plot_h,
        left - 4,
        top + 10
    );
    for (i, (day, values)) in days.iter().enumerate() {
        let gx = left as f64 + i as f64 * group_w + group_w * 0.1;
        for (j, (v, s)) in values.iter().zip(series).enumerate() {
            let h = *v as f64 / max as f64 * plot_h as f64;
            let _ = write!(
                svg,
                r#"<rect class="bar" x="{:.1}" y="{:.1}" width="{bar_w:.1}" height="{h:.1}" fill="{}"><title>{}: {} {v}</title></rect>"#,
                gx + j as f64 * bar_w,
                (top + plot_h) as f64 - h,
                s.colour,
                escape(day),
                escape(s.name)
            );
        }
        if n <= 14 || i % (n / 7).max(1) == 0 {
            let _ = write!(
                svg,
                r#"<text x="{:.1}" y="{}" font-size="10" text-anchor="middle">{}</text>"#,
                gx + group_w * 0.4,
                top + plot_h + 16,
                escape(day.get(5..).unwrap_or(day))
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_carry_labels_and_escaped_titles() {
        let series = [
            Series {
                name: "ephemeral",
                colour: "#2a7",
            },
            Series {
                name: "static",
                colour: "#c33",
            },
        ];
        let svg = stacked_bars("Credential <mix>", &series, &[("aws".into(), vec![3, 1])]);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("Credential &lt;mix&gt;"));
        assert_eq!(svg.matches("class=\"bar\"").count(), 2);
        let svg = daily_bars("Events", &series, &[("2026-11-01".into(), vec![5, 0])]);
        assert_eq!(svg.matches("class=\"bar\"").count(), 2);
        assert!(svg.contains(">11-01<"));
    }
}
