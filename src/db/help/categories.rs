//! Help categories, and the old addresses of renamed categories and articles.

use super::*;

// ---------- categories ----------

pub fn categories(conn: &mut DbConnection) -> DbResult<Vec<Category>> {
    Ok(help_categories::table
        .select(Category::as_select())
        .order((help_categories::position.asc(), help_categories::name.asc(), help_categories::id.asc()))
        .load(conn)?)
}

pub fn category(conn: &mut DbConnection, id: i64) -> DbResult<Category> {
    Ok(help_categories::table.find(id).select(Category::as_select()).first(conn)?)
}

pub fn category_by_slug(conn: &mut DbConnection, slug: &str) -> DbResult<Category> {
    Ok(help_categories::table.filter(help_categories::slug.eq(slug)).select(Category::as_select()).first(conn)?)
}

pub fn category_slug_taken(conn: &mut DbConnection, slug: &str, except: Option<i64>) -> DbResult<bool> {
    let mut q = help_categories::table.filter(help_categories::slug.eq(slug)).select(help_categories::id).into_boxed();
    if let Some(id) = except {
        q = q.filter(help_categories::id.ne(id));
    }
    Ok(q.first::<i64>(conn).optional()?.is_some())
}

pub fn has_children(conn: &mut DbConnection, id: i64) -> DbResult<bool> {
    Ok(help_categories::table
        .filter(help_categories::parent_id.eq(id))
        .select(help_categories::id)
        .first::<i64>(conn)
        .optional()?
        .is_some())
}

pub fn insert_category(conn: &mut DbConnection, f: &CategoryFields, now: NaiveDateTime) -> DbResult<Category> {
    Ok(diesel::insert_into(help_categories::table)
        .values((f, help_categories::created_at.eq(now), help_categories::updated_at.eq(now)))
        .returning(help_categories::all_columns)
        .get_result(conn)?)
}

pub fn update_category(conn: &mut DbConnection, id: i64, f: &CategoryFields, now: NaiveDateTime) -> DbResult<()> {
    let n =
        diesel::update(help_categories::table.find(id)).set((f, help_categories::updated_at.eq(now))).execute(conn)?;
    if n == 0 { Err(crate::db::DbError::NotFound) } else { Ok(()) }
}

/// Whether any article (of any status or audience) is in the category.
pub fn category_has_articles(conn: &mut DbConnection, id: i64) -> DbResult<bool> {
    Ok(help_articles::table
        .filter(help_articles::category_id.eq(id))
        .select(help_articles::id)
        .first::<i64>(conn)
        .optional()?
        .is_some())
}

pub fn delete_category(conn: &mut DbConnection, id: i64) -> DbResult<()> {
    diesel::delete(
        help_old_slugs::table.filter(help_old_slugs::kind.eq("category")).filter(help_old_slugs::target_id.eq(id)),
    )
    .execute(conn)?;
    let n = diesel::delete(help_categories::table.find(id)).execute(conn)?;
    if n == 0 { Err(crate::db::DbError::NotFound) } else { Ok(()) }
}

// ---------- old addresses ----------

/// Remembers that `kind` ("article" / "category") `target_id` was at `slug`. The current
/// address of anything else always wins: a slug taken again is dropped from the history
/// (`forget_old_slug`).
pub fn remember_old_slug(
    conn: &mut DbConnection,
    kind: &str,
    slug: &str,
    target_id: i64,
    now: NaiveDateTime,
) -> DbResult<()> {
    forget_old_slug(conn, kind, slug)?;
    diesel::insert_into(help_old_slugs::table)
        .values((
            help_old_slugs::kind.eq(kind),
            help_old_slugs::slug.eq(slug),
            help_old_slugs::target_id.eq(target_id),
            help_old_slugs::changed_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// The slug is in use now: it no longer leads anywhere else.
pub fn forget_old_slug(conn: &mut DbConnection, kind: &str, slug: &str) -> DbResult<()> {
    diesel::delete(help_old_slugs::table.filter(help_old_slugs::kind.eq(kind)).filter(help_old_slugs::slug.eq(slug)))
        .execute(conn)?;
    Ok(())
}

/// What used to be at `slug`, if anything.
pub fn old_slug_target(conn: &mut DbConnection, kind: &str, slug: &str) -> DbResult<Option<i64>> {
    Ok(help_old_slugs::table
        .filter(help_old_slugs::kind.eq(kind))
        .filter(help_old_slugs::slug.eq(slug))
        .select(help_old_slugs::target_id)
        .first(conn)
        .optional()?)
}
