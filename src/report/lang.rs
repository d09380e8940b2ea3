//! The language of a report's table and HTML: English, or Simplified Chinese for
//! the customer-service departments that read them. Labels of categories, limits,
//! departments and ladder steps come from the policy; this file holds the words of
//! the report itself. JSON and CSV keep English keys whatever the language, since
//! programs read them.

use serde::Serialize;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub enum Lang {
    #[default]
    #[serde(rename = "en")]
    En,
    #[serde(rename = "zh-CN")]
    ZhCn,
}

impl Lang {
    /// A policy's `locale` (BCP 47): any Chinese locale gives zh-CN, anything else English.
    pub fn from_locale(locale: &str) -> Lang {
        let l = locale.to_ascii_lowercase();
        if l == "zh" || l.starts_with("zh-") || l.starts_with("zh_") {
            Lang::ZhCn
        } else {
            Lang::En
        }
    }

    pub fn html_lang(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::ZhCn => "zh-CN",
        }
    }

    /// The report's words in this language; `en` is both the key and the English text.
    pub fn t(self, en: &'static str) -> &'static str {
        if self == Lang::En {
            return en;
        }
        zh(en).unwrap_or(en)
    }

    /// A ticket kind (`repair`, ...) in this language.
    pub fn kind(self, kind: &'static str) -> &'static str {
        self.t(kind)
    }

    /// A status as the daily report writes it (`open`, `closed invalid`, ...).
    pub fn status(self, status: &str) -> String {
        if self == Lang::En {
            return status.to_owned();
        }
        match status {
            "open" => "处理中".into(),
            "resolved" => "已解决".into(),
            "closed" => "已关闭".into(),
            "closed invalid" | "invalid" => "无效投诉（已关闭）".into(),
            other => other.to_owned(),
        }
    }

    /// A note of the report, which `finish` writes in English, in this language.
    pub fn note(self, note: &str) -> String {
        if self == Lang::En {
            return note.to_owned();
        }
        if let Some(rest) = note.strip_prefix("households unknown for ")
            && let Some((estates, _)) = rest.split_once(':')
        {
            return format!(
                "以下小区的户数未知：{estates}；这些小区的有效投诉率（K4）未计算。请用 `steward estate add` 登记小区，或用 --households 小区=户数 或 --estates 文件 提供户数"
            );
        }
        if let Some((n, rest)) = note.split_once(' ')
            && rest.starts_with("resolved repairs have their first revisit due after the period")
        {
            return format!("{n} 个本期完成的维修首次回访在本期之后到期，未计入回访率");
        }
        if let Some(tz) =
            note.strip_prefix("policies in force disagree on the timezone; days are cut in ")
        {
            return format!("生效的各政策时区不一致；日期按 {tz} 划分");
        }
        if note == NO_TICKETS {
            return "本期没有工单：各项数字为零".to_owned();
        }
        note.to_owned()
    }
}

/// The note of a period without any ticket activity.
pub const NO_TICKETS: &str = "no ticket activity in this period: every figure is zero";

/// The built-in limit that has no entry in a policy's `[[limit]]` tables.
pub fn builtin_limit_label(limit: &str, lang: Lang) -> Option<&'static str> {
    (limit == crate::engine::NOTICE_CLOCK)
        .then(|| lang.t("written notice to maintenance after a failed revisit (V5)"))
}

