//! asvs_4_1_3: every route of the application × every role, against the policy. The route list
//! comes from the application itself, so a new route is covered the moment it exists.

use crate::both;
use crate::support::*;
use actix_web::http::Method;
use firewatch::domain::policy;
use firewatch::domain::role::Role;
use firewatch::web::routes::{Gate, table};

fn sample_path(path: &str) -> String {
    path.replace("{id}", "1").replace("{token}", "0123456789abcdef0123456789abcdef").replace("{name}", "app.css")
}

both!(asvs_4_1_3_every_route_answers_every_role_as_the_policy_says, |app| {
    let routes = table();
    assert!(routes.len() >= 25, "the table lists the app's routes");
    let mut accounts = Vec::new();
    for role in Role::ALL {
        let email = format!("matrix-{}@example.com", role.as_str());
        app.user(role.as_str(), &email).await;
        accounts.push((role, email));
    }
    let mut checked = 0;
    for spec in &routes {
        let path = sample_path(spec.path);
        // Anonymous visitor.
        let anon = app.browser();
        let page =
            if spec.method == Method::GET { anon.get(&path).await } else { anon.submit("/login", &path, &[]).await };
        match spec.gate {
            Gate::Public => assert!(
                page.status != 403 && !page.location().starts_with("/login?"),
                "{} {path} is public but answered {} for an anonymous visitor",
                spec.method,
                page.status
            ),
            Gate::Signed(_) => {
                assert_eq!(page.status, 303, "{} {path}: anonymous must be sent to sign in", spec.method);
                assert!(page.location().starts_with("/login"), "{} {path}", spec.method);
            }
        }
        // Each role, in a fresh session (a POST may sign the session out).
        for (role, email) in &accounts {
            let b = app.browser();
            assert_eq!(b.login(email, PASSWORD).await.status, 303);
            let page =
                if spec.method == Method::GET { b.get(&path).await } else { b.submit("/account", &path, &[]).await };
            let allowed = match spec.gate {
                Gate::Public => true,
                Gate::Signed(action) => policy::role_may(*role, action),
            };
            if allowed {
                assert!(
                    page.status != 403,
                    "{} {path} should be open to {role} but answered {}",
                    spec.method,
                    page.status
                );
                assert!(page.status < 500, "{} {path} as {role}: {}", spec.method, page.body);
            } else {
                assert_eq!(page.status, 403, "{} {path} must be closed to {role}", spec.method);
            }
            checked += 1;
        }
    }
    assert_eq!(checked, routes.len() * Role::ALL.len());
});

#[test]
fn the_stable_routes_exist_with_the_expected_gates() {
    let routes = table();
    let has = |m: Method, p: &str| routes.iter().find(|r| r.method == m && r.path == p).map(|r| r.gate);
    for p in ["/setup", "/login", "/healthz", "/readyz", "/static/{name}"] {
        assert_eq!(has(Method::GET, p), Some(Gate::Public), "{p}");
    }
    for p in ["/account", "/account/sessions", "/admin/users", "/admin/organizations", "/admin/audit"] {
        assert!(matches!(has(Method::GET, p), Some(Gate::Signed(_))), "{p}");
    }
    assert!(matches!(has(Method::POST, "/logout"), Some(Gate::Signed(_))));
    assert_eq!(has(Method::GET, "/logout"), None, "logout only by POST");
    // Admin areas are admin-only, except the canned responses: every agent keeps their own
    // there (managers also the shared ones), and customers and sales have none.
    for r in routes.iter().filter(|r| r.path.starts_with("/admin/macros")) {
        for role in Role::ALL {
            let agent = matches!(role, Role::Support | Role::Devops | Role::Manager | Role::Admin);
            let Gate::Signed(action) = r.gate else { panic!("{} is not gated", r.path) };
            assert_eq!(policy::role_may(role, action), agent, "{} for {role}", r.path);
        }
    }
    for r in routes.iter().filter(|r| r.path.starts_with("/admin/") && !r.path.starts_with("/admin/macros")) {
        let Gate::Signed(action) = r.gate else { panic!("{} is not gated", r.path) };
        for role in Role::ALL {
            assert_eq!(policy::role_may(role, action), role == Role::Admin, "{} for {role}", r.path);
        }
    }
}
