//! Bug fixes: their workflow and how much a bug hurts (the list's default order).

use super::incident::Severity;

pub fn key(number: i64) -> String {
    format!("BUG-{number}")
}

pub fn parse_key(s: &str) -> Option<i64> {
    let n = s.trim().to_ascii_uppercase();
    let n = n.strip_prefix("BUG-")?;
    if n.is_empty() || n.len() > 18 || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    n.parse().ok().filter(|n| *n > 0)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BugStatus {
    Open,
    InProgress,
    Fixed,
    Released,
    Verified,
    WontFix,
}

impl BugStatus {
    pub const ALL: [BugStatus; 6] = [
        BugStatus::Open,
        BugStatus::InProgress,
        BugStatus::Fixed,
        BugStatus::Released,
        BugStatus::Verified,
        BugStatus::WontFix,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            BugStatus::Open => "open",
            BugStatus::InProgress => "in_progress",
            BugStatus::Fixed => "fixed",
            BugStatus::Released => "released",
            BugStatus::Verified => "verified",
            BugStatus::WontFix => "wont_fix",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            BugStatus::Open => "Open",
            BugStatus::InProgress => "In progress",
            BugStatus::Fixed => "Fixed",
            BugStatus::Released => "Released",
            BugStatus::Verified => "Verified",
            BugStatus::WontFix => "Won't fix",
        }
    }

    pub fn parse(s: &str) -> Option<BugStatus> {
        BugStatus::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Where a person may move a bug. Shipping in a release moves it to released by itself.
    pub fn next(self) -> &'static [BugStatus] {
        use BugStatus::*;
        match self {
            Open => &[InProgress, WontFix],
            InProgress => &[Fixed, Open, WontFix],
            Fixed => &[Released, InProgress],
            Released => &[Verified, InProgress],
            Verified => &[InProgress],
            WontFix => &[Open],
        }
    }

    pub fn is_done(self) -> bool {
        matches!(self, BugStatus::Verified | BugStatus::WontFix)
    }
}

/// Whether a bug no longer holds its problem's fix back: shipped (released or verified, and not
/// found ineffective since) or given up (won't fix). A problem's fix is out once every one of its
/// bugs is shipped.
pub fn is_shipped(status: &str, fix_ineffective: bool) -> bool {
    match BugStatus::parse(status) {
        Some(BugStatus::Released | BugStatus::Verified) => !fix_ineffective,
        Some(BugStatus::WontFix) => true,
        _ => false,
    }
}

/// The external reference as a link target, when it is an http(s) URL (one word with a host);
/// None for anything else (a commit hash, "PR 42", another scheme), which shows as plain text.
pub fn reference_url(external_ref: &str) -> Option<&str> {
    let r = external_ref.trim();
    let scheme_len = ["https://", "http://"]
        .into_iter()
        .find(|p| r.get(..p.len()).is_some_and(|head| head.eq_ignore_ascii_case(p)))?
        .len();
    let host = r[scheme_len..].split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty() || r.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    Some(r)
}

/// How much one linked incident of this severity weighs.
pub fn severity_weight(severity: &str) -> u32 {
    match Severity::parse(severity) {
        Some(Severity::Sev1) => 8,
        Some(Severity::Sev2) => 4,
        Some(Severity::Sev3) => 2,
        _ => 1,
    }
}

/// A bug's impact: its linked incidents weighted by severity, plus three points for every
/// organization affected (a bug that hurts many customers outranks one customer's many reports).
pub fn impact(severities: &[&str], organizations: usize) -> u32 {
    severities.iter().map(|s| severity_weight(s)).sum::<u32>()
        + 3 * u32::try_from(organizations).unwrap_or(u32::MAX / 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn impact_weighs_severity_and_reach() {
        assert_eq!(impact(&["SEV1"], 1), 11);
        assert_eq!(impact(&["SEV4", "SEV4", "SEV4"], 1), 6);
        assert!(impact(&["SEV2", "SEV3"], 2) > impact(&["SEV2", "SEV3"], 1));
        assert_eq!(impact(&[], 0), 0);
    }

    #[test]
    fn a_bug_is_shipped_once_released_for_good_or_given_up() {
        assert!(is_shipped("released", false) && is_shipped("verified", false) && is_shipped("wont_fix", false));
        assert!(!is_shipped("fixed", false) && !is_shipped("open", false) && !is_shipped("in_progress", false));
        assert!(!is_shipped("released", true), "a fix that did not hold is not out");
    }

    #[test]
    fn only_http_urls_become_links() {
        assert_eq!(reference_url(" https://git.example.com/pr/42 "), Some("https://git.example.com/pr/42"));
        assert_eq!(reference_url("HTTP://tracker.example/BUG?id=1&x=2"), Some("HTTP://tracker.example/BUG?id=1&x=2"));
        for plain in ["a1b2c3d", "PR 42", "javascript:alert(1)", "https://", "https:///path", "https://a b", "ftp://x"]
        {
            assert_eq!(reference_url(plain), None, "{plain}");
        }
    }

    #[test]
    fn workflow_and_keys() {
        assert!(BugStatus::Open.next().contains(&BugStatus::InProgress));
        assert!(!BugStatus::Open.next().contains(&BugStatus::Verified));
        assert_eq!(parse_key("bug-12"), Some(12));
        assert_eq!(key(3), "BUG-3");
    }
}
