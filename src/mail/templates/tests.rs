use super::*;

const TITLE: &str = r#"Tom & "Jerry" <b>"#;

fn at(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap_or_default()
}

fn frame(tz: Tz) -> Frame<'static> {
    Frame {
        subject: "[INC-7] subject",
        link: "https://fw.example/incidents/INC-7",
        link_label: "Open INC-7",
        prefs: Some("https://fw.example/account/notifications"),
        tz,
    }
}

fn summary() -> Summary {
    Summary {
        key: "INC-7".into(),
        title: TITLE.into(),
        status: "In progress".into(),
        severity: "SEV2".into(),
        priority: "P2".into(),
        service: "Payments".into(),
        tier: "Tier 1 Support".into(),
        assignee: Some("Sam Agent".into()),
    }
}

fn sla(due: &str) -> Sla {
    Sla { inc: summary(), target: "first response".into(), due: Some(at(due)) }
}

#[test]
fn text_parts_are_not_escaped_and_html_parts_are() {
    let f = PublicReply {
        key: "INC-7".into(),
        title: TITLE.into(),
        author: "Sam <Agent>".into(),
        body: "Use <script>alert(1)</script> & retry".into(),
    };
    let r = public_reply(&f, &frame(Tz::UTC)).expect("render");
    assert!(r.text.contains(TITLE), "{}", r.text);
    assert!(r.text.contains("Use <script>alert(1)</script> & retry"));
    assert!(r.text.contains("Sam <Agent> wrote:"));
    assert!(!r.text.contains("&#"), "{}", r.text);
    assert!(r.html.contains("Tom &#38; &#34;Jerry&#34; &#60;b&#62;"), "{}", r.html);
    assert!(r.html.contains("Use &#60;script&#62;alert(1)&#60;/script&#62; &#38; retry"));
    assert!(!r.html.contains("<b>") && !r.html.contains("<script>") && !r.html.contains(TITLE));
}

#[test]
fn times_are_shown_in_the_recipients_zone() {
    let due = "2026-03-02 09:30";
    let berlin = sla_warning(&sla(due), &frame(chrono_tz::Europe::Berlin)).expect("render");
    assert!(berlin.text.contains("due at 2026-03-02 10:30 CET"), "{}", berlin.text);
    assert!(berlin.html.contains("2026-03-02 10:30 CET"));
    let new_york = sla_warning(&sla(due), &frame(chrono_tz::America::New_York)).expect("render");
    assert!(new_york.text.contains("due at 2026-03-02 04:30 EST"), "{}", new_york.text);
    let summer = sla_breach(&sla("2026-07-01 09:30"), &frame(chrono_tz::Europe::Berlin)).expect("render");
    assert!(summer.text.contains("breached at 2026-07-01 11:30 CEST"), "{}", summer.text);
    let reset = PasswordReset { name: "Pia".into(), expires_at: at("2026-03-02 10:00") };
    let tokyo = password_reset(&reset, &frame(chrono_tz::Asia::Tokyo)).expect("render");
    assert!(tokyo.text.contains("expires at 2026-03-02 19:00 JST"), "{}", tokyo.text);
}

#[test]
fn the_layout_links_back_and_explains_why() {
    let r = assigned(&Assigned { inc: summary(), by: "Lee Lead".into() }, &frame(Tz::UTC)).expect("render");
    for part in [&r.text, &r.html] {
        assert!(part.contains("https://fw.example/incidents/INC-7"), "{part}");
        assert!(part.contains("Open INC-7"));
        assert!(part.contains("You get this mail because INC-7 is assigned to you."));
        assert!(part.contains("https://fw.example/account/notifications"));
    }
    assert!(r.html.contains("<title>[INC-7] subject</title>"));
    let security = Frame { prefs: None, ..frame(Tz::UTC) };
    let changed = PasswordChanged { name: "Pia".into(), at: at("2026-03-02 09:00") };
    let r = password_changed(&changed, &security).expect("render");
    for part in [&r.text, &r.html] {
        assert!(part.contains("Mail about the security of your account is always sent."), "{part}");
        assert!(!part.contains("/account/notifications"));
        assert!(part.contains("changed at 2026-03-02 09:00 UTC"));
    }
}

