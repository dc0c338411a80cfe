//! Outgoing mail: composing notifications into the outbox, and delivering the outbox over
//! SMTP (or into `.eml` files when no SMTP server is configured).

pub mod compose;
pub mod deliver;
mod html_text;
pub mod inbound;
mod queue;

pub use queue::{caused_by_mail, withheld};
pub mod status_page;
pub mod templates;

/// Header values never carry line breaks or other control characters (no header injection).
pub fn clean_header(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect::<String>().trim().chars().take(250).collect()
}

#[cfg(test)]
mod tests {
    use super::clean_header;

    #[test]
    fn asvs_5_2_3_header_values_lose_line_breaks() {
        assert_eq!(clean_header("Hello\r\nBcc: victim@example.com"), "Hello  Bcc: victim@example.com");
        assert!(!clean_header("a\nb\rc").contains(['\n', '\r']));
    }
}
