//! The byte layout of a fact pack, by column: a version byte, the number of facts, the byte
//! length of each column, then the columns. A column holds one variable-length integer (or one
//! length-prefixed text) per fact: ids as the step from the previous fact's id, the creation
//! moment from the pack's day, the other moments from the creation moment. A report decodes
//! only the columns it reads (`Pack::columns`), each in one tight loop.

use super::facts::FactRow;

const VERSION: u8 = 3;

/// The columns of a pack, in their order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Col {
    Id,
    Created,
    Acknowledged,
    FirstResolved,
    Reopened,
    DoneSince,
    DoneSpans,
    Service,
    Organization,
    Assignee,
    Tier,
    Severity,
    BusinessMttr,
    FrMet,
    FrBreach,
    FrDue,
    FrWarn,
    FrOutcome,
    ResMet,
    ResBreach,
    ResDue,
    ResWarn,
    ResOutcome,
    Paused,
    WaitingSince,
    StartTier,
    TopTier,
    TierStints,
    Moves,
}

const COLS: usize = 29;

/// How a column stores its values.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Form {
    /// The step from the previous fact's value.
    Step,
    /// From the start of the pack's day.
    Day,
    Int,
    /// Optional, from the fact's creation moment.
    Moment,
    /// Optional, as it is.
    Opt,
    Text,
}

impl Col {
    pub const ALL: [Col; COLS] = [
        Col::Id,
        Col::Created,
        Col::Acknowledged,
        Col::FirstResolved,
        Col::Reopened,
        Col::DoneSince,
        Col::DoneSpans,
        Col::Service,
        Col::Organization,
        Col::Assignee,
        Col::Tier,
        Col::Severity,
        Col::BusinessMttr,
        Col::FrMet,
        Col::FrBreach,
        Col::FrDue,
        Col::FrWarn,
        Col::FrOutcome,
        Col::ResMet,
        Col::ResBreach,
        Col::ResDue,
        Col::ResWarn,
        Col::ResOutcome,
        Col::Paused,
        Col::WaitingSince,
        Col::StartTier,
        Col::TopTier,
        Col::TierStints,
        Col::Moves,
    ];

    fn form(self) -> Form {
        use Col::*;
        match self {
            Id => Form::Step,
            Created => Form::Day,
            Service | Tier | Paused => Form::Int,
            Acknowledged | FirstResolved | Reopened | DoneSince | FrMet | FrBreach | FrDue | FrWarn | FrOutcome
            | ResMet | ResBreach | ResDue | ResWarn | ResOutcome | WaitingSince => Form::Moment,
            Organization | Assignee | BusinessMttr | StartTier | TopTier => Form::Opt,
            DoneSpans | Severity | TierStints | Moves => Form::Text,
        }
    }
}

/// A row's value of a column, as the column stores it before its base is applied.
enum Value<'r> {
    Int(i64),
    Opt(Option<i64>),
    Text(&'r str),
}

fn value(r: &FactRow, c: Col) -> Value<'_> {
    use Col::*;
    match c {
        Id => Value::Int(r.incident_id),
        Created => Value::Int(r.created_s),
        Acknowledged => Value::Opt(r.acknowledged_s),
        FirstResolved => Value::Opt(r.first_resolved_s),
        Reopened => Value::Opt(r.reopened_s),
        DoneSince => Value::Opt(r.done_since_s),
        DoneSpans => Value::Text(&r.done_spans),
        Service => Value::Int(r.service_id),
        Organization => Value::Opt(r.organization_id),
        Assignee => Value::Opt(r.assignee_id),
        Tier => Value::Int(r.tier_id),
        Severity => Value::Text(&r.severity),
        BusinessMttr => Value::Opt(r.business_mttr_s),
        FrMet => Value::Opt(r.fr_met_s),
        FrBreach => Value::Opt(r.fr_breach_s),
        FrDue => Value::Opt(r.fr_due_s),
        FrWarn => Value::Opt(r.fr_warn_s),
        FrOutcome => Value::Opt(r.fr_outcome_s),
        ResMet => Value::Opt(r.res_met_s),
        ResBreach => Value::Opt(r.res_breach_s),
        ResDue => Value::Opt(r.res_due_s),
        ResWarn => Value::Opt(r.res_warn_s),
        ResOutcome => Value::Opt(r.res_outcome_s),
        Paused => Value::Int(r.paused_s),
        WaitingSince => Value::Opt(r.waiting_since_s),
        StartTier => Value::Opt(r.start_tier_id),
        TopTier => Value::Opt(r.top_tier_id),
        TierStints => Value::Text(&r.tier_stints),
        Moves => Value::Text(&r.moves),
    }
}

