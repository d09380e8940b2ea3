//! A very small SVG writer: just the shapes the report's charts use, with every
//! piece of text escaped. No scripts, no external references, so the HTML
//! report stays one self-contained file.

use std::fmt::Write;

/// Escapes text for XML/HTML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// An SVG document being drawn, `width` × `height` user units.
pub struct Svg {
    width: f64,
    height: f64,
    id: String,
    body: String,
}

impl Svg {
    pub fn new(id: &str, width: f64, height: f64) -> Svg {
        Svg {
            width,
            height,
            id: id.to_owned(),
            body: String::new(),
        }
    }

    /// A rectangle with a tooltip (`<title>`) when `tip` is not empty.
    pub fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, fill: &str, tip: &str) {
        let _ = write!(
            self.body,
            r#"<rect x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{h:.1}" fill="{}">"#,
            escape(fill)
        );
        if !tip.is_empty() {
            let _ = write!(self.body, "<title>{}</title>", escape(tip));
        }
        self.body.push_str("</rect>");
    }

    pub fn line(&mut self, x1: f64, y1: f64, x2: f64, y2: f64, stroke: &str, dash: bool) {
        let _ = write!(
            self.body,
            r#"<line x1="{x1:.1}" y1="{y1:.1}" x2="{x2:.1}" y2="{y2:.1}" stroke="{}" stroke-width="1"{}/>"#,
            escape(stroke),
            if dash {
                r#" stroke-dasharray="4 3""#
            } else {
                ""
            }
        );
    }

    /// Text anchored at `anchor` (`start`, `middle`, `end`).
    pub fn text(&mut self, x: f64, y: f64, size: f64, anchor: &str, text: &str) {
        let _ = write!(
            self.body,
            r##"<text x="{x:.1}" y="{y:.1}" font-size="{size}" text-anchor="{}" fill="#333">{}</text>"##,
            escape(anchor),
            escape(text)
        );
    }

    pub fn polyline(&mut self, points: &[(f64, f64)], stroke: &str) {
        if points.is_empty() {
            return;
        }
        let pts: Vec<String> = points
            .iter()
            .map(|(x, y)| format!("{x:.1},{y:.1}"))
            .collect();
        let _ = write!(
            self.body,
            r#"<polyline points="{}" fill="none" stroke="{}" stroke-width="2"/>"#,
            pts.join(" "),
            escape(stroke)
        );
    }

    pub fn circle(&mut self, x: f64, y: f64, r: f64, fill: &str, tip: &str) {
        let _ = write!(
            self.body,
            r#"<circle cx="{x:.1}" cy="{y:.1}" r="{r:.1}" fill="{}"><title>{}</title></circle>"#,
            escape(fill),
            escape(tip)
        );
    }

    /// The finished `<svg>` element, with an accessible title.
    pub fn finish(self, title: &str) -> String {
        format!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{id}" role="img" aria-label="{t}" width="{w}" height="{h}" viewBox="0 0 {w} {h}"><title>{t}</title>{body}</svg>"#,
            id = escape(&self.id),
            t = escape(title),
            w = self.width,
            h = self.height,
            body = self.body
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        let mut s = Svg::new("x\"", 10.0, 10.0);
        s.text(0.0, 0.0, 10.0, "start", "<script>&'\"");
        let out = s.finish("a<b");
        assert!(!out.contains("<script>"));
        assert!(out.contains("&lt;script&gt;&amp;&#39;&quot;"));
        assert!(out.contains(r#"id="x&quot;""#));
        assert!(out.contains("a&lt;b"));
    }
}
