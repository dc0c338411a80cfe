use clap::{Parser, Subcommand};
use firewatch::config::Config;
use firewatch::db::{Backend, Database, classify_url};
use firewatch::domain::clock::SystemClock;
use firewatch::service::admin_users::{self, By, UserInput};
use firewatch::service::{RequestMeta, ServiceError};
use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// Firewatch: incident and production-support ticketing.
#[derive(Parser)]
#[command(name = "firewatch", version, about)]
struct Cli {
    /// A TOML configuration file; FIREWATCH_* environment variables override it.
    #[arg(long, global = true, env = "FIREWATCH_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web application (the default). Migrates the database first.
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage users from the command line.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Check the configuration and print a production-readiness checklist (exit 1 on errors).
    CheckConfig,
    /// Background jobs (the server runs them by itself).
    Jobs {
        #[command(subcommand)]
        command: JobsCommand,
    },
    /// Read one mail message on standard input and hand it to a running Firewatch (for an MTA
    /// pipe or fetchmail's mda). Exit 0: accepted; 75: try again later; 65: refused for good.
    Mailgate {
        /// Where Firewatch runs, e.g. https://help.example.com
        #[arg(long)]
        url: String,
        /// The server's FIREWATCH_INBOUND_TOKEN.
        #[arg(long, env = "FIREWATCH_INBOUND_TOKEN", hide_env_values = true)]
        token: String,
    },
    /// Fill the database with realistic demo organizations, users, services and incidents.
    DemoData {
        /// How many incidents to create.
        #[arg(long, default_value_t = 1000)]
        incidents: u64,
        /// Seed for the generator: the same seed gives the same data.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Password for every demo user (default: a random one, printed at the end).
        #[arg(long, env = "FIREWATCH_DEMO_PASSWORD")]
        password: Option<String>,
    },
}

#[derive(Subcommand)]
enum JobsCommand {
    /// Run every job once (SLA checks, auto-close) and exit: for cron-style setups and tests.
    RunOnce,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user. The password is read from standard input, or prompted for on a terminal.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// customer, support, devops, sales, manager or admin
        #[arg(long)]
        role: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Before the configuration: the MTA must get a sysexits code whatever else is wrong here.
    if let Some(Command::Mailgate { url, token }) = &cli.command {
        return mailgate(url, token);
    }
    let config = match Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("firewatch: {e}");
            return ExitCode::FAILURE;
        }
    };
    firewatch::telemetry::init(config.log_format);
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => actix_web::rt::System::new().block_on(firewatch::app::serve(config)),
        Command::Migrate => migrate(&config),
        Command::User { command: UserCommand::Create { email, name, role } } => {
            create_user(config, &email, &name, &role)
        }
        Command::CheckConfig => return check_config(&config),
        Command::Jobs { command: JobsCommand::RunOnce } => jobs_once(config),
        Command::DemoData { incidents, seed, password } => demo_data(config, incidents, seed, password),
        Command::Mailgate { .. } => Ok(()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("firewatch: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn mailgate(url: &str, token: &str) -> ExitCode {
    use std::io::Read;
    let mut message = Vec::new();
    if let Err(e) = std::io::stdin().take(256 * 1024 * 1024).read_to_end(&mut message) {
        eprintln!("firewatch mailgate: cannot read the message: {e}");
        return ExitCode::from(firewatch::mailgate::EX_TEMPFAIL);
    }
    let (code, line) = firewatch::mailgate::deliver(url, token, &message);
    eprintln!("firewatch mailgate: {line}");
    ExitCode::from(code)
}

fn migrate(config: &Config) -> anyhow::Result<()> {
    let db = Database::connect(&config.effective_database_url(), 1)?;
    let n = db.migrate()?;
    println!("{} migration(s) applied on {}.", n, db.backend.name());
    Ok(())
}

fn demo_data(config: Config, incidents: u64, seed: u64, password: Option<String>) -> anyhow::Result<()> {
    let state = firewatch::app::build_state(config, Arc::new(SystemClock))?;
    let opts = firewatch::demo::DemoOptions { incidents, seed, password };
    let r = firewatch::demo::load(&state, &opts)?;
    println!(
        "Loaded {} incidents ({} comments, {} timeline events) in {:.1} s; created {} organizations, {} users, {} services.",
        r.incidents, r.comments, r.events, r.seconds, r.organizations, r.users, r.services
    );
    println!(
        "Made {} root-cause problems, {} releases and {} help articles with their history.",
        r.loops.problems, r.loops.releases, r.loops.articles
    );
    println!("Demo users sign in with the password: {}", r.password);
    println!("For example admin1@firewatch.example (admin), support1@firewatch.example (support).");
    Ok(())
}

fn jobs_once(config: Config) -> anyhow::Result<()> {
    let state = firewatch::app::build_state(config, Arc::new(SystemClock))?;
    let r = firewatch::jobs::run_once(&state);
    println!(
        "SLA warnings {}, breaches {}, escalations {}, auto-closed {}; mail sent {}, failed attempts {}.",
        r.sla_warnings, r.sla_breaches, r.escalations, r.auto_closed, r.mails_sent, r.mail_failures
    );
    // The other jobs ran; a cron wrapper still learns that something needs a look.
    anyhow::ensure!(r.failed.is_empty(), "these jobs failed (see the log): {}", r.failed.join(", "));
    Ok(())
}

fn read_password() -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let a = rpassword::prompt_password("Password: ")?;
        let b = rpassword::prompt_password("Password again: ")?;
        anyhow::ensure!(a == b, "the two passwords differ");
        Ok(a)
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        Ok(line.trim_end_matches(['\r', '\n']).to_string())
    }
}

