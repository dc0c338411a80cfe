//! Help feedback: votes on articles, and suggestion opens that count as deflections.

use super::*;

// ---------- votes ----------

pub fn vote_of(conn: &mut DbConnection, article_id: i64, voter: &str) -> DbResult<Option<Vote>> {
    Ok(help_votes::table
        .filter(help_votes::article_id.eq(article_id))
        .filter(help_votes::voter.eq(voter))
        .select(Vote::as_select())
        .first(conn)
        .optional()?)
}

pub struct NewVote<'a> {
    pub article_id: i64,
    pub voter: &'a str,
    pub user_id: Option<i64>,
    pub helpful: bool,
    pub comment: &'a str,
    /// HMAC of the IP address for anonymous votes; empty for signed-in users.
    pub ip_hash: &'a str,
    pub now: NaiveDateTime,
}

pub fn insert_vote(conn: &mut DbConnection, v: &NewVote<'_>) -> DbResult<()> {
    diesel::insert_into(help_votes::table)
        .values((
            help_votes::article_id.eq(v.article_id),
            help_votes::voter.eq(v.voter),
            help_votes::user_id.eq(v.user_id),
            help_votes::helpful.eq(v.helpful),
            help_votes::comment.eq(v.comment),
            help_votes::created_at.eq(v.now),
            help_votes::updated_at.eq(v.now),
            help_votes::ip_hash.eq(v.ip_hash),
        ))
        .execute(conn)?;
    Ok(())
}

/// How many anonymous votes on the article came from this (hashed) IP address since `since`.
pub fn anonymous_votes_from(
    conn: &mut DbConnection,
    article_id: i64,
    ip_hash: &str,
    since: NaiveDateTime,
) -> DbResult<i64> {
    Ok(help_votes::table
        .filter(help_votes::article_id.eq(article_id))
        .filter(help_votes::ip_hash.eq(ip_hash))
        .filter(help_votes::created_at.ge(since))
        .filter(help_votes::user_id.is_null())
        .count()
        .get_result(conn)?)
}

pub fn change_vote(conn: &mut DbConnection, id: i64, helpful: bool, comment: &str, now: NaiveDateTime) -> DbResult<()> {
    diesel::update(help_votes::table.find(id))
        .set((help_votes::helpful.eq(helpful), help_votes::comment.eq(comment), help_votes::updated_at.eq(now)))
        .execute(conn)?;
    Ok(())
}

/// Yes/no counts per article, for the given articles (all when `ids` is None).
pub fn ratings(conn: &mut DbConnection, ids: Option<&[i64]>) -> DbResult<HashMap<i64, Rating>> {
    let rows: Vec<(i64, bool, i64)> = match ids {
        Some([]) => return Ok(HashMap::new()),
        Some(ids) => help_votes::table
            .filter(help_votes::article_id.eq_any(ids.to_vec()))
            .group_by((help_votes::article_id, help_votes::helpful))
            .select((help_votes::article_id, help_votes::helpful, diesel::dsl::count_star()))
            .load(conn)?,
        None => help_votes::table
            .group_by((help_votes::article_id, help_votes::helpful))
            .select((help_votes::article_id, help_votes::helpful, diesel::dsl::count_star()))
            .load(conn)?,
    };
    let mut out: HashMap<i64, Rating> = HashMap::new();
    for (id, helpful, n) in rows {
        let r = out.entry(id).or_default();
        if helpful {
            r.yes += n;
        } else {
            r.no += n;
        }
    }
    Ok(out)
}

/// The latest "No" answers that came with a comment: (article id, comment, when).
pub fn recent_complaints(conn: &mut DbConnection, limit: i64) -> DbResult<Vec<(i64, String, NaiveDateTime)>> {
    Ok(help_votes::table
        .filter(help_votes::helpful.eq(false))
        .filter(help_votes::comment.ne(""))
        .select((help_votes::article_id, help_votes::comment, help_votes::updated_at))
        .order((help_votes::updated_at.desc(), help_votes::id.desc()))
        .limit(limit)
        .load(conn)?)
}

// ---------- suggestion opens (deflection) ----------

pub fn insert_open(conn: &mut DbConnection, article_id: i64, user_id: i64, now: NaiveDateTime) -> DbResult<()> {
    diesel::insert_into(help_suggestion_opens::table)
        .values((
            help_suggestion_opens::article_id.eq(article_id),
            help_suggestion_opens::user_id.eq(user_id),
            help_suggestion_opens::opened_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// The user filed an incident: their opens since `since` were not deflections after all.
pub fn settle_opens(conn: &mut DbConnection, user_id: i64, since: NaiveDateTime, incident_id: i64) -> DbResult<usize> {
    Ok(diesel::update(
        help_suggestion_opens::table
            .filter(help_suggestion_opens::user_id.eq(user_id))
            .filter(help_suggestion_opens::incident_id.is_null())
            .filter(help_suggestion_opens::opened_at.ge(since)),
    )
    .set(help_suggestion_opens::incident_id.eq(Some(incident_id)))
    .execute(conn)?)
}

/// What became of the suggestions opened from the new-incident form, per article.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Deflection {
    pub opens: i64,
    /// No incident from the same user within the window, and the window is over.
    pub deflected: i64,
    /// The user filed an incident within the window.
    pub filed: i64,
}

#[derive(QueryableByName)]
struct DeflectionRow {
    #[diesel(sql_type = BigInt)]
    article_id: i64,
    #[diesel(sql_type = BigInt)]
    opens: i64,
    #[diesel(sql_type = BigInt)]
    deflected: i64,
    #[diesel(sql_type = BigInt)]
    filed: i64,
}

/// Deflection counts per article; `window_closed_before` is now minus the window (opens after
/// it are still undecided). One grouped query, the same SQL on both engines.
pub fn deflections(
    conn: &mut DbConnection,
    window_closed_before: NaiveDateTime,
    article: Option<i64>,
) -> DbResult<HashMap<i64, Deflection>> {
    let sql = format!(
        "SELECT article_id, COUNT(*) AS opens, \
           COALESCE(SUM(CASE WHEN incident_id IS NULL AND opened_at <= $1 THEN 1 ELSE 0 END), 0) AS deflected, \
           COALESCE(SUM(CASE WHEN incident_id IS NOT NULL THEN 1 ELSE 0 END), 0) AS filed \
         FROM help_suggestion_opens {} GROUP BY article_id",
        if article.is_some() { "WHERE article_id = $2" } else { "" }
    );
    let q = diesel::sql_query(sql).bind::<Timestamp, _>(window_closed_before);
    let rows: Vec<DeflectionRow> = match article {
        Some(id) => q.bind::<BigInt, _>(id).load(conn)?,
        None => q.load(conn)?,
    };
    Ok(rows
        .into_iter()
        .map(|r| (r.article_id, Deflection { opens: r.opens, deflected: r.deflected, filed: r.filed }))
        .collect())
}
