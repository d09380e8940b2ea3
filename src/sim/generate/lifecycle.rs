//! One synthetic ticket's life, drawn from the procedures of the seed companies:
//! how fast each kind is answered, reported, planned and resolved, when it is
//! revisited, and how often things go late or wrong. The categories and texts match
//! the shipped vk-shanghai policy, so replaying under it classifies them as written.

use chrono::{DateTime, Duration, FixedOffset, Timelike};

use super::Weather;
use crate::sim::history::Row;
use crate::sim::rng::Rng;

/// One history line before it is written.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Line {
    pub at: DateTime<FixedOffset>,
    pub ticket: String,
    pub action: &'static str,
    pub estate: String,
    pub kind: &'static str,
    pub channel: &'static str,
    pub category: &'static str,
    pub detail: String,
    pub text: String,
}

impl Line {
    pub fn rain(at: DateTime<FixedOffset>, estate: &str) -> Line {
        Line {
            at,
            ticket: String::new(),
            action: "rain",
            estate: estate.to_string(),
            kind: "",
            channel: "",
            category: "",
            detail: String::new(),
            text: String::new(),
        }
    }

    pub fn row(&self) -> Row {
        Row {
            ticket: self.ticket.clone(),
            at: self.at.to_rfc3339(),
            action: self.action.to_string(),
            estate: self.estate.clone(),
            kind: self.kind.to_string(),
            channel: self.channel.to_string(),
            category: self.category.to_string(),
            detail: self.detail.clone(),
            text: self.text.clone(),
        }
    }
}

const EMERGENCY: &[&str] = &[
    "电梯故障困人，请速来",
    "厨房水管爆管，水漫到客厅",
    "户内突然停电，配电箱跳闸合不上",
    "楼道扶手松动脱落，老人差点摔倒",
    "阳台玻璃破裂有坠落危险",
    "地下室水泵故障，整栋楼停水",
];
const LEAK: &[&str] = &[
    "卫生间天花板渗水",
    "外墙渗水，卧室墙面发霉",
    "楼上漏水到我家厨房",
    "窗台下渗漏，雨后更严重",
    "屋顶渗漏，顶楼天花板有水渍",
];
const SAFETY: &[&str] = &[
    "单元门禁刷卡失灵",
    "楼道消防栓箱门损坏",
    "地库监控摄像头不工作",
    "防盗门锁芯损坏",
];
const GENERAL: &[&str] = &[
    "客厅灯具不亮",
    "卫生间下水慢",
    "厨房水龙头滴水",
    "入户门闭门器损坏",
    "阳台晾衣架卡住",
    "墙面插座没电",
    "马桶水箱不停进水",
];
const MAJOR: &[&str] = &[
    "多户业主投诉夜间施工噪音扰民",
    "集体投诉小区停车收费不合理",
    "业主联系媒体反映电梯频繁故障",
];
const ENGINEERING: &[&str] = &["新房墙体出现裂缝", "客厅地面空鼓", "交付房屋门窗质量问题"];
const ONLINE: &[&str] = &[
    "论坛发帖反映垃圾清运不及时",
    "邮箱投诉保安态度差",
    "网上反映绿化养护不到位",
];
const DIRECT: &[&str] = &[
    "投诉楼道卫生没人打扫",
    "投诉保安夜间不巡逻",
    "投诉快递柜占用消防通道",
    "投诉宠物粪便无人清理",
    "投诉楼下商铺油烟",
];
const INQUIRY: &[&str] = &[
    "咨询物业费缴纳方式",
    "咨询装修申请流程",
    "咨询车位租赁价格",
    "咨询门禁卡补办",
];
const SUGGESTION: &[&str] = &[
    "建议增加儿童游乐设施",
    "建议延长会所开放时间",
    "建议增设电动车充电桩",
];

struct Plan<'a> {
    rng: &'a mut Rng,
    id: String,
    category: &'static str,
    now: DateTime<FixedOffset>,
    lines: Vec<Line>,
}