struct Writer(Vec<u8>);

impl Writer {
    fn unsigned(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }
    fn int(&mut self, v: i64) {
        self.unsigned(zigzag(v));
    }
    /// None as 0, a value as its zigzag step from `base` plus one.
    fn opt(&mut self, v: Option<i64>, base: i64) {
        match v {
            None => self.unsigned(0),
            Some(v) => self.unsigned(zigzag(v.wrapping_sub(base)).wrapping_add(1)),
        }
    }
    fn text(&mut self, s: &str) {
        self.unsigned(s.len() as u64);
        self.0.extend_from_slice(s.as_bytes());
    }
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(u: u64) -> i64 {
    (u >> 1) as i64 ^ -((u & 1) as i64)
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    #[inline]
    fn unsigned(&mut self) -> Option<u64> {
        // Most values take one byte.
        let b = *self.bytes.get(self.at)?;
        self.at += 1;
        if b < 0x80 {
            return Some(u64::from(b));
        }
        let mut v = u64::from(b & 0x7f);
        for shift in (7..64).step_by(7) {
            let b = *self.bytes.get(self.at)?;
            self.at += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Some(v);
            }
        }
        None
    }
    fn int(&mut self) -> Option<i64> {
        self.unsigned().map(unzigzag)
    }
    fn opt(&mut self, base: i64) -> Option<Option<i64>> {
        match self.unsigned()? {
            0 => Some(None),
            u => Some(Some(base.wrapping_add(unzigzag(u - 1)))),
        }
    }
    /// A text's bytes, checked as UTF-8 only where it is used (`Fact::str`).
    fn text(&mut self) -> Option<&'a [u8]> {
        let len = usize::try_from(self.unsigned()?).ok()?;
        let end = self.at.checked_add(len)?;
        let s = self.bytes.get(self.at..end)?;
        self.at = end;
        Some(s)
    }
    fn done(&self) -> bool {
        self.at == self.bytes.len()
    }
}

/// The facts of one pack, `rows` sorted by incident, `day_start` the first second of its day.
pub fn encode(day_start: i64, rows: &[FactRow]) -> Vec<u8> {
    let mut columns = Vec::with_capacity(COLS);
    for c in Col::ALL {
        let mut w = Writer(Vec::with_capacity(rows.len() * 2));
        let mut previous = 0i64;
        for r in rows {
            match value(r, c) {
                Value::Int(v) => {
                    let base = match c.form() {
                        Form::Step => previous,
                        Form::Day => day_start,
                        _ => 0,
                    };
                    w.int(v.wrapping_sub(base));
                    previous = v;
                }
                Value::Opt(v) => w.opt(v, if c.form() == Form::Moment { r.created_s } else { 0 }),
                Value::Text(s) => w.text(s),
            }
        }
        columns.push(w.0);
    }
    let mut out = Writer(Vec::with_capacity(columns.iter().map(Vec::len).sum::<usize>() + 8 + 3 * COLS));
    out.0.push(VERSION);
    out.unsigned(rows.len() as u64);
    for c in &columns {
        out.unsigned(c.len() as u64);
    }
    for c in columns {
        out.0.extend_from_slice(&c);
    }
    out.0
}

/// A pack's columns, not yet decoded.
pub struct Pack<'a> {
    n: usize,
    day_start: i64,
    cols: [&'a [u8]; COLS],
}

