//! Per-connection SQLite settings that no PRAGMA reaches.
//!
//! Since SQLite 3.47 a bound `LIMIT ?`/`OFFSET ?` (diesel binds every limit) marks the
//! statement as depending on that value, so every execution with a new binding re-prepares
//! the statement: about a sixth of the queue's CPU went to parsing SQL a second time. The
//! query-planner stability guarantee (QPSG) tells SQLite not to plan on bound values. Diesel
//! exposes no raw handle, so the setting is applied through SQLite's auto-extension hook,
//! which runs for every connection the process opens.

use libsqlite3_sys as ffi;
use std::ffi::{c_char, c_int};
use std::sync::Once;

unsafe extern "C" fn on_open(
    db: *mut ffi::sqlite3,
    _err: *mut *mut c_char,
    _api: *const ffi::sqlite3_api_routines,
) -> c_int {
    // SAFETY: `db` is the connection SQLite is opening; ENABLE_QPSG takes an int and an
    // optional int pointer for the previous value.
    unsafe { ffi::sqlite3_db_config(db, ffi::SQLITE_DBCONFIG_ENABLE_QPSG, 1 as c_int, std::ptr::null_mut::<c_int>()) };
    ffi::SQLITE_OK
}

/// Registers the hook once, before the first SQLite connection opens.
pub fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: registering a plain function with the signature SQLite expects.
        unsafe { ffi::sqlite3_auto_extension(Some(on_open)) };
    });
}
