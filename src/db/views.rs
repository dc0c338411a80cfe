//! Saved queue views: a user's own and the shared ones.

use super::schema::saved_views;
use super::{DbConnection, DbResult};
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = saved_views)]
pub struct SavedView {
    pub id: i64,
    pub name: String,
    /// The queue's query string, without paging.
    pub query: String,
    /// `None`: shared with all staff.
    pub owner_id: Option<i64>,
    pub created_by: Option<i64>,
    pub created_at: NaiveDateTime,
}

pub fn insert(
    conn: &mut DbConnection,
    name: &str,
    query: &str,
    owner_id: Option<i64>,
    by: i64,
    now: NaiveDateTime,
) -> DbResult<SavedView> {
    Ok(diesel::insert_into(saved_views::table)
        .values((
            saved_views::name.eq(name),
            saved_views::query.eq(query),
            saved_views::owner_id.eq(owner_id),
            saved_views::created_by.eq(Some(by)),
            saved_views::created_at.eq(now),
        ))
        .returning(saved_views::all_columns)
        .get_result(conn)?)
}

pub fn find(conn: &mut DbConnection, id: i64) -> DbResult<SavedView> {
    Ok(saved_views::table.find(id).select(SavedView::as_select()).first(conn)?)
}

pub fn delete(conn: &mut DbConnection, id: i64) -> DbResult<()> {
    diesel::delete(saved_views::table.find(id)).execute(conn)?;
    Ok(())
}

/// The shared views (when `with_shared`) and the user's own, shared first, by name.
pub fn visible_to(conn: &mut DbConnection, user_id: i64, with_shared: bool) -> DbResult<Vec<SavedView>> {
    let mut q = saved_views::table.select(SavedView::as_select()).into_boxed();
    q = if with_shared {
        q.filter(saved_views::owner_id.is_null().or(saved_views::owner_id.eq(user_id)))
    } else {
        q.filter(saved_views::owner_id.eq(user_id))
    };
    Ok(q.order((saved_views::owner_id.is_not_null(), saved_views::name.asc(), saved_views::id.asc())).load(conn)?)
}
