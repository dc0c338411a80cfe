//! Bug fixes: recorded from a problem, linked to incidents, ordered by impact, moved through
//! their workflow; who may see and change them.

use crate::both;
use crate::incidents::{act, login_as, quick, service};
use crate::support::*;

async fn bug_act(b: &Browser, key: &str, action: &str, fields: &[(&str, &str)]) -> Page {
    let page = b.get(&format!("/bugs/{key}")).await;
    let mut all: Vec<(String, String)> = vec![("csrf_token".into(), page.csrf())];
    if let Some(v) = form_value(&page.body, "version").filter(|_| !fields.iter().any(|(k, _)| *k == "version")) {
        all.push(("version".into(), v));
    }
    all.extend(fields.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let refs: Vec<(&str, &str)> = all.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    b.post_raw(&format!("/bugs/{key}{action}"), &refs).await
}

async fn new_bug(b: &Browser, from_problem: &str, title: &str, severity: &str) -> String {
    let form =
        if from_problem.is_empty() { "/bugs/new".to_string() } else { format!("/bugs/new?problem={from_problem}") };
    let r = b
        .submit(
            &form,
            "/bugs",
            &[
                ("from_problem", from_problem),
                ("title", title),
                ("severity", severity),
                ("service_id", ""),
                ("assignee", ""),
                ("external_ref", "https://git.example.com/pr/42"),
                ("description", ""),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    r.location().rsplit('/').next().unwrap_or_default().to_string()
}

both!(bugs_link_to_problems_and_incidents_and_the_worst_comes_first, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Billing").await;
    let customer = login_as(&app, "customer", "cora@example.com").await;
    let sev1 = crate::incidents::report(
        &customer,
        &[
            ("title", "Invoices lost"),
            ("description", ""),
            ("service_id", &svc),
            ("impact", "high"),
            ("urgency", "high"),
        ],
    )
    .await;
    let minor = quick(&customer, &svc, "Typo on invoice").await;
    let devops = login_as(&app, "devops", "dev@example.com").await;
    let r = devops
        .submit(
            &format!("/problems/new?incident={sev1}"),
            "/problems",
            &[("from_incident", &sev1), ("title", "Invoice job drops rows"), ("category", "code_defect")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);

    let bad =
        devops.submit("/bugs/new", "/bugs", &[("title", ""), ("severity", "SEV9"), ("external_ref", "kept-ref")]).await;
    assert_eq!(bad.status, 422);
    assert!(
        bad.contains("Title is required.") && bad.contains("Choose a severity.") && bad.contains("kept-ref"),
        "{}",
        bad.body
    );

    let big = new_bug(&devops, "PRB-1", "Batch insert swallows errors", "SEV2").await;
    let small = new_bug(&devops, "", "Wrong font on invoice", "SEV4").await;
    assert_eq!((big.as_str(), small.as_str()), ("BUG-1", "BUG-2"));
    assert_eq!(bug_act(&devops, &big, "/links", &[("target", &sev1)]).await.status, 303);
    assert_eq!(bug_act(&devops, &small, "/links", &[("target", &minor)]).await.status, 303);
    let dup = bug_act(&devops, &big, "/links", &[("target", "PRB-1")]).await;
    assert_eq!(dup.status, 422, "linked already");
    let nothing = bug_act(&devops, &big, "/links", &[("target", "XYZ-1")]).await;
    assert_eq!(nothing.status, 422);
    assert!(nothing.contains("Enter a problem key like PRB-7 or an incident key like INC-42."));

    let list = devops.get("/bugs").await;
    let (b1, b2) = (list.body.find("BUG-1").unwrap_or(usize::MAX), list.body.find("BUG-2").unwrap_or(0));
    assert!(b1 < b2, "the SEV1-linked bug comes first: {}", list.body);
    let newest = devops.get("/bugs?sort=newest").await;
    assert!(newest.body.find("BUG-2").unwrap_or(usize::MAX) < newest.body.find("BUG-1").unwrap_or(0));

    let problem = devops.get("/problems/PRB-1").await;
    assert!(problem.contains("BUG-1") && problem.contains("Batch insert swallows errors"), "the problem lists its bug");
    let page = devops.get(&format!("/bugs/{big}")).await;
    assert!(page.contains("PRB-1") && page.contains(&sev1) && page.contains("Impact 8"), "{}", page.body);

    for s in ["in_progress", "fixed"] {
        assert_eq!(bug_act(&devops, &big, "/status", &[("status", s)]).await.status, 303, "{s}");
    }
    let skip = bug_act(&devops, &small, "/status", &[("status", "verified")]).await;
    assert_eq!(skip.status, 422);
    assert!(devops.get(&format!("/bugs/{big}")).await.contains("Status in progress → fixed"));

    // Sales read, customers never.
    let sales = login_as(&app, "sales", "sally@example.com").await;
    assert_eq!(sales.get("/bugs").await.status, 200);
    assert_eq!(sales.get("/bugs/new").await.status, 403);
    assert_eq!(customer.get("/bugs/BUG-1").await.status, 403);
    let _ = act;
});

/// The row of `/bugs` for this key: (impact, incidents, organizations) as the table shows them.
fn list_row(body: &str, key: &str) -> (String, String, String) {
    let row =
        body.split("<tr>").find(|r| r.contains(&format!(">{key}</a>"))).unwrap_or_else(|| panic!("{key} in {body}"));
    let nums: Vec<String> =
        row.split("<td class=\"num\">").skip(1).filter_map(|c| c.split('<').next().map(str::to_string)).collect();
    (nums[0].clone(), nums[1].clone(), nums[2].clone())
}

both!(impact_counts_the_incidents_of_the_bugs_problems_once_each, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Billing").await;
    let acme = crate::incidents::organization(&admin, "Acme", false).await;
    let globex = crate::incidents::organization(&admin, "Globex", false).await;
    let ann = crate::incidents::customer_in(&app, &admin, "Ann", "ann@acme.example", &acme).await;
    let gus = crate::incidents::customer_in(&app, &admin, "Gus", "gus@globex.example", &globex).await;
    let sev1 = crate::incidents::report(
        &ann,
        &[
            ("title", "Invoices lost"),
            ("description", ""),
            ("service_id", &svc),
            ("impact", "high"),
            ("urgency", "high"),
        ],
    )
    .await;
    let sev3 = quick(&gus, &svc, "Invoice late").await;
    let devops = login_as(&app, "devops", "dev@example.com").await;
    let r = devops
        .submit(
            &format!("/problems/new?incident={sev1}"),
            "/problems",
            &[("from_incident", &sev1), ("title", "Invoice job drops rows"), ("category", "code_defect")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let linked = devops.submit("/problems/PRB-1", "/problems/PRB-1/incidents", &[("incident", &sev3)]).await;
    assert_eq!(linked.status, 303, "{}", linked.body);
    // The usual flow: the bug is recorded from the problem, with no incident of its own.
    let from_problem = new_bug(&devops, "PRB-1", "Batch insert swallows errors", "SEV3").await;
    // Linked to an incident of its problem as well: that incident still counts once.
    assert_eq!(bug_act(&devops, &from_problem, "/links", &[("target", &sev1)]).await.status, 303);
    // A newer bug with two staff-reported incidents of its own (no organization): 8 + 4.
    let mut direct = Vec::new();
    for (title, sev) in [("Totals off", "SEV1"), ("Slow export", "SEV2")] {
        direct.push(
            crate::incidents::report(
                &devops,
                &[
                    ("title", title),
                    ("description", ""),
                    ("service_id", &svc),
                    ("impact", "medium"),
                    ("urgency", "medium"),
                    ("severity", sev),
                ],
            )
            .await,
        );
    }
    let other = new_bug(&devops, "", "Rounding", "SEV2").await;
    for k in &direct {
        assert_eq!(bug_act(&devops, &other, "/links", &[("target", k)]).await.status, 303);
    }

    let list = devops.get("/bugs").await;
    // SEV1 8 + SEV3 2 + two organizations × 3 = 16, against 12.
    assert_eq!(list_row(&list.body, &from_problem), ("16".into(), "2".into(), "2".into()), "{}", list.body);
    assert_eq!(list_row(&list.body, &other), ("12".into(), "2".into(), "0".into()));
    let first = list.body.find(&format!(">{from_problem}</a>")).unwrap_or(usize::MAX);
    let second = list.body.find(&format!(">{other}</a>")).unwrap_or(0);
    assert!(first < second, "the bug behind the problem hurts more: {}", list.body);
    assert!(devops.get(&format!("/bugs/{from_problem}")).await.contains("Impact 16"));
});

both!(a_web_address_reference_is_a_safe_link_and_anything_else_plain_text, |app| {
    let _admin = app.signed_in("admin").await;
    let devops = login_as(&app, "devops", "dev@example.com").await;
    let mut keys = Vec::new();
    for (title, reference) in [
        ("Linked", "https://git.example.com/pr/42"),
        ("Hash", "a1b2c3d4"),
        ("Sneaky", "https://x.example/\"><script>alert(1)</script>"),
        ("Script scheme", "javascript:alert(2)"),
    ] {
        let r = devops
            .submit("/bugs/new", "/bugs", &[("title", title), ("severity", "SEV3"), ("external_ref", reference)])
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
        keys.push(r.location().rsplit('/').next().unwrap_or_default().to_string());
    }
    let link =
        "<a href=\"https://git.example.com/pr/42\" rel=\"noopener noreferrer\">https://git.example.com/pr/42</a>";
    assert!(devops.get(&format!("/bugs/{}", keys[0])).await.contains(link));
    assert!(devops.get("/bugs").await.contains(link), "the list links it too");
    let hash = devops.get(&format!("/bugs/{}", keys[1])).await;
    assert!(hash.contains("<dd class=\"mono\">a1b2c3d4</dd>"), "{}", hash.body);
    let sneaky = devops.get(&format!("/bugs/{}", keys[2])).await;
    assert!(!sneaky.contains("<script>alert(1)"), "escaped: {}", sneaky.body);
    assert!(sneaky.contains("href=\"https://x.example/&#34;&#62;&#60;script&#62;"), "{}", sneaky.body);
    let scheme = devops.get(&format!("/bugs/{}", keys[3])).await;
    assert!(!scheme.contains("href=\"javascript:") && scheme.contains("javascript:alert(2)"), "{}", scheme.body);
});
