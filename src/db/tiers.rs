//! Escalation tiers, their members and on-call rotations; the escalation log.

use super::models::Tier;
use super::schema::{escalations, oncall_members, oncall_overrides, oncall_rotations, tier_members, tiers};
use super::{DbConnection, DbResult};
use crate::domain::oncall::Rotation;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

pub fn all(conn: &mut DbConnection) -> DbResult<Vec<Tier>> {
    Ok(tiers::table.select(Tier::as_select()).order(tiers::position.asc()).load(conn)?)
}

pub fn find(conn: &mut DbConnection, id: i64) -> DbResult<Tier> {
    Ok(tiers::table.find(id).select(Tier::as_select()).first(conn)?)
}

/// Where new incidents start.
pub fn first(conn: &mut DbConnection) -> DbResult<Tier> {
    Ok(tiers::table.select(Tier::as_select()).order(tiers::position.asc()).first(conn)?)
}

pub fn rename(conn: &mut DbConnection, id: i64, name: &str, now: NaiveDateTime) -> DbResult<()> {
    diesel::update(tiers::table.find(id)).set((tiers::name.eq(name), tiers::updated_at.eq(now))).execute(conn)?;
    Ok(())
}

pub fn members(conn: &mut DbConnection, tier_id: i64) -> DbResult<Vec<i64>> {
    Ok(tier_members::table
        .filter(tier_members::tier_id.eq(tier_id))
        .select(tier_members::user_id)
        .order(tier_members::user_id.asc())
        .load(conn)?)
}

pub fn set_members(conn: &mut DbConnection, tier_id: i64, users: &[i64]) -> DbResult<()> {
    diesel::delete(tier_members::table.filter(tier_members::tier_id.eq(tier_id))).execute(conn)?;
    for u in users {
        diesel::insert_into(tier_members::table)
            .values((tier_members::tier_id.eq(tier_id), tier_members::user_id.eq(*u)))
            .execute(conn)?;
    }
    Ok(())
}

/// The tiers a user belongs to.
pub fn tiers_of(conn: &mut DbConnection, user_id: i64) -> DbResult<Vec<i64>> {
    Ok(tier_members::table.filter(tier_members::user_id.eq(user_id)).select(tier_members::tier_id).load(conn)?)
}

/// (tier id, member count) for every tier with members.
pub fn member_counts(conn: &mut DbConnection) -> DbResult<Vec<(i64, i64)>> {
    Ok(tier_members::table
        .group_by(tier_members::tier_id)
        .select((tier_members::tier_id, diesel::dsl::count_star()))
        .load(conn)?)
}

pub fn rotation(conn: &mut DbConnection, tier_id: i64) -> DbResult<Option<Rotation>> {
    let Some((shift_days, start)) = oncall_rotations::table
        .find(tier_id)
        .select((oncall_rotations::shift_days, oncall_rotations::start_date))
        .first::<(i32, NaiveDate)>(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let members = oncall_members::table
        .filter(oncall_members::tier_id.eq(tier_id))
        .order(oncall_members::position.asc())
        .select(oncall_members::user_id)
        .load(conn)?;
    let overrides = oncall_overrides::table
        .filter(oncall_overrides::tier_id.eq(tier_id))
        .order(oncall_overrides::day.asc())
        .select((oncall_overrides::day, oncall_overrides::user_id))
        .load(conn)?;
    Ok(Some(Rotation { members, shift_days: i64::from(shift_days), start, overrides }))
}

/// Replaces the tier's rotation (None removes it).
pub fn set_rotation(conn: &mut DbConnection, tier_id: i64, r: Option<&Rotation>) -> DbResult<()> {
    diesel::delete(oncall_overrides::table.filter(oncall_overrides::tier_id.eq(tier_id))).execute(conn)?;
    diesel::delete(oncall_members::table.filter(oncall_members::tier_id.eq(tier_id))).execute(conn)?;
    diesel::delete(oncall_rotations::table.find(tier_id)).execute(conn)?;
    let Some(r) = r else {
        return Ok(());
    };
    diesel::insert_into(oncall_rotations::table)
        .values((
            oncall_rotations::tier_id.eq(tier_id),
            oncall_rotations::shift_days.eq(i32::try_from(r.shift_days).unwrap_or(i32::MAX)),
            oncall_rotations::start_date.eq(r.start),
        ))
        .execute(conn)?;
    for (i, u) in r.members.iter().enumerate() {
        diesel::insert_into(oncall_members::table)
            .values((
                oncall_members::tier_id.eq(tier_id),
                oncall_members::position.eq(i32::try_from(i).unwrap_or(i32::MAX)),
                oncall_members::user_id.eq(*u),
            ))
            .execute(conn)?;
    }
    for (day, u) in &r.overrides {
        diesel::insert_into(oncall_overrides::table)
            .values((
                oncall_overrides::tier_id.eq(tier_id),
                oncall_overrides::day.eq(*day),
                oncall_overrides::user_id.eq(*u),
            ))
            .execute(conn)?;
    }
    Ok(())
}

pub struct NewEscalation<'a> {
    pub incident_id: i64,
    pub at: NaiveDateTime,
    pub actor_id: Option<i64>,
    pub from_tier_id: i64,
    pub to_tier_id: i64,
    pub reason_code: &'a str,
    pub reason_text: &'a str,
    pub automatic: bool,
}

pub fn record_escalation(conn: &mut DbConnection, e: &NewEscalation<'_>) -> DbResult<()> {
    diesel::insert_into(escalations::table)
        .values((
            escalations::incident_id.eq(e.incident_id),
            escalations::at.eq(e.at),
            escalations::actor_id.eq(e.actor_id),
            escalations::from_tier_id.eq(e.from_tier_id),
            escalations::to_tier_id.eq(e.to_tier_id),
            escalations::reason_code.eq(e.reason_code),
            escalations::reason_text.eq(e.reason_text),
            escalations::automatic.eq(e.automatic),
        ))
        .execute(conn)?;
    Ok(())
}
