//! The database layer: the only module that knows there are two backends.

pub mod attachments;
pub mod audit;
pub mod bugs;
pub mod bulk;
pub mod help;
pub mod history;
pub mod inbound;
pub mod incidents;
pub mod login_throttle;
pub mod macros;
pub mod models;
pub mod organizations;
pub mod outbox;
pub mod password_resets;
mod pool;
pub mod problems;
pub mod queue;
mod raw;
pub mod releases;
pub mod reports;
pub mod schema;
pub mod search;
pub mod services;
pub mod sessions;
pub mod settings;
pub mod setup_tokens;
pub mod similar;
pub mod sla;
pub mod snippets;
mod sqlite_setup;
pub mod status_page;
pub mod tiers;
pub mod users;
pub mod views;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Sqlite(diesel::SqliteConnection),
    Pg(diesel::PgConnection),
}

pub use pool::{DbPool, Manager, PooledConn};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("not found")]
    NotFound,
    #[error("already exists")]
    Conflict,
    #[error(transparent)]
    Query(diesel::result::Error),
    #[error("database pool: {0}")]
    Pool(#[from] diesel::r2d2::PoolError),
    #[error("database connection: {0}")]
    Connection(String),
    #[error("migrations: {0}")]
    Migration(String),
    #[error("stored data cannot be read: {0}")]
    Corrupt(String),
}

impl From<diesel::result::Error> for DbError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match e {
            Error::NotFound => DbError::NotFound,
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => DbError::Conflict,
            Error::DatabaseError(DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand, _) => {
                pool::note_lost_connection();
                DbError::Query(e)
            }
            // The first statement on a connection whose backend was terminated gets the
            // server's farewell (SQLSTATE 57P01, which diesel does not classify), not a closed
            // connection: without noting it, each pooled connection would fail a request in turn.
            Error::DatabaseError(DatabaseErrorKind::Unknown, ref info) if connection_farewell(info.message()) => {
                pool::note_lost_connection();
                DbError::Query(e)
            }
            other => DbError::Query(other),
        }
    }
}

/// Messages PostgreSQL sends as it ends a connection (administrator or crash shutdown,
/// restart) and libpq's when the socket closed under it.
fn connection_farewell(message: &str) -> bool {
    ["terminating connection", "server closed the connection", "the database system is shutting down"]
        .iter()
        .any(|m| message.contains(m))
}

pub type DbResult<T> = Result<T, DbError>;

/// Picks the backend from the URL: `postgres://`/`postgresql://` → PostgreSQL; `sqlite://PATH`
/// or a plain path → SQLite. Returns the backend and the URL the driver wants.
pub fn classify_url(url: &str) -> (Backend, String) {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        (Backend::Postgres, url.to_string())
    } else if let Some(path) = url.strip_prefix("sqlite://") {
        (Backend::Sqlite, path.to_string())
    } else if let Some(path) = url.strip_prefix("sqlite:") {
        (Backend::Sqlite, path.to_string())
    } else {
        (Backend::Sqlite, url.to_string())
    }
}

/// Opens one connection of the right kind directly, so a bad URL reports the driver's own error
/// instead of the MultiConnection's "invalid connection url".
fn connect_once(backend: Backend, url: &str) -> DbResult<DbConnection> {
    match backend {
        Backend::Sqlite => {
            sqlite_setup::install();
            diesel::SqliteConnection::establish(url)
                .map(DbConnection::Sqlite)
                .map_err(|e| DbError::Connection(format!("SQLite {url}: {e}")))
        }
        Backend::Postgres => diesel::PgConnection::establish(url)
            .map(DbConnection::Pg)
            .map_err(|e| DbError::Connection(format!("PostgreSQL: {e}"))),
    }
}

/// A pool plus what the rest of the app needs to know about it.
#[derive(Clone)]
pub struct Database {
    pub pool: DbPool,
    pub backend: Backend,
}

impl Database {
    /// Connects (creating the SQLite file's directory if needed) and checks the URL up front.
    pub fn connect(url: &str, max_size: u32) -> DbResult<Self> {
        let (backend, driver_url) = classify_url(url);
        if backend == Backend::Sqlite
            && let Some(parent) = std::path::Path::new(&driver_url).parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent)
                .map_err(|e| DbError::Connection(format!("cannot create {}: {e}", parent.display())))?;
        }
        let mut first = connect_once(backend, &driver_url)?;
        if let DbConnection::Sqlite(c) = &mut first {
            // The journal mode is a property of the file and switching it takes an exclusive
            // lock: set it once here, before the pool opens its connections side by side.
            c.batch_execute("PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL;")?;
        }
        drop(first);
        let manager = Manager { backend, url: driver_url };
        let pool = pool::build(manager, max_size)?;
        Ok(Self { pool, backend })
    }

    pub fn get(&self) -> DbResult<PooledConn> {
        pool::checkout(&self.pool, true)?.ok_or(DbError::Connection("no connection".into()))
    }

    /// A connection if one is free right now, without waiting.
    pub fn try_get(&self) -> Option<PooledConn> {
        pool::checkout(&self.pool, false).ok().flatten()
    }

    /// Applies pending migrations of this backend's tree. Returns how many ran.
    pub fn migrate(&self) -> DbResult<usize> {
        let mut conn = self.get()?;
        run_migrations(&mut conn)
    }

    /// True when every embedded migration has been applied.
    pub fn migrations_current(&self) -> DbResult<bool> {
        let mut conn = self.get()?;
        let pending = match &mut *conn {
            DbConnection::Sqlite(c) => c.has_pending_migration(SQLITE_MIGRATIONS),
            DbConnection::Pg(c) => c.has_pending_migration(POSTGRES_MIGRATIONS),
        }
        .map_err(|e| DbError::Migration(e.to_string()))?;
        Ok(!pending)
    }
}