impl Plan<'_> {
    /// Add an action `minutes` after the previous one (at least one minute later).
    fn after(&mut self, minutes: i64, action: &'static str, detail: &str, text: &str) {
        self.now += Duration::minutes(minutes.max(1));
        self.push(action, detail, text, "");
    }

    fn push(&mut self, action: &'static str, detail: &str, text: &str, channel: &'static str) {
        self.lines.push(Line {
            at: self.now,
            ticket: self.id.clone(),
            action,
            estate: String::new(),
            kind: "",
            channel,
            category: "",
            detail: detail.to_string(),
            text: text.to_string(),
        });
    }

    /// `minutes` drawn from [lo, hi], or from [late_lo, late_hi] with probability `p`.
    fn delay(&mut self, lo: i64, hi: i64, p: f64, late_lo: i64, late_hi: i64) -> i64 {
        if self.rng.chance(p) {
            self.rng.range(late_lo, late_hi)
        } else {
            self.rng.range(lo, hi)
        }
    }

    fn revisit(&mut self, minutes: i64, ok: bool, channel: &'static str) {
        self.now += Duration::minutes(minutes.max(1));
        let (detail, text) = if ok {
            ("ok", "业主表示满意")
        } else {
            ("problem", "问题未彻底解决")
        };
        self.push("revisit", detail, text, channel);
    }
}

const H: i64 = 60;
const D: i64 = 24 * 60;

/// The lines of one ticket opened at `at`, in order.
pub fn ticket(
    rng: &mut Rng,
    id: &str,
    estate: &str,
    at: DateTime<FixedOffset>,
    weather: &Weather,
) -> Vec<Line> {
    let kind = match rng.weighted(&[0.55, 0.22, 0.18, 0.05]) {
        0 => "repair",
        1 => "complaint",
        2 => "inquiry",
        _ => "suggestion",
    };
    let (category, texts): (&'static str, &[&str]) = match kind {
        "repair" => match rng.weighted(&[0.07, 0.18, 0.10, 0.65]) {
            0 => ("repair.emergency", EMERGENCY),
            1 => ("repair.leak", LEAK),
            2 => ("repair.safety", SAFETY),
            _ => ("repair.general", GENERAL),
        },
        "complaint" => match rng.weighted(&[0.07, 0.10, 0.10, 0.73]) {
            0 => ("complaint.major", MAJOR),
            1 => ("complaint.engineering", ENGINEERING),
            2 => ("complaint.online", ONLINE),
            _ => ("complaint.direct", DIRECT),
        },
        "inquiry" => ("inquiry.general", INQUIRY),
        _ => ("suggestion.general", SUGGESTION),
    };
    let text = rng.pick(texts);
    let channel: &'static str = match category {
        "complaint.online" => rng.pick(&["forum", "mailbox"]),
        _ => rng.pick(&[
            "hotline",
            "hotline",
            "hotline",
            "app",
            "wechat",
            "front_desk",
        ]),
    };
    let mut flags = vec![format!(
        "unit={}-{}",
        rng.range(1, 30),
        rng.range(101, 2802)
    )];
    if category == "complaint.major" {
        flags.push("major".into());
    }
    let unclear = kind == "complaint" && rng.chance(0.03);
    if unclear {
        flags.push("tag=validity_unclear".into());
    }
    let mut p = Plan {
        rng,
        id: id.to_string(),
        category,
        now: at,
        lines: Vec::new(),
    };
    // 15 % of source records carry no category.
    let recorded = if p.rng.chance(0.85) { category } else { "" };
    p.lines.push(Line {
        at,
        ticket: id.to_string(),
        action: "open",
        estate: estate.to_string(),
        kind,
        channel,
        category: recorded,
        detail: flags.join(";"),
        text: text.to_string(),
    });
    match kind {
        "repair" => repair(&mut p, weather),
        "complaint" => complaint(&mut p, unclear),
        _ => {
            let respond = if kind == "inquiry" {
                p.delay(5, 3 * H, 0.10, 4 * H + 1, 8 * H)
            } else {
                p.delay(H, D, 0.0, 0, 0)
            };
            p.after(respond, "respond", "客服", "");
            let resolve = if kind == "inquiry" {
                p.rng.range(1, 60)
            } else {
                p.rng.range(D, 5 * D)
            };
            p.after(resolve, "resolve", "", "已答复");
            let r = p.rng.range(H, D);
            p.revisit(r, true, "sms");
            let c = p.rng.range(5, 60);
            p.after(c, "close", "", "");
        }
    }
    p.lines
}

