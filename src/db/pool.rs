//! The connection pool: r2d2 with a manager that opens the chosen backend only, and a check of
//! PostgreSQL connections on checkout that costs no round trip in the common case.
//!
//! r2d2 checks a connection on every checkout with a query of its own (`SELECT 1`): on
//! PostgreSQL a network round trip before each request's real work, two per page (session and
//! page). Here a connection is pinged only when it may have died unseen: it sat idle for longer
//! than `PING_AFTER_IDLE`, it was never pinged, or some connection of this process lost its
//! server since this one was last used (a server restart kills them all). A failed ping marks
//! the connection broken so that the pool discards it, and the checkout takes another.

use super::{Backend, DbConnection};
use diesel::connection::{SimpleConnection, TransactionManager};
use diesel::r2d2::{CustomizeConnection, ManageConnection, Pool, PooledConnection};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub type DbPool = Pool<Manager>;

const PING_AFTER_IDLE: Duration = Duration::from_secs(5);

/// Counts connections found dead (a query failed because the server closed the connection or
/// could not be reached). A change tells every pooled connection to be checked before use.
static LOSSES: AtomicU64 = AtomicU64::new(0);

/// Called where query errors are classified: the connection behind this error is gone.
pub(super) fn note_lost_connection() {
    LOSSES.fetch_add(1, Ordering::Relaxed);
}

/// When a connection was last handed back, and how many losses the process had seen by then.
#[derive(Clone, Copy)]
struct LastUse {
    at: Instant,
    losses: u64,
}

/// The r2d2 manager: opens connections of the chosen backend only (the derived
/// `MultiConnection::establish` would try every backend in turn and hide the real error).
#[derive(Debug)]
pub struct Manager {
    pub(super) backend: Backend,
    pub(super) url: String,
}

impl ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<DbConnection, Self::Error> {
        super::connect_once(self.backend, &self.url)
            .map_err(|e| diesel::r2d2::Error::ConnectionError(diesel::ConnectionError::BadConnection(e.to_string())))
    }

    /// Only for r2d2's own use; checkouts are checked by `checkout` below.
    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), Self::Error> {
        conn.batch_execute("SELECT 1").map_err(diesel::r2d2::Error::QueryError)
    }

    /// A connection left inside a transaction, or whose transaction state is unknown (a failed
    /// rollback, a failed ping below), is not handed out again.
    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        std::thread::panicking()
            || match conn {
                DbConnection::Sqlite(c) => diesel::connection::AnsiTransactionManager::is_broken_transaction_manager(c),
                DbConnection::Pg(c) => diesel::connection::AnsiTransactionManager::is_broken_transaction_manager(c),
            }
    }
}

#[derive(Debug)]
pub(super) struct ConnectionSetup;

impl CustomizeConnection<DbConnection, diesel::r2d2::Error> for ConnectionSetup {
    fn on_acquire(&self, conn: &mut DbConnection) -> Result<(), diesel::r2d2::Error> {
        if let DbConnection::Sqlite(c) = conn {
            c.batch_execute(
                "PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON; \
                 PRAGMA synchronous = NORMAL; PRAGMA temp_store = MEMORY; \
                 PRAGMA cache_size = -32768; PRAGMA mmap_size = 1073741824;",
            )
            .map_err(diesel::r2d2::Error::QueryError)?;
        }
        if let DbConnection::Pg(c) = conn {
            // Starting parallel workers took about 10 ms, longer than the short statements of a
            // page they were planned to split (a search walk of 2 ms became 15 ms), and JIT
            // compiling costs more than these statements take. Reports read packed facts.
            c.batch_execute("SET max_parallel_workers_per_gather = 0; SET jit = off")
                .map_err(diesel::r2d2::Error::QueryError)?;
        }
        Ok(())
    }
}

pub(super) fn build(manager: Manager, max_size: u32) -> Result<DbPool, diesel::r2d2::PoolError> {
    Pool::builder()
        .max_size(max_size)
        .connection_timeout(Duration::from_secs(10))
        .test_on_check_out(false)
        .connection_customizer(Box::new(ConnectionSetup))
        .build(manager)
}

/// A connection out of the pool; derefs to the connection.
pub struct PooledConn(PooledConnection<Manager>);

impl std::ops::Deref for PooledConn {
    type Target = DbConnection;
    fn deref(&self) -> &DbConnection {
        &self.0
    }
}

impl std::ops::DerefMut for PooledConn {
    fn deref_mut(&mut self) -> &mut DbConnection {
        &mut self.0
    }
}

impl Drop for PooledConn {
    fn drop(&mut self) {
        let stamp = LastUse { at: Instant::now(), losses: LOSSES.load(Ordering::Relaxed) };
        PooledConnection::extensions_mut(&mut self.0).insert(stamp);
    }
}

/// Takes a connection from the pool, checking it first when it may have died unseen. Gives up
/// after as many dead connections as the pool holds (then the server itself is down).
pub(super) fn checkout(pool: &DbPool, wait: bool) -> Result<Option<PooledConn>, diesel::r2d2::PoolError> {
    let attempts = pool.max_size() + 1;
    for _ in 0..attempts {
        let mut conn = if wait {
            pool.get()?
        } else {
            match pool.try_get() {
                Some(c) => c,
                None => return Ok(None),
            }
        };
        if !matches!(&*conn, DbConnection::Pg(_)) {
            // A SQLite connection is a file handle: it cannot be closed from the other side.
            return Ok(Some(PooledConn(conn)));
        }
        let suspect = match PooledConnection::extensions(&conn).get::<LastUse>() {
            None => true,
            Some(last) => last.at.elapsed() >= PING_AFTER_IDLE || last.losses != LOSSES.load(Ordering::Relaxed),
        };
        if !suspect || conn.batch_execute("SELECT 1").is_ok() {
            return Ok(Some(PooledConn(conn)));
        }
        note_lost_connection();
        // Marks the connection broken: `has_broken` then makes the pool discard it on return.
        if let DbConnection::Pg(pg) = &mut *conn {
            diesel::connection::AnsiTransactionManager::transaction_manager_status_mut(pg).set_in_error();
        }
        drop(conn);
    }
    // Every connection tried was dead: one more, fresh or not, and its error is the answer.
    Ok(Some(PooledConn(pool.get()?)))
}