pub fn run_migrations(conn: &mut DbConnection) -> DbResult<usize> {
    let applied = match conn {
        DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
        DbConnection::Pg(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS).map(|v| v.len()),
    }
    .map_err(|e| DbError::Migration(e.to_string()))?;
    Ok(applied)
}

/// After a bulk load: merges the full-text index (SQLite's into one segment, since a bulk load
/// leaves hundreds and every search pays for each; PostgreSQL's pending GIN entries into the
/// index) and refreshes the planner's statistics. PostgreSQL also vacuums: rows written by one
/// large transaction carry no visibility hints yet, so until a vacuum every read of them checks
/// the transaction's outcome and dirties the page, and index-only scans visit the table (the
/// queue at 100k: 618 requests/s before, 742 after). Not inside a transaction.
pub fn analyze(conn: &mut DbConnection) -> DbResult<()> {
    match conn {
        DbConnection::Sqlite(c) => {
            c.batch_execute("INSERT INTO search_fts (search_fts) VALUES ('optimize'); ANALYZE")?
        }
        DbConnection::Pg(c) => {
            // Two messages: several statements in one run as a transaction, where VACUUM may not.
            c.batch_execute("SELECT gin_clean_pending_list('search_docs_tsv'::regclass)")?;
            c.batch_execute("VACUUM (ANALYZE)")?
        }
    }
    Ok(())
}

/// Runs `f` in a transaction that may write. On SQLite it starts as `BEGIN IMMEDIATE`: a
/// deferred transaction that reads first and writes later is refused at once (SQLITE_BUSY,
/// the busy timeout never applies) when another writer holds the lock, while an immediate
/// one queues behind the busy timeout. PostgreSQL keeps its normal transaction. Nested
/// `Connection::transaction` calls inside `f` become savepoints as usual.
pub fn write_transaction<T, E, F>(conn: &mut DbConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    let DbConnection::Sqlite(inner) = conn else {
        return conn.transaction(f);
    };
    AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")?;
    // From here the connection's own manager sees the open transaction (it delegates to the
    // SQLite one), so it commits or rolls back exactly as `Connection::transaction` would.
    type Tm = <DbConnection as Connection>::TransactionManager;
    match f(conn) {
        Ok(value) => {
            Tm::commit_transaction(conn)?;
            Ok(value)
        }
        Err(user_error) => match Tm::rollback_transaction(conn) {
            Ok(()) | Err(diesel::result::Error::BrokenTransactionManager) => Err(user_error),
            Err(rollback_error) => Err(rollback_error.into()),
        },
    }
}

/// `<column> IN (…)` with the ids as one JSON parameter. The statement has one shape whatever
/// the list's length, so the connection's statement cache keeps it (an `IN (?, ?, …)` list is
/// prepared anew for every length), and ten thousand ids are still one bound value. `column`
/// is SQL written in this crate, never user input.
pub(crate) fn in_ids<QS: 'static>(
    conn: &DbConnection,
    column: &'static str,
    ids: &[i64],
) -> Box<dyn BoxableExpression<QS, MultiBackend, SqlType = diesel::sql_types::Bool>> {
    Box::new(InIds {
        column,
        json: serde_json::to_string(ids).unwrap_or_else(|_| "[]".into()),
        pg: matches!(conn, DbConnection::Pg(_)),
    })
}

/// The expression `in_ids` builds. Written out rather than with `dsl::sql`, which marks every
/// statement holding it as not to be cached: on PostgreSQL that made each such statement a
/// parse and an execute (two round trips) on every page, instead of one execute.
#[derive(Debug, Clone)]
struct InIds {
    column: &'static str,
    json: String,
    pg: bool,
}

impl Expression for InIds {
    type SqlType = diesel::sql_types::Bool;
}

impl<QS> AppearsOnTable<QS> for InIds {}

impl<QS> SelectableExpression<QS> for InIds {}

impl diesel::expression::ValidGrouping<()> for InIds {
    type IsAggregate = diesel::expression::is_aggregate::Never;
}

impl diesel::query_builder::QueryId for InIds {
    type QueryId = ();
    // The text differs by column: the cache keys it by its SQL.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl diesel::query_builder::QueryFragment<MultiBackend> for InIds {
    fn walk_ast<'b>(&'b self, mut out: diesel::query_builder::AstPass<'_, 'b, MultiBackend>) -> QueryResult<()> {
        let (head, tail) = if self.pg {
            (" IN (SELECT (jsonb_array_elements_text(CAST(", " AS jsonb)))::bigint)")
        } else {
            (" IN (SELECT value FROM json_each(", "))")
        };
        out.push_sql(self.column);
        out.push_sql(head);
        out.push_bind_param::<diesel::sql_types::Text, String>(&self.json)?;
        out.push_sql(tail);
        Ok(())
    }
}

/// Takes the named job's lock for the current transaction on PostgreSQL (several app
/// instances share one database); SQLite runs a single instance, so it always succeeds there.
pub fn try_job_lock(conn: &mut DbConnection, job: i64) -> DbResult<bool> {
    #[derive(diesel::QueryableByName)]
    struct Locked {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        locked: bool,
    }
    match conn {
        DbConnection::Sqlite(_) => Ok(true),
        DbConnection::Pg(c) => {
            let r: Locked = diesel::sql_query("SELECT pg_try_advisory_xact_lock($1) AS locked")
                .bind::<diesel::sql_types::BigInt, _>(job)
                .get_result(c)?;
            Ok(r.locked)
        }
    }
}

/// Ping for /readyz.
pub fn ping(conn: &mut DbConnection) -> DbResult<()> {
    diesel::sql_query("SELECT 1").execute(conn)?;
    Ok(())
}