fn repair(p: &mut Plan<'_>, weather: &Weather) {
    let emergency = p.category == "repair.emergency";
    let respond = if emergency {
        p.delay(3, 25, 0.08, 31, 90)
    } else {
        p.delay(10, 4 * H, 0.0, 0, 0)
    };
    let opened = p.now;
    p.after(respond, "respond", "客服", "");
    let assign = p.rng.range(1, 15);
    p.after(assign, "assign", "engineering/L2", "");
    if emergency {
        // L4: the handling form to the center — 2 h for most, 4 h at some estates.
        let due = p.delay(20, 110, 0.15, 121, 239);
        let due = if p.rng.chance(0.03) {
            p.rng.range(241, 400)
        } else {
            due
        };
        let at = opened + Duration::minutes(due);
        if at > p.now {
            p.now = at - Duration::minutes(1);
        }
        p.after(1, "report", "李专员", "");
    }
    if p.category == "repair.general" && p.rng.chance(0.03) {
        let wait = p.rng.range(30, 2 * H);
        p.after(wait, "pause", "waiting_owner", "业主不在家");
        let back = p.rng.range(2 * H, 2 * D);
        p.after(back, "resume", "", "");
    }
    let resolve = match p.category {
        "repair.emergency" => p.rng.range(H, 6 * H),
        "repair.leak" => p.rng.range(4 * H, 3 * D),
        "repair.safety" => p.rng.range(2 * H, 2 * D),
        _ => p.rng.range(2 * H, 4 * D),
    };
    p.after(resolve, "resolve", "", "已修复");
    revisits(p, weather, 0);
}

/// The revisits of a resolved repair; a failed one reopens it (V5), a written notice
/// follows, it is resolved again and revisited again.
fn revisits(p: &mut Plan<'_>, weather: &Weather, depth: u32) {
    let fails = depth == 0 && p.rng.chance(0.03);
    let resolved = p.now;
    match p.category {
        "repair.emergency" => {
            let first = p.delay(4 * H, 22 * H, 0.06, 25 * H, 40 * H);
            p.revisit(first, !fails, "phone");
            if !fails {
                let second = p.delay(D, 2 * D - H, 0.05, 49 * H, 70 * H);
                p.revisit(second, true, "phone");
            }
        }
        "repair.leak" => {
            let first = p.delay(D, 3 * D - H, 0.08, 3 * D + H, 5 * D);
            let first_at = resolved + Duration::minutes(first);
            match weather.next_rain(resolved) {
                Some(rain) if !fails => {
                    let after = rain + Duration::minutes(p.rng.range(2 * H, 30 * H));
                    let (a, b) = if after < first_at {
                        (after, first_at)
                    } else {
                        (first_at, after)
                    };
                    p.revisit((a - p.now).num_minutes(), true, "phone");
                    p.revisit((b - p.now).num_minutes(), true, "phone");
                }
                Some(_) => p.revisit(first, false, "phone"),
                // No rain in sight: the second revisit never comes and it stays open.
                None => {
                    p.revisit(first, !fails, "phone");
                    if !fails {
                        return;
                    }
                }
            }
        }
        "repair.safety" => {
            let r = p.delay(4 * H, 2 * D - H, 0.08, 2 * D + H, 4 * D);
            p.revisit(r, !fails, "phone");
        }
        _ => {
            let r = p.delay(D, 7 * D - H, 0.06, 7 * D + H, 10 * D);
            p.revisit(r, !fails, "phone");
        }
    }
    if fails {
        let notice = p.delay(H, 11 * H, 0.1, 12 * H + 1, 20 * H);
        p.after(notice, "notice", "李专员", "书面通知维修人员");
        let again = p.rng.range(4 * H, 2 * D);
        p.after(again, "resolve", "", "返修完成");
        revisits(p, weather, depth + 1);
        return;
    }
    let close = p.rng.range(10, 2 * H);
    p.after(close, "close", "", "");
}