#[test]
fn each_kind_says_what_happened() {
    let m = frame(Tz::UTC);
    let created = IncidentCreated {
        inc: summary(),
        reporter: "Cora Customer".into(),
        entered_by: Some("Sam Agent".into()),
        description: "Card payments fail since 09:00.".into(),
    };
    let escalated_up = Escalated {
        inc: summary(),
        from_tier: "Tier 1 Support".into(),
        to_tier: "Tier 2 DevOps".into(),
        upward: true,
        reason: "Needs expertise of the next tier: card network timeouts".into(),
        automatic: false,
    };
    let resolved_facts = Resolved {
        key: "INC-7".into(),
        title: TITLE.into(),
        resolution: "Restarted the gateway".into(),
        by: "Sam Agent".into(),
        closes_after: Some(at("2026-03-09 10:00")),
    };
    let note = InternalNote { inc: summary(), author: "Dee Devops".into(), body: "zebracorn".into() };
    let closed_facts =
        Closed { key: "INC-7".into(), title: TITLE.into(), resolution: "Duplicate of INC-3.".into(), automatic: true };
    let digest_facts = Digest {
        name: "Dora".into(),
        day: NaiveDate::from_ymd_opt(2026, 3, 3).unwrap_or_default(),
        items: vec![DigestItem { subject: "[INC-7] New reply: x".into(), link: Some("https://fw.example/i/7".into()) }],
    };
    let cases: Vec<(Rendered, &[&str])> = vec![
        (
            incident_created(&created, &m).expect("created"),
            &[
                "New incident INC-7 in Tier 1 Support",
                "Cora Customer",
                "entered by Sam Agent",
                "SEV2",
                "P2",
                "Payments",
            ],
        ),
        (
            escalated(&escalated_up, &m).expect("escalated"),
            &["was escalated to Tier 2 DevOps", "Tier 1 Support", "by hand", "card network timeouts"],
        ),
        (
            resolved(&resolved_facts, &m).expect("resolved"),
            &["INC-7 is resolved", "Restarted the gateway", "Reopen", "before 2026-03-09 10:00 UTC"],
        ),
        (internal_note(&note, &m).expect("note"), &["internal note", "zebracorn", "does not see this note"]),
        (closed(&closed_facts, &m).expect("closed"), &["INC-7 is closed", "Duplicate of INC-3.", "stayed resolved"]),
        (
            reopened(&Reopened { inc: summary(), by: "Cora Customer".into() }, &m).expect("reopened"),
            &["INC-7 was reopened", "Cora Customer", "reopened this incident", "Sam Agent"],
        ),
        (
            digest(&digest_facts, &m).expect("digest"),
            &["Your Firewatch digest for 2026-03-03", "[INC-7] New reply: x", "https://fw.example/i/7"],
        ),
    ];
    for (r, needles) in cases {
        for n in needles {
            assert!(r.text.contains(n), "text lacks {n:?}: {}", r.text);
            assert!(r.html.contains(n), "html lacks {n:?}: {}", r.html);
        }
    }
}

#[test]
fn customer_kinds_carry_no_internal_fields() {
    let m = frame(Tz::UTC);
    let reply = PublicReply { key: "INC-7".into(), title: "t".into(), author: "a".into(), body: "b".into() };
    let done =
        Resolved { key: "INC-7".into(), title: "t".into(), resolution: "r".into(), by: "a".into(), closes_after: None };
    let shut = Closed { key: "INC-7".into(), title: "t".into(), resolution: "r".into(), automatic: false };
    for r in [public_reply(&reply, &m), resolved(&done, &m), closed(&shut, &m)] {
        let r = r.expect("render");
        for part in [r.text, r.html] {
            for internal in ["Severity", "Tier", "Assignee", "SEV", "Internal"] {
                assert!(!part.contains(internal), "{internal} in {part}");
            }
        }
    }
}
