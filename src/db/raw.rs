//! SQL text written per engine (search's statements), run as a prepared statement the
//! connection keeps. `diesel::sql_query` marks every statement as not to be cached: on
//! PostgreSQL each use was then a parse and an execute, two round trips, instead of one execute.
//! The text must be fixed per shape (no values in it): the cache keys statements by their SQL.

use diesel::backend::Backend;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{BigInt, HasSqlType, Text, Untyped};
use diesel::{QueryResult, RunQueryDsl};

/// A value bound to a placeholder.
#[derive(Debug, Clone)]
pub(crate) enum Bind {
    Text(String),
    BigInt(i64),
}

/// A statement whose placeholders are `?` (SQLite, bound in order) or `$n` (PostgreSQL, the
/// n-th bind, which may appear several times).
#[derive(Debug, Clone)]
pub(crate) struct Raw {
    sql: String,
    binds: Vec<Bind>,
    numbered: bool,
}

impl Raw {
    /// SQLite's text, `?` placeholders.
    pub fn sqlite(sql: String) -> Raw {
        Raw { sql, binds: Vec::new(), numbered: false }
    }

    /// PostgreSQL's text, `$n` placeholders.
    pub fn pg(sql: String) -> Raw {
        Raw { sql, binds: Vec::new(), numbered: true }
    }

    pub fn bind(mut self, b: Bind) -> Raw {
        self.binds.push(b);
        self
    }

    /// The text split at its placeholders: (SQL before, index of the bind).
    fn pieces(&self) -> (Vec<(&str, usize)>, &str) {
        let mut out = Vec::new();
        let (bytes, mut start, mut i, mut next) = (self.sql.as_bytes(), 0, 0, 0);
        while i < bytes.len() {
            if !self.numbered && bytes[i] == b'?' {
                out.push((&self.sql[start..i], next));
                next += 1;
                i += 1;
                start = i;
            } else if self.numbered && bytes[i] == b'$' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit) {
                let digits = bytes[i + 1..].iter().take_while(|b| b.is_ascii_digit()).count();
                let n: usize = self.sql[i + 1..i + 1 + digits].parse().unwrap_or(0);
                out.push((&self.sql[start..i], n.saturating_sub(1)));
                i += 1 + digits;
                start = i;
            } else {
                i += 1;
            }
        }
        (out, &self.sql[start..])
    }
}

impl QueryId for Raw {
    type QueryId = ();
    // Keyed by its SQL text.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for Raw {
    type SqlType = Untyped;
}

impl<Conn> RunQueryDsl<Conn> for Raw {}

impl<DB> QueryFragment<DB> for Raw
where
    DB: Backend + HasSqlType<Text> + HasSqlType<BigInt>,
    String: ToSql<Text, DB>,
    i64: ToSql<BigInt, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        let (pieces, tail) = self.pieces();
        for (sql, n) in pieces {
            out.push_sql(sql);
            match self.binds.get(n) {
                Some(Bind::Text(s)) => out.push_bind_param::<Text, String>(s)?,
                Some(Bind::BigInt(v)) => out.push_bind_param::<BigInt, i64>(v)?,
                None => return Err(diesel::result::Error::QueryBuilderError("a placeholder without a value".into())),
            }
        }
        out.push_sql(tail);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_placeholders_name_their_bind_and_may_repeat() {
        let r = Raw::pg("a $1 b $2 c $1 d $10".into());
        let (pieces, tail) = r.pieces();
        assert_eq!(pieces, vec![("a ", 0), (" b ", 1), (" c ", 0), (" d ", 9)]);
        assert_eq!(tail, "");
    }

    #[test]
    fn question_marks_bind_in_order_and_dollars_stay_text_on_sqlite() {
        let r = Raw::sqlite("x = ? AND y = ? AND z = '$1'".into());
        let (pieces, tail) = r.pieces();
        assert_eq!(pieces, vec![("x = ", 0), (" AND y = ", 1)]);
        assert_eq!(tail, " AND z = '$1'");
    }
}
