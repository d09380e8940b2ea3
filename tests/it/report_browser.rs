#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should stop loudly
//! The HTML report rendered by a real browser: headless Chromium loads the file,
//! and the DOM it builds must hold the three SVG charts with their bars and
//! points; a screenshot of the zh-CN report must show a page, and its Chinese must
//! be drawn as glyphs, not as tofu boxes. Skipped, with a note, when
//! `/usr/bin/chromium` is not installed (`.ci/run` installs it and fonts-noto-cjk
//! where apt works).
//!
//! The glyph check renders characters of the report's own title, with the report's
//! own CSS, one per fixed cell: real glyphs of different characters differ from each
//! other and from the box drawn for a character no font has (U+10FFFD), while tofu
//! boxes are all alike. A control render with fontconfig pointed at the Latin-only
//! fonts must fail the same check, so the check is known to be able to fail.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use steward::engine::{Command as Cmd, OpenTicket};
use steward::policy::{embedded, model::Action};
use steward::report::{self, Lang, PeriodSpec, ReportKind, Request};
use steward::service::Service;

const CHROMIUM: &str = "/usr/bin/chromium";

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn report_html(lang: Lang) -> String {
    let mut svc = Service::in_memory().unwrap();
    let policy = embedded::load("vk-shanghai").ok().unwrap().policy;
    svc.apply_policy(&policy, None, None, at("2026-07-01T09:00:00+08:00"))
        .unwrap();
    let tickets = [
        ("R1", "repair", "客厅灯具不亮", "2026-07-06T09:00:00+08:00"),
        (
            "C1",
            "complaint",
            "电梯运行噪音大",
            "2026-07-06T10:00:00+08:00",
        ),
        (
            "R2",
            "repair",
            "厨房水龙头坏了",
            "2026-07-07T09:00:00+08:00",
        ),
        (
            "I1",
            "inquiry",
            "物业费缴纳方式",
            "2026-07-08T09:00:00+08:00",
        ),
    ];
    for (id, kind, text, when) in tickets {
        let intake = OpenTicket {
            id: id.into(),
            estate: "riverside".into(),
            kind: kind.into(),
            text: text.into(),
            ..OpenTicket::default()
        };
        svc.open_ticket(intake, at(when)).unwrap();
        let respond = Cmd::Act {
            action: Action::Respond,
            by: "张三".into(),
            note: String::new(),
        };
        svc.execute(id, &respond, at(when) + chrono::Duration::minutes(20))
            .unwrap();
    }
    let resolve = Cmd::Resolve { note: "ok".into() };
    svc.execute("R1", &resolve, at("2026-07-07T10:00:00+08:00"))
        .unwrap();
    let revisit = Cmd::Revisit {
        ok: true,
        channel: "phone".into(),
        note: String::new(),
    };
    svc.execute("R1", &revisit, at("2026-07-08T10:00:00+08:00"))
        .unwrap();
    svc.tick(at("2026-07-12T23:00:00+08:00")).unwrap();
    let req = Request {
        kind: ReportKind::Weekly,
        period: PeriodSpec::WeekOf(report::parse_date("2026-07-06").unwrap()),
        estate: None,
        households: [("riverside".to_owned(), 1000)].into(),
        now: at("2026-07-13T09:00:00+08:00"),
    };
    let mut r = report::generate(svc.store(), &req).unwrap();
    r.lang = lang;
    report::render::html(&r)
}

/// Runs chromium headless with `extra` flags on `file`; `None` on a timeout.
fn chromium(file: &Path, extra: &[&str]) -> Option<(bool, String)> {
    chromium_env(file, extra, &[])
}