fn complaint(p: &mut Plan<'_>, unclear: bool) {
    let opened = p.now;
    if p.category == "complaint.direct" && p.rng.chance(0.04) {
        let r = p.rng.range(10, 3 * H);
        p.after(r, "respond", "客服", "");
        let c = p.rng.range(H, 6 * H);
        p.after(c, "close", "invalid", "经核查不属实，已向业主解释");
        return;
    }
    let respond = match p.category {
        "complaint.major" => p.delay(H, 20 * H, 0.10, 24 * H + 1, 40 * H),
        "complaint.online" => p.delay(30, 3 * H, 0.0, 0, 0),
        _ => p.delay(10, 6 * H, 0.03, 24 * H + 1, 30 * H),
    };
    // Reports and plans happen at fixed offsets from intake, in time order.
    let mut todo: Vec<(i64, &'static str, &'static str)> = vec![(respond, "respond", "客服")];
    match p.category {
        "complaint.major" => {
            todo.push((p.delay(30, 110, 0.15, 121, 239), "report", "李专员"));
            todo.push((p.rng.range(2 * H, 20 * H), "plan", "客户服务中心"));
            if p.rng.chance(0.5) {
                todo.push((p.rng.range(20 * H, 46 * H), "expert_reply", "专家顾问团"));
            }
        }
        "complaint.engineering" => {
            todo.push((
                p.delay(4 * H, 23 * H, 0.12, 24 * H + 1, 40 * H),
                "plan",
                "项目部",
            ));
        }
        "complaint.online" => {
            todo.push((
                p.delay(H, 3 * H + 50, 0.2, 4 * H + 1, 8 * H),
                "plan",
                "客服中心",
            ));
        }
        _ => {
            todo.push((
                p.delay(H, 23 * H, 0.05, 24 * H + 1, 30 * H),
                "plan",
                "客服专员",
            ));
            // The daily report before noon the next day (K1).
            let local_minutes = i64::from(opened.hour() * 60 + opened.minute());
            let next_day_9 = D - local_minutes + 9 * H;
            let late = p.rng.chance(0.1);
            let r = next_day_9
                + if late {
                    p.rng.range(3 * H + 1, 5 * H)
                } else {
                    p.rng.range(0, 3 * H - 1)
                };
            todo.push((r, "report", "客服专员"));
        }
    }
    if unclear {
        todo.push((p.rng.range(H, 30 * H), "report", "客服专员"));
    }
    todo.sort_by_key(|(m, _, _)| *m);
    for (m, action, by) in todo {
        let at = opened + Duration::minutes(m);
        if at > p.now {
            p.now = at - Duration::minutes(1);
        }
        p.after(1, action, by, "");
    }
    if p.rng.chance(0.01) {
        let c = p.rng.range(H, 2 * D);
        p.after(c, "compensation", "500", "业主要求赔偿");
    }
    let resolve = p.rng.range(4 * H, 4 * D);
    // No complaint goes a day without news (L1.update): updates on the way.
    let mut left = resolve;
    while left > 23 * H {
        let step = p.rng.range(18 * H, 23 * H);
        p.after(step, "update", "客服", "处理进展告知业主");
        left -= step;
    }
    p.after(left, "resolve", "", "处理完毕");
    let r = p.rng.range(2 * H, 2 * D);
    p.revisit(r, true, "phone");
    let c = p.rng.range(10, 2 * H);
    p.after(c, "close", "", "");
}
