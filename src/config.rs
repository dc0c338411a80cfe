//! Settings: defaults, then an optional TOML file, then `FIREWATCH_*` environment variables.

use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    None,
    Starttls,
    Tls,
}

#[derive(Debug, Clone)]
pub struct Config {
    /// `postgres://…`, `sqlite://PATH` or a plain path. None: SQLite at `<data_dir>/firewatch.db`.
    pub database_url: Option<String>,
    pub bind: String,
    /// Where users reach the app; decides Secure cookies and HSTS, and builds links.
    pub base_url: String,
    pub data_dir: PathBuf,
    /// Signs CSRF tokens. None: generated once and kept in `<data_dir>/secret.key` (mode 0600).
    pub secret_key: Option<String>,
    /// Optional argon2 secret ("pepper"), kept apart from the database.
    pub password_pepper: Option<String>,
    pub session_idle_minutes: i64,
    pub session_absolute_hours: i64,
    pub log_format: LogFormat,
    /// Where backups are written; only reported by `check-config` for now.
    pub backup_dir: Option<PathBuf>,
    /// Failed logins from one IP address within 15 minutes before that address is refused.
    pub login_ip_limit: i64,
    /// Resolved incidents are closed this many days after resolution (0: never).
    pub auto_close_days: i64,
    /// SMTP server; None: mail is written as .eml files under `<data_dir>/mail/`.
    pub smtp_host: Option<String>,
    pub smtp_port: u16,
    pub smtp_tls: SmtpTls,
    pub smtp_user: Option<String>,
    pub smtp_password: Option<String>,
    /// Sender of every mail, e.g. `Firewatch <support@example.com>`.
    pub mail_from: String,
    pub mail_reply_to: Option<String>,
    /// Shared secret `firewatch mailgate` presents to `/mail/inbound`; None: inbound mail is off.
    pub inbound_token: Option<String>,
    /// Largest attachment kept from an incoming mail, in bytes.
    pub attachment_max_bytes: u64,
    /// Most attachments kept from one incoming mail.
    pub attachment_max_count: usize,
    /// The authserv-id of the receiving MTA's `Authentication-Results` header; when set, mail
    /// from a known user is filed only if that header says dmarc=pass or spf=pass.
    pub inbound_authserv_id: Option<String>,
    /// Days the raw original of an accepted incoming mail is kept for download.
    pub inbound_raw_days: i64,
}

impl Config {
    /// The largest incoming message accepted: room for one attachment at the limit, base64-encoded
    /// (4/3), plus the rest of the message.
    pub fn inbound_max_bytes(&self) -> usize {
        usize::try_from(self.attachment_max_bytes.saturating_mul(2).saturating_add(1024 * 1024)).unwrap_or(usize::MAX)
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: None,
            bind: "127.0.0.1:8080".to_string(),
            base_url: "http://127.0.0.1:8080".to_string(),
            data_dir: PathBuf::from("./data"),
            secret_key: None,
            password_pepper: None,
            session_idle_minutes: 30,
            session_absolute_hours: 12,
            log_format: LogFormat::Text,
            backup_dir: None,
            login_ip_limit: 50,
            auto_close_days: 7,
            smtp_host: None,
            smtp_port: 587,
            smtp_tls: SmtpTls::Starttls,
            smtp_user: None,
            smtp_password: None,
            mail_from: "Firewatch <firewatch@localhost>".to_string(),
            mail_reply_to: None,
            inbound_token: None,
            attachment_max_bytes: 10 * 1024 * 1024,
            attachment_max_count: 100,
            inbound_authserv_id: None,
            inbound_raw_days: 90,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    database_url: Option<String>,
    bind: Option<String>,
    base_url: Option<String>,
    data_dir: Option<PathBuf>,
    secret_key: Option<String>,
    password_pepper: Option<String>,
    session_idle_minutes: Option<i64>,
    session_absolute_hours: Option<i64>,
    log_format: Option<String>,
    backup_dir: Option<PathBuf>,
    login_ip_limit: Option<i64>,
    auto_close_days: Option<i64>,
    smtp_host: Option<String>,
    smtp_port: Option<i64>,
    smtp_tls: Option<String>,
    smtp_user: Option<String>,
    smtp_password: Option<String>,
    mail_from: Option<String>,
    mail_reply_to: Option<String>,
    inbound_token: Option<String>,
    attachment_max_mb: Option<i64>,
    attachment_max_count: Option<i64>,
    inbound_authserv_id: Option<String>,
    inbound_raw_days: Option<i64>,
}

/// The shortest inbound token accepted: it is all that guards `/mail/inbound`.
pub const MIN_INBOUND_TOKEN: usize = 32;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {0}: {1}")]
    Read(PathBuf, std::io::Error),
    #[error("config file {0}: {1}")]
    Parse(PathBuf, toml::de::Error),
    #[error("{0}")]
    Invalid(String),
}

