use super::models::Service;
use super::schema::services;
use super::{DbConnection, DbResult};
use chrono::NaiveDateTime;
use diesel::prelude::*;

pub fn insert(
    conn: &mut DbConnection,
    name: &str,
    description: &str,
    active: bool,
    now: NaiveDateTime,
) -> DbResult<Service> {
    Ok(diesel::insert_into(services::table)
        .values((
            services::name.eq(name),
            services::description.eq(description),
            services::active.eq(active),
            services::created_at.eq(now),
            services::updated_at.eq(now),
        ))
        .returning(services::all_columns)
        .get_result(conn)?)
}

pub fn update(
    conn: &mut DbConnection,
    id: i64,
    name: &str,
    description: &str,
    active: bool,
    now: NaiveDateTime,
) -> DbResult<Service> {
    Ok(diesel::update(services::table.find(id))
        .set((
            services::name.eq(name),
            services::description.eq(description),
            services::active.eq(active),
            services::updated_at.eq(now),
        ))
        .returning(services::all_columns)
        .get_result(conn)?)
}

pub fn find(conn: &mut DbConnection, id: i64) -> DbResult<Service> {
    Ok(services::table.find(id).select(Service::as_select()).first(conn)?)
}

/// Every service by name (a deployment has tens, not thousands).
pub fn all(conn: &mut DbConnection) -> DbResult<Vec<Service>> {
    Ok(services::table.select(Service::as_select()).order((services::name.asc(), services::id.asc())).load(conn)?)
}