fn create_user(config: Config, email: &str, name: &str, role: &str) -> anyhow::Result<()> {
    let password = read_password()?;
    anyhow::ensure!(!password.is_empty(), "a password is required (on standard input, or at the prompt)");
    let state = firewatch::app::build_state(config, Arc::new(SystemClock))?;
    let input = UserInput {
        email: email.to_string(),
        display_name: name.to_string(),
        role: role.to_string(),
        time_zone: "UTC".to_string(),
        password: password.clone(),
        password_confirm: password,
        ..Default::default()
    };
    let meta = RequestMeta { ip: "cli".into(), ..Default::default() };
    match admin_users::create(&state, &meta, By::Operator, &input) {
        Ok((user, _)) => {
            println!("Created {} ({}) as {}.", user.display_name, user.email, user.role);
            Ok(())
        }
        Err(ServiceError::Invalid(errors)) => {
            let msgs: Vec<String> = errors.0.into_iter().map(|(f, m)| format!("{f}: {m}")).collect();
            anyhow::bail!("{}", msgs.join("; "))
        }
        Err(e) => Err(e.into()),
    }
}

/// Prints the readiness checklist; exit code 1 when any line is an error.
fn check_config(config: &Config) -> ExitCode {
    let mut errors = 0;
    let mut line = |level: &str, what: &str, detail: String| {
        if level == "ERROR" {
            errors += 1;
        }
        println!("{level:<5}  {what:<18} {detail}");
    };
    line("OK", "configuration", "parsed and valid".into());

    let base = url::Url::parse(&config.base_url).ok();
    let host = base.as_ref().and_then(|u| u.host_str().map(str::to_string)).unwrap_or_default();
    let loopback = matches!(host.as_str(), "127.0.0.1" | "localhost" | "[::1]" | "::1");
    if config.is_https() {
        line("OK", "base URL", format!("{} (https: Secure __Host- cookies, HSTS)", config.base_url));
    } else if loopback {
        line(
            "WARN",
            "base URL",
            format!("{} is plain http; fine on this machine, use https in production", config.base_url),
        );
    } else {
        line(
            "ERROR",
            "base URL",
            format!("{} is plain http on a network address: cookies would travel unencrypted", config.base_url),
        );
    }

    if config.secret_key.is_some() {
        line("OK", "secret key", "set in configuration".into());
    } else {
        let path = config.data_dir.join("secret.key");
        if path.exists() {
            line("OK", "secret key", format!("persisted in {}", path.display()));
        } else {
            line(
                "WARN",
                "secret key",
                format!("not yet generated; will be written to {} on first start", path.display()),
            );
        }
    }
    if config.password_pepper.is_some() {
        line("OK", "password pepper", "set (keep it apart from database backups)".into());
    } else {
        line("WARN", "password pepper", "not set (optional; FIREWATCH_PASSWORD_PEPPER)".into());
    }

    match config.smtp_host.as_deref().filter(|h| !h.is_empty()) {
        Some(host) => line(
            "OK",
            "SMTP",
            format!("{host}:{} ({:?}), from {}", config.smtp_port, config.smtp_tls, config.mail_from),
        ),
        None => line(
            "WARN",
            "SMTP",
            format!("not configured: mail is written as .eml files to {}", config.data_dir.join("mail").display()),
        ),
    }

    let url = config.effective_database_url();
    let (backend, _) = classify_url(&url);
    match Database::connect(&url, 1) {
        Ok(db) => {
            let kind = match backend {
                Backend::Sqlite => "SQLite (one app instance; use PostgreSQL to run several)",
                Backend::Postgres => "PostgreSQL",
            };
            line("OK", "database", kind.into());
            match db.migrations_current() {
                Ok(true) => line("OK", "migrations", "current".into()),
                Ok(false) => line("WARN", "migrations", "pending; `firewatch migrate` or start the server".into()),
                Err(e) => line("ERROR", "migrations", e.to_string()),
            }
        }
        Err(e) => line("ERROR", "database", e.to_string()),
    }

    match &config.backup_dir {
        None => line("WARN", "backup location", "not set (FIREWATCH_BACKUP_DIR)".into()),
        Some(dir) => match std::fs::metadata(dir) {
            Ok(m) if m.is_dir() && !m.permissions().readonly() => {
                line("OK", "backup location", dir.display().to_string())
            }
            _ => line("ERROR", "backup location", format!("{} is not a writable directory", dir.display())),
        },
    }
    match std::fs::create_dir_all(&config.data_dir) {
        Ok(()) => line("OK", "data directory", config.data_dir.display().to_string()),
        Err(e) => line("ERROR", "data directory", format!("{}: {e}", config.data_dir.display())),
    }

    if errors > 0 {
        println!("{errors} error(s).");
        ExitCode::FAILURE
    } else {
        println!("No errors.");
        ExitCode::SUCCESS
    }
}