impl<'a> Pack<'a> {
    /// None when the bytes are not a pack this version wrote (it is rebuilt).
    pub fn parse(day_start: i64, bytes: &'a [u8]) -> Option<Pack<'a>> {
        if bytes.first() != Some(&VERSION) {
            return None;
        }
        let mut r = Reader { bytes, at: 1 };
        // Every value takes at least a byte: a larger count is damage.
        let n = usize::try_from(r.unsigned()?).ok().filter(|n| *n <= bytes.len())?;
        let mut lens = [0usize; COLS];
        for l in &mut lens {
            *l = usize::try_from(r.unsigned()?).ok()?;
        }
        let mut cols = [&bytes[..0]; COLS];
        let mut at = r.at;
        for (c, l) in cols.iter_mut().zip(lens) {
            let end = at.checked_add(l)?;
            *c = bytes.get(at..end)?;
            at = end;
        }
        (at == bytes.len()).then_some(Pack { n, day_start, cols })
    }

    pub fn len(&self) -> usize {
        self.n
    }

    /// Decodes the columns `want`, and always the id and the creation moment; None when a
    /// column is damaged.
    pub fn columns(&self, want: &[Col]) -> Option<Cols<'a>> {
        let mut out = Cols { n: self.n, num: Default::default(), text: Default::default() };
        for c in [Col::Id, Col::Created].iter().chain(want) {
            let i = *c as usize;
            if !out.num[i].is_empty() || !out.text[i].is_empty() {
                continue;
            }
            if c.form() == Form::Text {
                out.text[i] = self.texts(*c)?;
            } else {
                let created = &out.num[Col::Created as usize];
                out.num[i] = self.numbers(*c, created)?;
            }
        }
        Some(out)
    }

    fn numbers(&self, c: Col, created: &[Option<i64>]) -> Option<Vec<Option<i64>>> {
        let mut r = Reader { bytes: self.cols[c as usize], at: 0 };
        let mut out = Vec::with_capacity(self.n);
        match c.form() {
            Form::Step => {
                let mut previous = 0i64;
                for _ in 0..self.n {
                    previous = previous.wrapping_add(r.int()?);
                    out.push(Some(previous));
                }
            }
            Form::Day => {
                for _ in 0..self.n {
                    out.push(Some(self.day_start.wrapping_add(r.int()?)));
                }
            }
            Form::Int => {
                for _ in 0..self.n {
                    out.push(Some(r.int()?));
                }
            }
            Form::Moment => {
                for i in 0..self.n {
                    out.push(r.opt(created.get(i).copied().flatten()?)?);
                }
            }
            Form::Opt => {
                for _ in 0..self.n {
                    out.push(r.opt(0)?);
                }
            }
            Form::Text => return None,
        }
        r.done().then_some(out)
    }

    fn texts(&self, c: Col) -> Option<Vec<&'a [u8]>> {
        let mut r = Reader { bytes: self.cols[c as usize], at: 0 };
        let mut out = Vec::with_capacity(self.n);
        for _ in 0..self.n {
            out.push(r.text()?);
        }
        r.done().then_some(out)
    }
}

/// The decoded columns of one pack.
pub struct Cols<'a> {
    n: usize,
    num: [Vec<Option<i64>>; COLS],
    text: [Vec<&'a [u8]>; COLS],
}

impl<'a> Cols<'a> {
    pub fn facts(&self) -> impl Iterator<Item = Fact<'_, 'a>> {
        (0..self.n).map(|i| Fact { cols: self, i })
    }
}

/// One fact of a pack, read from its decoded columns.
#[derive(Clone, Copy)]
pub struct Fact<'c, 'a> {
    cols: &'c Cols<'a>,
    i: usize,
}

impl<'a> Fact<'_, 'a> {
    /// A value; reading a column the reader did not ask for is a bug the tests catch.
    pub fn opt(&self, c: Col) -> Option<i64> {
        let v = self.cols.num[c as usize].get(self.i).copied();
        debug_assert!(v.is_some(), "column {c:?} was not decoded");
        v.flatten()
    }

    pub fn int(&self, c: Col) -> i64 {
        self.opt(c).unwrap_or(0)
    }

    pub fn id(&self) -> i64 {
        self.int(Col::Id)
    }

    pub fn created(&self) -> i64 {
        self.int(Col::Created)
    }

    pub fn bytes(&self, c: Col) -> &'a [u8] {
        let v = self.cols.text[c as usize].get(self.i).copied();
        debug_assert!(v.is_some(), "column {c:?} was not decoded");
        v.unwrap_or_default()
    }

    /// A text; bytes that are not UTF-8 (a damaged pack) read as nothing.
    pub fn str(&self, c: Col) -> &'a str {
        std::str::from_utf8(self.bytes(c)).unwrap_or_default()
    }
}