fn zh(en: &str) -> Option<&'static str> {
    Some(match en {
        // titles
        "daily complaint report" => "客户投诉日报",
        "weekly statistics" => "客户服务周报",
        "quarterly report" => "客户服务季报",
        // header block
        "period" => "统计期间",
        "to" => "至",
        "days" => "天",
        "day" => "天",
        "time zone" => "时区",
        "rules" => "依据条款",
        "estate" => "小区",
        "all estates" => "全部小区",
        "due" => "报送期限",
        "generated" => "生成时间",
        "steward version" => "steward 版本",
        "policies in force" => "生效政策",
        "fingerprint" => "指纹 (SHA-256)",
        "policy" => "政策",
        "version" => "版本",
        "scope" => "适用范围",
        "events" => "事件数",
        "company" => "全公司",
        // cards
        "tickets opened" => "新增工单",
        "complaints" => "投诉",
        "complaint close rate (K3)" => "投诉关闭率（K3）",
        "valid complaints / 1,000 households / year (K4 < 0.5 ‰)" => {
            "有效投诉率 每千户每年（K4 < 0.5 ‰）"
        }
        "revisit rate (V1 target 100 %)" => "回访率（V1 目标 100 %）",
        "limits breached" => "超时次数",
        "see table" => "见下表",
        // sections
        "New complaints by specialist (K1, L3)" => "新增投诉（按专员，K1、L3）",
        "Comparison with the previous period" => "与上期对比",
        "By estate" => "按小区",
        "Tickets opened per day, by kind" => "每日新增工单（按类型）",
        "Tickets opened per 7 days, by kind" => "每周新增工单（按类型）",
        "On-time rate per day, over all limits" => "每日按时率（全部时限）",
        "On-time rate per 7 days, over all limits" => "每周按时率（全部时限）",
        "Revisit completion of repairs resolved per day (V1)" => "每日完成维修的回访完成情况（V1）",
        "Revisit completion of repairs resolved per 7 days (V1)" => {
            "每周完成维修的回访完成情况（V1）"
        }
        "Tickets" => "工单",
        "Close rate by specialist (K3)" => "专员关闭率（K3）",
        "Close rate by department (K3)" => "部门关闭率（K3）",
        "Valid complaints per 1,000 households per year (K4)" => "有效投诉率 每千户每年（K4）",
        "Revisits (V1, target 100 %)" => "回访（V1，目标 100 %）",
        "On-time rate per limit" => "各时限按时率",
        "Escalations per ladder step (E3)" => "各级升级次数（E3）",
        "Top categories" => "主要类别",
        "Top estates" => "主要小区",
        "Notes" => "说明",
        "note" => "说明",
        "computed from the event log by steward; the same log gives the same figures." => {
            "由 steward 根据事件日志计算；同一日志得出相同数字。"
        }
        // columns
        "specialist" => "专员",
        "ticket" => "工单",
        "category" => "类别",
        "opened" => "受理时间",
        "complaint" => "投诉",
        "responded" => "首次响应",
        "initial plan" => "初步方案",
        "plan due" => "方案期限",
        "next deadline" => "下一期限",
        "status" => "状态",
        "kind" => "类型",
        "name" => "名称",
        "label" => "名称",
        "department" => "部门",
        "closed" => "已关闭",
        "close rate" => "关闭率",
        "complaints closed" => "投诉已关闭",
        "complaint close rate" => "投诉关闭率",
        "all tickets" => "全部工单",
        "tickets" => "工单数",
        "tickets closed" => "工单已关闭",
        "households" => "户数",
        "valid complaints" => "有效投诉",
        "rate" => "比率",
        "meets target" => "达标",
        "Owner visits (K5, 3 a month)" => "业户走访（K5，每月3次）",
        "month" => "月份",
        "visits" => "走访次数",
        "counted through" => "统计至",
        "in progress" => "进行中",
        "yes" => "是",
        "no" => "否",
        "unknown" => "未知",
        "repairs resolved" => "完成维修",
        "revisited" => "已回访",
        "not yet due" => "未到期",
        "revisit rate" => "回访率",
        "revisits overdue" => "回访逾期",
        "limit" => "时限",
        "on time" => "按时",
        "breached" => "超时",
        "met late" => "超时后完成",
        "on-time rate" => "按时率",
        "to step" => "升级至",
        "escalations" => "升级次数",
        "metric" => "指标",
        "this period" => "本期",
        "previous period" => "上期",
        "change" => "变化",
        "on-time rate over all limits" => "全部时限按时率",
        "breaches" => "超时次数",
        "none" => "无",
        "valid" => "有效",
        "invalid (D5)" => "无效（D5）",
        "reopened" => "重新打开",
        "compensation claims" => "赔偿申请",
        "unrouted" => "未分派",
        "unassigned" => "未指定",
        // kinds
        "inquiry" => "咨询",
        "repair" => "报修",
        "suggestion" => "建议",
        // charts
        "clocks met on time / met on time or breached" => "按时完成 / 已完成或超时",
        "revisited (V1 target 100 %)" => "已回访（V1 目标 100 %）",
        "no limit was met or breached in the period" => "本期没有完成或超时的时限",
        "no repair was resolved in the period" => "本期没有完成的维修",
        "written notice to maintenance after a failed revisit (V5)" => {
            "回访发现问题后书面通知维修部门（V5）"
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locales_choose_the_language() {
        assert_eq!(Lang::from_locale("zh-CN"), Lang::ZhCn);
        assert_eq!(Lang::from_locale("zh_Hans_CN"), Lang::ZhCn);
        assert_eq!(Lang::from_locale("en-GB"), Lang::En);
        assert_eq!(Lang::from_locale("zhx"), Lang::En);
    }

    #[test]
    fn notes_are_translated() {
        let n = Lang::ZhCn.note("households unknown for riverside, gardens: valid-complaint rate (K4) not computed there; give --households ESTATE=N or --estates FILE");
        assert!(
            n.starts_with("以下小区的户数未知：riverside, gardens；"),
            "{n}"
        );
        let n = Lang::ZhCn.note("3 resolved repairs have their first revisit due after the period; they are left out of the revisit rate");
        assert!(n.starts_with("3 个"), "{n}");
        assert_eq!(Lang::En.note("x"), "x");
    }
}
