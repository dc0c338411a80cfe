//! Issue 12, web hardening: one section per item.

use crate::both;
use crate::incidents::{login_as, report, row_keys, service};
use crate::support::*;

// ---------- 1. severity and priority are staff's ----------

/// Reports an incident with this impact and urgency.
async fn report_at(b: &Browser, svc: &str, level: &str, title: &str) -> String {
    report(b, &[("title", title), ("description", ""), ("service_id", svc), ("impact", level), ("urgency", level)])
        .await
}

both!(customers_neither_see_nor_filter_nor_sort_by_severity_or_priority, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Billing").await;
    let cust = login_as(&app, "customer", "cleo@example.com").await;
    let urgent = report_at(&cust, &svc, "high", "Invoices are all wrong").await;
    app.advance(chrono::Duration::minutes(5));
    let minor = report_at(&cust, &svc, "low", "A typo on the invoice").await;

    let staff = app.signed_in("support").await;
    let staff_queue = staff.get("/incidents?severity=SEV4").await;
    assert_eq!(row_keys(&staff_queue.body), vec![minor.clone()], "staff filter by severity");
    assert!(staff_queue.contains("<legend>Severity</legend>") && staff_queue.contains("<legend>Priority</legend>"));
    assert!(staff_queue.contains("<th scope=\"col\">Severity</th>") && staff_queue.contains("value=\"priority\""));
    let by_priority = staff.get("/incidents?sort=priority").await;
    assert_eq!(row_keys(&by_priority.body), vec![urgent.clone(), minor.clone()], "staff sort by priority");
    let dash = staff.get("/").await;
    assert!(dash.contains("<th scope=\"col\">Severity</th>") && dash.contains("/incidents?severity="));

    for path in ["/incidents", "/incidents?severity=SEV4", "/incidents?priority=P1", "/incidents?sort=priority"] {
        let q = cust.get(path).await;
        assert_eq!(q.status, 200, "{path}");
        assert_eq!(row_keys(&q.body), vec![minor.clone(), urgent.clone()], "{path}: ignored, newest first");
        for hidden in
            ["Severity", "Priority", "SEV1", "SEV4", ">P1<", ">P4<", "sev-", "name=\"severity\"", "\"priority\""]
        {
            assert!(!q.contains(hidden), "{path} shows {hidden}");
        }
    }
    let home = cust.get("/").await;
    assert_eq!(row_keys(&home.body), vec![minor.clone(), urgent.clone()]);
    for hidden in ["Severity", "Priority", "SEV1", "SEV4", ">P1<", "sev-"] {
        assert!(!home.contains(hidden), "the dashboard shows {hidden}");
    }
});
