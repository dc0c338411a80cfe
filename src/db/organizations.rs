use super::models::Organization;
use super::schema::organizations;
use super::users::{escape_like, lower};
use super::{DbConnection, DbResult};
use chrono::NaiveDateTime;
use diesel::prelude::*;

pub fn insert(
    conn: &mut DbConnection,
    name: &str,
    email_domains: &str,
    share_incidents: bool,
    now: NaiveDateTime,
) -> DbResult<Organization> {
    Ok(diesel::insert_into(organizations::table)
        .values((
            organizations::name.eq(name),
            organizations::email_domains.eq(email_domains),
            organizations::share_incidents.eq(share_incidents),
            organizations::created_at.eq(now),
            organizations::updated_at.eq(now),
        ))
        .returning(organizations::all_columns)
        .get_result(conn)?)
}

pub fn update(
    conn: &mut DbConnection,
    id: i64,
    name: &str,
    email_domains: &str,
    share_incidents: bool,
    now: NaiveDateTime,
) -> DbResult<Organization> {
    Ok(diesel::update(organizations::table.find(id))
        .set((
            organizations::name.eq(name),
            organizations::email_domains.eq(email_domains),
            organizations::share_incidents.eq(share_incidents),
            organizations::updated_at.eq(now),
        ))
        .returning(organizations::all_columns)
        .get_result(conn)?)
}

pub fn find(conn: &mut DbConnection, id: i64) -> DbResult<Organization> {
    Ok(organizations::table.find(id).select(Organization::as_select()).first(conn)?)
}

/// Organizations by name; with a query, those whose name or domains contain it.
pub fn list(conn: &mut DbConnection, query: &str, limit: i64) -> DbResult<Vec<Organization>> {
    let mut q = organizations::table.select(Organization::as_select()).into_boxed();
    let query = query.trim().to_lowercase();
    if !query.is_empty() {
        let pattern = format!("%{}%", escape_like(&query));
        q = q.filter(
            lower(organizations::name)
                .like(pattern.clone())
                .escape('\\')
                .or(organizations::email_domains.like(pattern).escape('\\')),
        );
    }
    Ok(q.order((organizations::name.asc(), organizations::id.asc())).limit(limit).load(conn)?)
}

/// All organizations (id, name), for select boxes.
pub fn names(conn: &mut DbConnection) -> DbResult<Vec<(i64, String)>> {
    Ok(organizations::table
        .select((organizations::id, organizations::name))
        .order(organizations::name.asc())
        .load(conn)?)
}

pub fn member_counts(conn: &mut DbConnection) -> DbResult<Vec<(Option<i64>, i64)>> {
    use super::schema::users;
    Ok(users::table
        .group_by(users::organization_id)
        .select((users::organization_id, diesel::dsl::count_star()))
        .load(conn)?)
}

/// The organization that lists this email domain.
pub fn by_domain(conn: &mut DbConnection, domain: &str) -> DbResult<Option<Organization>> {
    let domain = domain.trim().to_lowercase();
    if domain.is_empty() {
        return Ok(None);
    }
    let pattern = format!("%{}%", escape_like(&domain));
    let candidates: Vec<Organization> = organizations::table
        .filter(organizations::email_domains.like(pattern).escape('\\'))
        .select(Organization::as_select())
        .order(organizations::id.asc())
        .load(conn)?;
    Ok(candidates.into_iter().find(|o| o.email_domains.split(',').any(|d| d.trim() == domain)))
}
