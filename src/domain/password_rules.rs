//! What makes a password acceptable (ASVS 2.1): length 12..=128 characters of any Unicode, no
//! composition rules, not common (zxcvbn score 3 or more), not built from the email or name.

pub const MIN_CHARS: usize = 12;
pub const MAX_CHARS: usize = 128;

/// Returns the problems with a proposed password, in words a user can act on; empty when fine.
pub fn check(password: &str, email: &str, display_name: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let chars = password.chars().count();
    if chars < MIN_CHARS {
        problems.push(format!("Use at least {MIN_CHARS} characters."));
        return problems;
    }
    if chars > MAX_CHARS {
        problems.push(format!("Use at most {MAX_CHARS} characters."));
        return problems;
    }
    let lower = password.to_lowercase();
    let email = email.trim().to_lowercase();
    let local_part = email.split('@').next().unwrap_or("");
    let name = display_name.trim().to_lowercase();
    let contains = |needle: &str| needle.chars().count() >= 3 && lower.contains(needle);
    if contains(&email) || contains(local_part) {
        problems.push("The password must not contain your email address.".to_string());
    } else if contains(&name) || name.split_whitespace().any(|part| part.chars().count() >= 4 && lower.contains(part)) {
        problems.push("The password must not contain your name.".to_string());
    }
    if problems.is_empty() {
        let inputs: Vec<&str> =
            [email.as_str(), local_part, name.as_str()].into_iter().filter(|s| !s.is_empty()).collect();
        let estimate = zxcvbn::zxcvbn(password, &inputs);
        if u8::from(estimate.score()) < 3 {
            problems.push(
                "This password is too common or too easy to guess. A few unrelated words make a strong one."
                    .to_string(),
            );
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_bounds_count_characters_not_bytes() {
        assert!(!check("short", "a@b.example", "A").is_empty());
        // 12 multi-byte characters are 12 characters.
        assert!(check("ĉŝĝĥĵŭ żółw ñ", "a@b.example", "A").iter().all(|p| !p.contains("at least")));
        assert!(!check(&"x".repeat(129), "a@b.example", "A").is_empty());
    }

    #[test]
    fn common_and_personal_passwords_are_refused() {
        assert!(!check("password1234", "a@b.example", "A").is_empty());
        assert!(!check("aliceexample-2026!", "alice@example.com", "Alice Smith").is_empty());
        assert!(!check("Smithsonian lantern 88", "x@y.example", "Ann Smithsonian").is_empty());
    }

    #[test]
    fn a_passphrase_is_accepted() {
        assert!(check("correct horse battery staple", "a@b.example", "Al").is_empty());
    }
}