// Reports build only what they keep (`db::reports::facts`); whole rows back are for the tests.
#[cfg(test)]
impl From<Fact<'_, '_>> for FactRow {
    fn from(r: Fact<'_, '_>) -> FactRow {
        use Col::*;
        FactRow {
            incident_id: r.id(),
            created_s: r.created(),
            acknowledged_s: r.opt(Acknowledged),
            first_resolved_s: r.opt(FirstResolved),
            reopened_s: r.opt(Reopened),
            done_since_s: r.opt(DoneSince),
            done_spans: r.str(DoneSpans).to_string(),
            service_id: r.int(Service),
            organization_id: r.opt(Organization),
            assignee_id: r.opt(Assignee),
            tier_id: r.int(Tier),
            severity: r.str(Severity).to_string(),
            business_mttr_s: r.opt(BusinessMttr),
            fr_met_s: r.opt(FrMet),
            fr_breach_s: r.opt(FrBreach),
            fr_due_s: r.opt(FrDue),
            fr_warn_s: r.opt(FrWarn),
            fr_outcome_s: r.opt(FrOutcome),
            res_met_s: r.opt(ResMet),
            res_breach_s: r.opt(ResBreach),
            res_due_s: r.opt(ResDue),
            res_warn_s: r.opt(ResWarn),
            res_outcome_s: r.opt(ResOutcome),
            paused_s: r.int(Paused),
            waiting_since_s: r.opt(WaitingSince),
            start_tier_id: r.opt(StartTier),
            top_tier_id: r.opt(TopTier),
            tier_stints: r.str(TierStints).to_string(),
            moves: r.str(Moves).to_string(),
        }
    }
}

#[cfg(test)]
fn decode(day_start: i64, bytes: &[u8]) -> Option<Vec<FactRow>> {
    let cols = Pack::parse(day_start, bytes)?.columns(&Col::ALL)?;
    Some(cols.facts().map(FactRow::from).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn opt() -> impl Strategy<Value = Option<i64>> {
        prop_oneof![Just(None), any::<i64>().prop_map(Some), (1_700_000_000i64..1_900_000_000).prop_map(Some)]
    }

    prop_compose! {
        fn fact()(
            id in 1i64..5_000_000, created in 1_700_000_000i64..1_900_000_000,
            a in proptest::collection::vec(opt(), 19),
            texts in proptest::collection::vec("[a-zA-Z0-9:;-]{0,12}", 4),
            ints in proptest::collection::vec(any::<i64>(), 3),
        ) -> FactRow {
            FactRow {
                incident_id: id,
                created_s: created,
                acknowledged_s: a[0],
                first_resolved_s: a[1],
                reopened_s: a[2],
                done_since_s: a[3],
                done_spans: texts[0].clone(),
                service_id: ints[0],
                organization_id: a[4],
                assignee_id: a[5],
                tier_id: ints[1],
                severity: texts[1].clone(),
                business_mttr_s: a[6],
                fr_met_s: a[7],
                fr_breach_s: a[8],
                fr_due_s: a[9],
                fr_warn_s: a[10],
                fr_outcome_s: a[11],
                res_met_s: a[12],
                res_breach_s: a[13],
                res_due_s: a[14],
                res_warn_s: a[15],
                res_outcome_s: a[16],
                paused_s: ints[2],
                waiting_since_s: a[17],
                start_tier_id: a[18],
                top_tier_id: a[4],
                tier_stints: texts[2].clone(),
                moves: texts[3].clone(),
            }
        }
    }

    proptest! {
        /// Whatever a pack holds comes back unchanged.
        #[test]
        fn packs_round_trip(mut rows in proptest::collection::vec(fact(), 0..40), day in 19_000i64..22_000) {
            rows.sort_by_key(|r| r.incident_id);
            let bytes = encode(day * 86_400, &rows);
            prop_assert_eq!(decode(day * 86_400, &bytes), Some(rows));
        }

        /// A column read alone reads as it does among all the others.
        #[test]
        fn columns_read_alone(mut rows in proptest::collection::vec(fact(), 1..20), pick in 0usize..29) {
            rows.sort_by_key(|r| r.incident_id);
            let bytes = encode(0, &rows);
            let pack = Pack::parse(0, &bytes).unwrap();
            let (all, one) = (pack.columns(&Col::ALL).unwrap(), pack.columns(&[Col::ALL[pick]]).unwrap());
            let c = Col::ALL[pick];
            for (a, b) in all.facts().zip(one.facts()) {
                if c.form() == Form::Text {
                    prop_assert_eq!(a.bytes(c), b.bytes(c));
                } else {
                    prop_assert_eq!(a.opt(c), b.opt(c));
                }
            }
        }

        /// Damaged bytes are refused or read as some facts, never a panic.
        #[test]
        fn damaged_packs_do_not_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = decode(0, &bytes);
        }
    }
}
