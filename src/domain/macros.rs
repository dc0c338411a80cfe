//! Canned responses: the placeholders their text may hold, checked when the text is saved and
//! filled in when an agent inserts it into a reply.
//!
//! A placeholder is a known name in braces, `{customer_name}`; `{{` writes a literal brace.
//! Anything else in braces that looks like a placeholder but is not one is refused on save, so
//! a typo never reaches a customer as `{custmer_name}`.

/// The placeholders, with what they stand for (shown on the form).
pub const PLACEHOLDERS: [(&str, &str); 8] = [
    ("customer_name", "the reporter's name"),
    ("customer_first_name", "the reporter's first name"),
    ("organization", "the reporter's organization (empty without one)"),
    ("incident_key", "the incident's key, e.g. INC-42"),
    ("incident_title", "the incident's title"),
    ("incident_link", "the link to the incident"),
    ("service", "the affected service"),
    ("agent_name", "your name"),
];

/// What the placeholders stand for on one incident, for one agent.
#[derive(Debug, Clone, Default)]
pub struct Values {
    pub customer_name: String,
    pub organization: String,
    pub incident_key: String,
    pub incident_title: String,
    pub incident_link: String,
    pub service: String,
    pub agent_name: String,
}

impl Values {
    fn get(&self, name: &str) -> Option<&str> {
        Some(match name {
            "customer_name" => &self.customer_name,
            "customer_first_name" => self.customer_name.split_whitespace().next().unwrap_or(""),
            "organization" => &self.organization,
            "incident_key" => &self.incident_key,
            "incident_title" => &self.incident_title,
            "incident_link" => &self.incident_link,
            "service" => &self.service,
            "agent_name" => &self.agent_name,
            _ => return None,
        })
    }
}

enum Piece<'a> {
    Text(&'a str),
    Brace,
    Placeholder(&'a str),
}

/// Splits a text into literal runs, escaped braces and `{word}` placeholders (a word being
/// lower-case letters, digits and `_`, starting with a letter). Any other brace is literal.
fn pieces(text: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    let b = text.as_bytes();
    while i < b.len() {
        if b[i] == b'{' {
            if b.get(i + 1) == Some(&b'{') {
                out.push(Piece::Text(&text[start..i]));
                out.push(Piece::Brace);
                i += 2;
                start = i;
                continue;
            }
            let rest = &b[i + 1..];
            let len = rest.iter().take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || **c == b'_').count();
            if len > 0 && rest[0].is_ascii_lowercase() && rest.get(len) == Some(&b'}') {
                out.push(Piece::Text(&text[start..i]));
                out.push(Piece::Placeholder(&text[i + 1..i + 1 + len]));
                i += len + 2;
                start = i;
                continue;
            }
        }
        i += 1;
    }
    out.push(Piece::Text(&text[start..]));
    out
}

/// The placeholders a text names that do not exist, each once, in order.
pub fn unknown_placeholders(text: &str) -> Vec<String> {
    let known = Values::default();
    let mut out: Vec<String> = Vec::new();
    for p in pieces(text) {
        if let Piece::Placeholder(name) = p
            && known.get(name).is_none()
            && !out.iter().any(|o| o == name)
        {
            out.push(name.to_string());
        }
    }
    out
}

/// The text with its placeholders filled in, in one pass: a value that itself holds braces
/// is not read again. Unknown placeholders (only in texts saved before a rename) stay as typed.
pub fn expand(text: &str, values: &Values) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    for p in pieces(text) {
        match p {
            Piece::Text(t) => out.push_str(t),
            Piece::Brace => out.push('{'),
            Piece::Placeholder(name) => match values.get(name) {
                Some(v) => out.push_str(v),
                None => {
                    out.push('{');
                    out.push_str(name);
                    out.push('}');
                }
            },
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn values() -> Values {
        Values {
            customer_name: "Ada Varga".into(),
            organization: "Hooli".into(),
            incident_key: "INC-42".into(),
            incident_title: "Login fails".into(),
            incident_link: "https://help.example/incidents/INC-42".into(),
            service: "Web app".into(),
            agent_name: "Sam Support".into(),
        }
    }

    #[test]
    fn fills_every_placeholder() {
        let t = "Hi {customer_first_name} ({customer_name}, {organization}): {incident_key} \"{incident_title}\" on \
                 {service} is at {incident_link}. {agent_name}";
        assert_eq!(
            expand(t, &values()),
            "Hi Ada (Ada Varga, Hooli): INC-42 \"Login fails\" on Web app is at \
             https://help.example/incidents/INC-42. Sam Support"
        );
    }

    #[test]
    fn double_brace_is_a_literal_brace_and_other_braces_stay() {
        assert_eq!(expand("{{customer_name} {\"a\": 1} {} {X}", &values()), "{customer_name} {\"a\": 1} {} {X}");
    }

    #[test]
    fn unknown_names_are_reported_once_in_order() {
        assert_eq!(unknown_placeholders("{custmer_name} {incident_key} {foo} {custmer_name}"), ["custmer_name", "foo"]);
        assert!(unknown_placeholders("{{custmer_name}").is_empty());
        assert!(unknown_placeholders("{incident_link}").is_empty());
    }

    proptest! {
        #[test]
        fn text_without_braces_is_unchanged(t in "[^{]*") {
            prop_assert_eq!(expand(&t, &values()), t.clone());
            prop_assert!(unknown_placeholders(&t).is_empty());
        }

        #[test]
        fn values_are_inserted_verbatim_never_read_again(v in ".*", t in ".*") {
            let vals = Values { customer_name: v.clone(), ..values() };
            let once = expand(&format!("{{customer_name}}|{t}"), &vals);
            let rest = expand(&t, &vals);
            prop_assert_eq!(once, format!("{v}|{rest}"));
        }
    }
}
