//! The plot: mean cumulative prompts per customer over the year, one line per policy, with
//! the catalog changes marked. Hand-written SVG, as the benchmark suite draws its own.

use crate::report::Report;
use crate::simulate::Policy;
use crate::timeline::Kind;
use std::fmt::Write;

fn color(p: Policy) -> &'static str {
    match p {
        Policy::Keuze => "#1f6fd1",
        Policy::AnyChange => "#d1571f",
        Policy::Every6Months => "#2a9d3a",
        Policy::Every12Months => "#8e44ad",
        Policy::UntilAccepted => "#888888",
    }
}

/// Text escaped for SVG. Shared with the HTTP benchmark's plot (bench/src/bin/http.rs).
pub fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A round tick step and how many ticks cover `top`.
pub fn nice_ticks(top: f64) -> (f64, usize) {
    let top = if top > 0.0 { top } else { 1.0 };
    let raw = top / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    (step, (top / step).ceil().max(1.0) as usize)
}

/// A tick label: at most two decimals, no trailing zeros.
pub fn trim(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

pub fn svg(r: &Report) -> String {
    let (width, height) = (1000.0, 500.0);
    let (x0, y0, w, h) = (70.0, 60.0, 640.0, 360.0);
    let days = f64::from(r.config.days.max(1));
    let top = r
        .policies
        .iter()
        .filter_map(|p| p.cumulative.last().copied())
        .fold(0.0_f64, f64::max);
    let (step, ticks) = nice_ticks(top);
    let ymax = step * ticks as f64;
    let x = |day: f64| x0 + w * day / days;
    let y = |v: f64| y0 + h - h * v / ymax.max(1e-12);
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(
        s,
        r#"<rect width="{width}" height="{height}" fill="white"/>"#
    );
    let _ = writeln!(
        s,
        r#"<text x="{}" y="24" text-anchor="middle" font-size="15">Prompts per customer, cumulative over the year (mean of {} customers, seed {})</text>"#,
        width / 2.0,
        r.population.customers,
        r.config.seed
    );
    let _ = writeln!(
        s,
        r##"<rect x="{x0}" y="{y0}" width="{w}" height="{h}" fill="none" stroke="#333"/>"##
    );
    for t in 0..=ticks {
        let v = step * t as f64;
        let _ = writeln!(
            s,
            r##"<line x1="{x0}" x2="{}" y1="{yy:.1}" y2="{yy:.1}" stroke="#e4e4e4"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
            x0 + w,
            x0 - 6.0,
            y(v) + 4.0,
            trim(v),
            yy = y(v),
        );
    }
    let (day_step, day_ticks) = nice_ticks(days);
    for t in 0..=day_ticks {
        let d = day_step * t as f64;
        if d > days {
            break;
        }
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{}" text-anchor="middle">{}</text>"#,
            x(d),
            y0 + h + 16.0,
            trim(d)
        );
    }
    let _ = writeln!(
        s,
        r#"<text x="{}" y="{}" text-anchor="middle">day of the year</text>"#,
        x0 + w / 2.0,
        y0 + h + 36.0
    );
    let _ = writeln!(
        s,
        r#"<text x="18" y="{}" text-anchor="middle" transform="rotate(-90 18 {})">prompts per customer so far</text>"#,
        y0 + h / 2.0,
        y0 + h / 2.0
    );
    for c in &r.changes {
        let cx = x(f64::from(c.day));
        let (stroke, dash) = match c.kind {
            Kind::Material => ("#c0392b", "6 3"),
            Kind::Minor => ("#aaaaaa", "2 3"),
        };
        let _ = writeln!(
            s,
            r#"<line x1="{cx:.1}" x2="{cx:.1}" y1="{y0}" y2="{}" stroke="{stroke}" stroke-dasharray="{dash}"/><text x="{:.1}" y="{}" font-size="10" fill="{stroke}" text-anchor="end" transform="rotate(-90 {:.1} {})">v{} {}</text>"#,
            y0 + h,
            cx - 3.0,
            y0 + 6.0,
            cx - 3.0,
            y0 + 6.0,
            c.version,
            xml(c.purpose.as_str())
        );
    }
    for p in &r.policies {
        let mut points = vec![format!("{:.1},{:.1}", x(0.0), y(0.0))];
        points.extend(
            p.cumulative
                .iter()
                .enumerate()
                .map(|(d, v)| format!("{:.1},{:.1}", x(d as f64 + 1.0), y(*v))),
        );
        let _ = writeln!(
            s,
            r#"<polyline points="{}" fill="none" stroke="{}" stroke-width="2"/>"#,
            points.join(" "),
            color(p.policy)
        );
    }
    let lx = x0 + w + 20.0;
    for (k, p) in r.policies.iter().enumerate() {
        let ly = y0 + 10.0 + 22.0 * k as f64;
        let _ = writeln!(
            s,
            r#"<rect x="{lx}" y="{}" width="16" height="4" fill="{}"/><text x="{}" y="{}">{} ({:.2})</text>"#,
            ly - 4.0,
            color(p.policy),
            lx + 22.0,
            ly,
            xml(p.label),
            p.prompts.mean
        );
    }
    let ly = y0 + 10.0 + 22.0 * r.policies.len() as f64 + 12.0;
    let _ = writeln!(
        s,
        r##"<line x1="{lx}" x2="{}" y1="{ly}" y2="{ly}" stroke="#c0392b" stroke-dasharray="6 3"/><text x="{}" y="{}">material change</text>"##,
        lx + 16.0,
        lx + 22.0,
        ly + 4.0
    );
    let _ = writeln!(
        s,
        r##"<line x1="{lx}" x2="{}" y1="{}" y2="{}" stroke="#aaaaaa" stroke-dasharray="2 3"/><text x="{}" y="{}">minor change</text>"##,
        lx + 16.0,
        ly + 20.0,
        ly + 20.0,
        lx + 22.0,
        ly + 24.0
    );
    let _ = writeln!(s, "</svg>");
    s
}