/// [`chromium`] with extra environment variables (e.g. `FONTCONFIG_FILE`).
fn chromium_env(file: &Path, extra: &[&str], env: &[(&str, &Path)]) -> Option<(bool, String)> {
    let profile = tempfile::TempDir::new().unwrap();
    let mut child = Command::new(CHROMIUM)
        .envs(env.iter().map(|(k, v)| (*k, *v)))
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(format!("file://{}", file.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || std::io::read_to_string(stdout).unwrap_or_default());
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Some((status.success(), reader.join().unwrap_or_default()));
        }
        if start.elapsed() > Duration::from_secs(90) {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn chromium_renders_the_three_charts() {
    if !Path::new(CHROMIUM).exists() {
        eprintln!("SKIPPED: {CHROMIUM} is not installed (apt-get install -y chromium)");
        return;
    }
    let dir = tempfile::TempDir::new().unwrap();
    let file = dir.path().join("weekly.html");
    std::fs::write(&file, report_html(Lang::En)).unwrap();

    let (ok, dom) = chromium(&file, &["--dump-dom"]).expect("chromium --dump-dom timed out");
    assert!(ok, "chromium failed");
    assert!(dom.contains("weekly statistics"), "{dom}");
    for id in ["chart-tickets", "chart-on-time", "chart-revisits"] {
        let start = dom
            .find(&format!("id=\"{id}\""))
            .unwrap_or_else(|| panic!("{id} not in the DOM"));
        let svg_start = dom[..start].rfind("<svg").expect("inside an <svg>");
        let chart = &dom[svg_start..start + dom[start..].find("</svg>").expect("closed")];
        let marks = chart.matches("<rect").count() + chart.matches("<circle").count();
        assert!(marks >= 2, "{id} has no bars or points: {chart}");
    }
    assert_eq!(dom.matches("<svg").count(), 3);

    let png = dir.path().join("weekly.png");
    let shot = format!("--screenshot={}", png.display());
    let (ok, _) =
        chromium(&file, &[&shot, "--window-size=1000,2400"]).expect("screenshot timed out");
    assert!(ok, "chromium --screenshot failed");
    let bytes = std::fs::read(&png).expect("a screenshot");
    assert!(
        bytes.starts_with(b"\x89PNG") && bytes.len() > 10_000,
        "{} bytes",
        bytes.len()
    );
}

/// A decoded screenshot, RGBA.
struct Shot {
    width: usize,
    height: usize,
    rgba: Vec<u8>,
}

impl Shot {
    fn read(path: &Path) -> Shot {
        let decoder =
            png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        let channels = info.color_type.samples();
        let mut rgba = Vec::with_capacity(info.width as usize * info.height as usize * 4);
        for px in buf[..info.buffer_size()].chunks(channels) {
            match channels {
                4 => rgba.extend_from_slice(px),
                3 => rgba.extend_from_slice(&[px[0], px[1], px[2], 255]),
                _ => rgba.extend_from_slice(&[px[0], px[0], px[0], 255]),
            }
        }
        Shot {
            width: info.width as usize,
            height: info.height as usize,
            rgba,
        }
    }

    /// Whether the pixel is ink (dark enough to be text or a line), not background.
    fn ink(&self, x: usize, y: usize) -> bool {
        let i = (y * self.width + x) * 4;
        let p = &self.rgba[i..i + 3];
        (u32::from(p[0]) * 299 + u32::from(p[1]) * 587 + u32::from(p[2]) * 114) / 1000 < 128
    }

    /// The ink pattern of a rectangle.
    fn cell(&self, x0: usize, y0: usize, w: usize, h: usize) -> Vec<bool> {
        let mut v = Vec::with_capacity(w * h);
        for y in y0..(y0 + h).min(self.height) {
            for x in x0..(x0 + w).min(self.width) {
                v.push(self.ink(x, y));
            }
        }
        v
    }

    /// Share of ink pixels in a rectangle.
    fn coverage(&self, x0: usize, y0: usize, w: usize, h: usize) -> f64 {
        let c = self.cell(x0, y0, w, h);
        c.iter().filter(|b| **b).count() as f64 / c.len().max(1) as f64
    }

    /// Share of pixels not plain white anywhere on the page.
    fn non_white(&self) -> f64 {
        let n = self
            .rgba
            .chunks(4)
            .filter(|p| p[0] < 245 || p[1] < 245 || p[2] < 245)
            .count();
        n as f64 / (self.width * self.height).max(1) as f64
    }
}

const CELL: usize = 64;
/// A code point no font has a glyph for: every renderer draws its "missing" box.
const NO_GLYPH: char = '\u{10FFFD}';

/// A page with the report's own `<head>` (so its CSS and font stack) and one
/// character per 64 × 64 cell in a row: `chars`, then [`NO_GLYPH`].
fn glyph_page(report: &str, chars: &[char]) -> String {
    let head = &report[..report.find("<body>").expect("a body")];
    let mut body = String::from(
        "<body style=\"margin:0;padding:0;overflow:hidden;max-width:none;background:#fff\">",
    );
    for (i, c) in chars.iter().chain([NO_GLYPH].iter()).enumerate() {
        body.push_str(&format!(
            "<div style=\"position:absolute;top:0;left:{}px;width:{CELL}px;height:{CELL}px;font-size:48px;line-height:{CELL}px;text-align:center\">&#x{:X};</div>",
            i * CELL,
            *c as u32
        ));
    }
    body.push_str("</body></html>");
    format!("{head}{body}")
}

/// Whether the row of cells shows real, distinct glyphs: each character's cell has
/// ink, and differs from every other character's cell and from the missing-glyph box
/// in at least 3 % of its pixels.
fn glyphs_drawn(shot: &Shot, n: usize) -> Result<(), String> {
    let cells: Vec<Vec<bool>> = (0..=n)
        .map(|i| shot.cell(i * CELL, 0, CELL, CELL))
        .collect();
    let differ = |a: &[bool], b: &[bool]| {
        let d = a.iter().zip(b).filter(|(x, y)| x != y).count();
        d as f64 / a.len().max(1) as f64
    };
    for (i, c) in cells[..n].iter().enumerate() {
        let ink = c.iter().filter(|b| **b).count() as f64 / c.len().max(1) as f64;
        if ink < 0.02 {
            return Err(format!(
                "character {i} drew no glyph ({:.1} % ink)",
                ink * 100.0
            ));
        }
        let vs_box = differ(c, &cells[n]);
        if vs_box < 0.03 {
            return Err(format!(
                "character {i} looks like the missing-glyph box ({:.1} % of pixels differ)",
                vs_box * 100.0
            ));
        }
        for (j, d) in cells[..i].iter().enumerate() {
            if differ(c, d) < 0.03 {
                return Err(format!("characters {j} and {i} drew the same shape (tofu)"));
            }
        }
    }
    Ok(())
}

fn screenshot(dir: &Path, name: &str, html: &str, size: &str, env: &[(&str, &Path)]) -> Shot {
    let file = dir.join(format!("{name}.html"));
    std::fs::write(&file, html).unwrap();
    let png = dir.join(format!("{name}.png"));
    let shot = format!("--screenshot={}", png.display());
    let window = format!("--window-size={size}");
    let (ok, _) = chromium_env(&file, &[&shot, &window, "--hide-scrollbars"], env)
        .expect("screenshot timed out");
    assert!(ok, "chromium --screenshot of {name} failed");
    Shot::read(&png)
}

#[test]
fn the_zh_cn_report_is_drawn_in_chinese_glyphs() {
    if !Path::new(CHROMIUM).exists() {
        eprintln!(
            "SKIPPED: {CHROMIUM} is not installed (apt-get install -y chromium fonts-noto-cjk)"
        );
        return;
    }
    let dir = tempfile::TempDir::new().unwrap();
    let html = report_html(Lang::ZhCn);
    assert!(html.contains("<html lang=\"zh-CN\">"));
    assert!(html.contains("客户服务周报"), "the zh-CN title");

    // The page itself: something is drawn, the title band has text, and it is
    // kept under target/ for a person to look at.
    let page = screenshot(dir.path(), "weekly-zh-CN", &html, "1100,2400", &[]);
    let drawn = page.non_white();
    assert!(
        drawn > 0.02 && drawn < 0.6,
        "{:.1} % of the page drawn",
        drawn * 100.0
    );
    let title = page.coverage(0, 0, page.width, 70);
    assert!(title > 0.01, "title band has {:.2} % ink", title * 100.0);
    let keep = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-weekly-zh-CN.png");
    std::fs::copy(dir.path().join("weekly-zh-CN.png"), &keep).unwrap();
    eprintln!("screenshot: {}", keep.display());

    // Its characters, in its fonts.
    let title: Vec<char> = "客户服务周报".chars().collect();
    let glyphs = glyph_page(&html, &title);
    let size = format!("{},{CELL}", (title.len() + 1) * CELL);
    let shot = screenshot(dir.path(), "glyphs", &glyphs, &size, &[]);
    if let Err(e) = glyphs_drawn(&shot, title.len()) {
        panic!("the report's Chinese is not drawn (install fonts-noto-cjk): {e}");
    }

    // Control: with fontconfig limited to the Latin fonts the same check must fail.
    let conf = dir.path().join("fonts.conf");
    std::fs::write(
        &conf,
        format!(
            "<?xml version=\"1.0\"?><!DOCTYPE fontconfig SYSTEM \"fonts.dtd\"><fontconfig><dir>/usr/share/fonts/truetype</dir><cachedir>{}</cachedir></fontconfig>",
            dir.path().join("fc-cache").display()
        ),
    )
    .unwrap();
    let control = screenshot(
        dir.path(),
        "glyphs-latin-only",
        &glyphs,
        &size,
        &[("FONTCONFIG_FILE", &conf)],
    );
    assert!(
        glyphs_drawn(&control, title.len()).is_err(),
        "the glyph check passed without a CJK font, so it cannot tell glyphs from tofu"
    );
}