impl Config {
    /// Loads the file (if given) and the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut fc = FileConfig::default();
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read(path.to_path_buf(), e))?;
            fc = toml::from_str(&text).map_err(|e| ConfigError::Parse(path.to_path_buf(), e))?;
        }
        let env = |k: &str| std::env::var(format!("FIREWATCH_{k}")).ok().filter(|v| !v.is_empty());
        let mut c = Config::default();
        let bind_given = env("BIND").or(fc.bind.clone()).is_some();
        if let Some(v) = env("DATABASE_URL").or(fc.database_url) {
            c.database_url = Some(v);
        }
        if let Some(v) = env("BIND").or(fc.bind) {
            c.bind = v;
        }
        match env("BASE_URL").or(fc.base_url) {
            Some(v) => c.base_url = v,
            None if bind_given => c.base_url = format!("http://{}", c.bind),
            None => {}
        }
        if let Some(v) = env("DATA_DIR").map(PathBuf::from).or(fc.data_dir) {
            c.data_dir = v;
        }
        c.secret_key = env("SECRET_KEY").or(fc.secret_key);
        c.password_pepper = env("PASSWORD_PEPPER").or(fc.password_pepper);
        let int = |name: &str, v: Option<String>, file: Option<i64>| -> Result<Option<i64>, ConfigError> {
            match v {
                Some(s) => s
                    .parse::<i64>()
                    .map(Some)
                    .map_err(|_| ConfigError::Invalid(format!("FIREWATCH_{name} must be a whole number, got '{s}'"))),
                None => Ok(file),
            }
        };
        if let Some(v) = int("SESSION_IDLE_MINUTES", env("SESSION_IDLE_MINUTES"), fc.session_idle_minutes)? {
            c.session_idle_minutes = v;
        }
        if let Some(v) = int("SESSION_ABSOLUTE_HOURS", env("SESSION_ABSOLUTE_HOURS"), fc.session_absolute_hours)? {
            c.session_absolute_hours = v;
        }
        if let Some(v) = int("LOGIN_IP_LIMIT", env("LOGIN_IP_LIMIT"), fc.login_ip_limit)? {
            c.login_ip_limit = v;
        }
        if let Some(v) = int("AUTO_CLOSE_DAYS", env("AUTO_CLOSE_DAYS"), fc.auto_close_days)? {
            c.auto_close_days = v;
        }
        c.smtp_host = env("SMTP_HOST").or(fc.smtp_host);
        if let Some(v) = int("SMTP_PORT", env("SMTP_PORT"), fc.smtp_port)? {
            c.smtp_port =
                u16::try_from(v).map_err(|_| ConfigError::Invalid(format!("SMTP port {v} is out of range")))?;
        }
        if let Some(v) = env("SMTP_TLS").or(fc.smtp_tls) {
            c.smtp_tls = match v.as_str() {
                "none" => SmtpTls::None,
                "starttls" => SmtpTls::Starttls,
                "tls" => SmtpTls::Tls,
                other => {
                    return Err(ConfigError::Invalid(format!("SMTP TLS must be none, starttls or tls, got '{other}'")));
                }
            };
        }
        c.smtp_user = env("SMTP_USER").or(fc.smtp_user);
        c.smtp_password = env("SMTP_PASSWORD").or(fc.smtp_password);
        if let Some(v) = env("MAIL_FROM").or(fc.mail_from) {
            c.mail_from = v;
        }
        c.mail_reply_to = env("MAIL_REPLY_TO").or(fc.mail_reply_to);
        c.inbound_token = env("INBOUND_TOKEN").or(fc.inbound_token);
        if let Some(v) = int("ATTACHMENT_MAX_MB", env("ATTACHMENT_MAX_MB"), fc.attachment_max_mb)? {
            let mb = u64::try_from(v)
                .ok()
                .filter(|v| (1..=1024).contains(v))
                .ok_or_else(|| ConfigError::Invalid(format!("attachment limit must be 1 to 1024 MB, got {v}")))?;
            c.attachment_max_bytes = mb * 1024 * 1024;
        }
        if let Some(v) = int("ATTACHMENT_MAX_COUNT", env("ATTACHMENT_MAX_COUNT"), fc.attachment_max_count)? {
            c.attachment_max_count = usize::try_from(v)
                .ok()
                .filter(|v| (1..=10_000).contains(v))
                .ok_or_else(|| ConfigError::Invalid(format!("attachments per mail must be 1 to 10000, got {v}")))?;
        }
        c.inbound_authserv_id = env("INBOUND_AUTHSERV_ID")
            .or(fc.inbound_authserv_id)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty());
        if let Some(v) = int("INBOUND_RAW_DAYS", env("INBOUND_RAW_DAYS"), fc.inbound_raw_days)? {
            if !(1..=3650).contains(&v) {
                return Err(ConfigError::Invalid(format!("days to keep raw mail must be 1 to 3650, got {v}")));
            }
            c.inbound_raw_days = v;
        }
        if let Some(v) = env("LOG_FORMAT").or(fc.log_format) {
            c.log_format = match v.as_str() {
                "json" => LogFormat::Json,
                "text" => LogFormat::Text,
                other => {
                    return Err(ConfigError::Invalid(format!("log format must be 'text' or 'json', got '{other}'")));
                }
            };
        }
        c.backup_dir = env("BACKUP_DIR").map(PathBuf::from).or(fc.backup_dir);
        c.validate()?;
        Ok(c)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.session_idle_minutes < 1 || self.session_absolute_hours < 1 {
            return Err(ConfigError::Invalid("session timeouts must be at least 1".into()));
        }
        let url = url::Url::parse(&self.base_url)
            .map_err(|e| ConfigError::Invalid(format!("base URL '{}' is not a URL: {e}", self.base_url)))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(ConfigError::Invalid(format!("base URL '{}' must be http(s)://host[:port]", self.base_url)));
        }
        if let Some(k) = &self.secret_key
            && k.len() < 32
        {
            return Err(ConfigError::Invalid("secret key must be at least 32 characters".into()));
        }
        if let Some(t) = &self.inbound_token
            && t.chars().count() < MIN_INBOUND_TOKEN
        {
            return Err(ConfigError::Invalid(format!(
                "the inbound token (FIREWATCH_INBOUND_TOKEN) must be at least {MIN_INBOUND_TOKEN} characters, \
                 got {}; make one with `openssl rand -hex 32`",
                t.chars().count()
            )));
        }
        Ok(())
    }

    pub fn is_https(&self) -> bool {
        self.base_url.starts_with("https://")
    }

    /// `scheme://host[:port]` of the base URL, as browsers send it in Origin.
    pub fn base_origin(&self) -> String {
        url::Url::parse(&self.base_url).map(|u| u.origin().ascii_serialization()).unwrap_or_default()
    }

    /// The base URL without a trailing slash, for building links.
    pub fn base(&self) -> &str {
        self.base_url.trim_end_matches('/')
    }

    /// The host our Message-IDs carry.
    pub fn mail_host(&self) -> String {
        url::Url::parse(&self.base_url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_else(|| "localhost".into())
    }

    /// The bare address mail is sent from.
    pub fn mail_from_address(&self) -> String {
        let from = self.mail_from.trim();
        let addr = match (from.rfind('<'), from.rfind('>')) {
            (Some(a), Some(b)) if a < b => &from[a + 1..b],
            _ => from,
        };
        addr.trim().to_lowercase()
    }

    pub fn effective_database_url(&self) -> String {
        match &self.database_url {
            Some(u) => u.clone(),
            None => self.data_dir.join("firewatch.db").to_string_lossy().into_owned(),
        }
    }

    pub fn session_cookie_name(&self) -> &'static str {
        if self.is_https() { "__Host-fw_session" } else { "fw_session" }
    }

    pub fn anon_cookie_name(&self) -> &'static str {
        if self.is_https() { "__Host-fw_anon" } else { "fw_anon" }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_file_sets_values_and_bind_implies_base_url() {
        let dir = std::env::temp_dir().join(format!("fw-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).ok();
        let path = dir.join("firewatch.toml");
        std::fs::write(
            &path,
            "bind = \"0.0.0.0:9000\"\ndata_dir = \"/var/lib/fw\"\nsession_idle_minutes = 10\nlog_format = \"json\"\n",
        )
        .ok();
        let c = Config::load(Some(&path)).expect("loads");
        assert_eq!(c.bind, "0.0.0.0:9000");
        assert_eq!(c.base_url, "http://0.0.0.0:9000");
        assert_eq!(c.data_dir, PathBuf::from("/var/lib/fw"));
        assert_eq!(c.session_idle_minutes, 10);
        assert_eq!(c.log_format, LogFormat::Json);
        assert_eq!(c.effective_database_url(), "/var/lib/fw/firewatch.db");

        std::fs::write(&path, "no_such_setting = 1\n").ok();
        assert!(Config::load(Some(&path)).is_err(), "unknown keys are refused");
        std::fs::write(&path, "base_url = \"ftp://x\"\n").ok();
        assert!(Config::load(Some(&path)).is_err());
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn a_short_inbound_token_is_refused() {
        let with = |t: &str| Config { inbound_token: Some(t.into()), ..Config::default() }.validate();
        let err = with("inbound-secret-for-tests-2026").map(|_| ()).unwrap_err().to_string();
        assert!(err.contains("at least 32 characters"), "{err}");
        assert!(with(&"x".repeat(32)).is_ok());
        assert!(Config::default().validate().is_ok(), "no token: inbound mail is off");
    }

    #[test]
    fn https_base_url_switches_cookie_names() {
        let c = Config { base_url: "https://help.example.com/".into(), ..Config::default() };
        assert!(c.is_https());
        assert_eq!(c.session_cookie_name(), "__Host-fw_session");
        assert_eq!(c.base_origin(), "https://help.example.com");
        assert_eq!(c.base(), "https://help.example.com");
    }
}
