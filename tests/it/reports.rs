//! Issue 13: the management reports. So far: their written definitions.

use crate::both;

both!(report_definitions_are_written_down_for_staff_and_hidden_from_customers, |app| {
    for role in ["manager", "admin", "support", "devops", "sales"] {
        let b = app.signed_in(role).await;
        let page = b.get("/reports/definitions").await;
        assert_eq!(page.status, 200, "{role}");
        for term in ["MTTA", "MTTR", "Reopen rate", "SLA compliance", "Escalation rate", "Nearest rank", "never as 0"] {
            assert!(page.contains(term), "{role}: {term}");
        }
        assert!(page.contains("created</em> after the problem’s fix was released"));
    }
    let customer = app.signed_in("customer").await;
    let r = customer.get("/reports/definitions").await;
    assert!(matches!(r.status, 403 | 404), "{}", r.status);
    assert!(!r.contains("MTTA"));
});
