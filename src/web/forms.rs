//! Form structs: each lists exactly the fields a form may set (no mass assignment). The CSRF
//! token is checked by the session middleware; forms carry it only so serde accepts it.

use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub next: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct SetupForm {
    #[serde(default)]
    pub token: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub password_confirm: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ProfileForm {
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub time_zone: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    pub current_password: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub password_confirm: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct UserForm {
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub organization_id: String,
    #[serde(default)]
    pub time_zone: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub password_confirm: String,
    /// A checkbox: present means on.
    #[serde(default)]
    pub active: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct OrgForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub email_domains: String,
    #[serde(default)]
    pub share_incidents: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ServiceForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub active: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct IncidentForm {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub service_id: String,
    #[serde(default)]
    pub impact: String,
    #[serde(default)]
    pub urgency: String,
    #[serde(default)]
    pub severity: String,
    #[serde(default)]
    pub assignee: String,
    #[serde(default)]
    pub tags: String,
    #[serde(default)]
    pub reporter_email: String,
    /// "1" from the "Check for similar reports" button: show matches, create nothing.
    #[serde(default)]
    pub check: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct CommentForm {
    #[serde(default)]
    pub body: String,
    /// "internal" for an internal note; anything else is a public reply.
    #[serde(default)]
    pub visibility: String,
    /// The canned response whose actions apply when this is sent (its box ticked).
    #[serde(default)]
    pub macro_id: String,
    /// The canned response chosen in the picker (only read by "Insert").
    #[serde(default, rename = "macro")]
    pub macro_choice: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct AssignForm {
    #[serde(default)]
    pub assignee: String,
    #[serde(default)]
    pub version: i32,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct StatusForm {
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub resolution: String,
    #[serde(default)]
    pub version: i32,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct FieldsForm {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub service_id: String,
    #[serde(default)]
    pub impact: String,
    #[serde(default)]
    pub urgency: String,
    #[serde(default)]
    pub severity: String,
    #[serde(default)]
    pub tags: String,
    #[serde(default)]
    pub version: i32,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct LinkForm {
    #[serde(default)]
    pub other: String,
    #[serde(default)]
    pub kind: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct EscalateForm {
    #[serde(default)]
    pub tier: String,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub reason_text: String,
    #[serde(default)]
    pub version: i32,
    /// "on": the assignee keeps the incident in the new tier.
    #[serde(default)]
    pub keep_assignee: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct WatchForm {
    /// "on" to watch, anything else to stop.
    #[serde(default)]
    pub watch: String,
}

/// A form body's fields in order, repeated names included (checkbox groups), for forms that
/// `web::Form` cannot read into a struct.
pub fn all_fields(body: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

/// The first value of a field, or empty.
pub fn field(fields: &[(String, String)], name: &str) -> String {
    fields.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()).unwrap_or_default()
}
