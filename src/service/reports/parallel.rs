//! Two independent reads of one report at the same time, each on its own connection: a report
//! page takes the time of the slower half on a machine with a core to spare.

use crate::db::{Database, DbConnection};
use crate::service::{ServiceError, ServiceResult};

/// Runs `a` on `conn` and `b` on a second connection alongside. When the pool has no
/// connection free right now (a busy server, where the cores are taken anyway), `b` runs after
/// `a` on `conn`: a request never waits for a second connection, so requests cannot hold one
/// each while waiting for another.
pub(super) fn together<A, B: Send>(
    db: &Database,
    conn: &mut DbConnection,
    a: impl FnOnce(&mut DbConnection) -> ServiceResult<A>,
    b: impl FnOnce(&mut DbConnection) -> ServiceResult<B> + Send,
) -> ServiceResult<(A, B)> {
    let Some(mut spare) = db.try_get() else {
        let a = a(conn)?;
        return Ok((a, b(conn)?));
    };
    std::thread::scope(|s| {
        let side = s.spawn(move || b(&mut spare));
        let a = a(conn);
        let b = side.join().map_err(|_| ServiceError::Internal("a report read failed".into()))?;
        Ok((a?, b?))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_second_read_runs_alongside_when_a_connection_is_free_and_after_otherwise() {
        for size in [1, 2] {
            let dir = tempfile::tempdir().expect("temp dir");
            let path = dir.path().join("t.db");
            let db = Database::connect(&path.to_string_lossy(), size).expect("connect");
            let mut conn = db.get().expect("conn");
            let here = std::thread::current().id();
            let id = |_: &mut DbConnection| Ok(std::thread::current().id());
            let (a, b) = together(&db, &mut conn, id, id).expect("both run");
            assert_eq!(a, here);
            assert_eq!(b == here, size == 1, "pool of {size}");
            let failed = together(&db, &mut conn, |_| Ok(1), |_| -> ServiceResult<i32> { Err(ServiceError::NotFound) });
            assert!(matches!(failed, Err(ServiceError::NotFound)), "pool of {size}: the error comes back");
        }
    }
}
