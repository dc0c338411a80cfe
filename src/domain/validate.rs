//! Small allow-list validators shared by forms and the CLI.

/// A plausible email address: one @, a non-empty local part, a dotted domain, no spaces or
/// control characters, at most 254 characters. Returns the normalized (trimmed, lowercased) form.
pub fn email(input: &str) -> Result<String, String> {
    let e = input.trim().to_lowercase();
    let bad = || Err("Enter an email address like name@example.com.".to_string());
    if e.is_empty() || e.len() > 254 || e.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return bad();
    }
    let Some((local, domain)) = e.split_once('@') else {
        return bad();
    };
    if local.is_empty()
        || domain.contains('@')
        || !domain.contains('.')
        || domain.starts_with('.')
        || domain.ends_with('.')
        || domain.contains("..")
        || local.contains(['<', '>', '"', ',', ';'])
    {
        return bad();
    }
    Ok(e)
}

/// A display name or other one-line label: trimmed, 1..=max characters, no control characters.
pub fn label(input: &str, field: &str, max: usize) -> Result<String, String> {
    let v = input.trim();
    if v.is_empty() {
        return Err(format!("{field} is required."));
    }
    if v.chars().count() > max {
        return Err(format!("{field} must be at most {max} characters."));
    }
    if v.chars().any(char::is_control) {
        return Err(format!("{field} must be on one line."));
    }
    Ok(v.to_string())
}

/// An IANA time zone name such as Europe/Berlin.
pub fn time_zone(input: &str) -> Result<String, String> {
    let v = input.trim();
    v.parse::<chrono_tz::Tz>()
        .map(|tz| tz.name().to_string())
        .map_err(|_| "Choose a time zone from the list (for example Europe/Berlin or UTC).".to_string())
}

/// A comma- or space-separated list of email domains, normalized and deduplicated.
pub fn email_domains(input: &str) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for raw in input.split([',', ' ', '\n', '\r', '\t']) {
        let d = raw.trim().trim_start_matches('@').to_lowercase();
        if d.is_empty() {
            continue;
        }
        let ok = d.len() <= 253
            && d.contains('.')
            && !d.starts_with(['.', '-'])
            && !d.ends_with(['.', '-'])
            && d.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
        if !ok {
            return Err(format!("'{d}' is not a domain name like example.com."));
        }
        if !out.contains(&d) {
            out.push(d);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalized_and_checked() {
        assert_eq!(email(" Alice@Example.COM ").as_deref(), Ok("alice@example.com"));
        for bad in ["", "a", "a@b", "a b@c.d", "a@@b.c", "a@b..c", "a@b.c\r\nBcc: x@y.z"] {
            assert!(email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn time_zones_are_iana_names() {
        assert_eq!(time_zone("Europe/Berlin").as_deref(), Ok("Europe/Berlin"));
        assert!(time_zone("Mars/Olympus").is_err());
    }

    #[test]
    fn domains_are_listed() {
        assert_eq!(
            email_domains("Example.com, @acme.io acme.io"),
            Ok(vec!["example.com".to_string(), "acme.io".to_string()])
        );
        assert!(email_domains("not a domain!").is_err());
    }
}

/// A redirect target after login: only a local absolute path ("/incidents?x=1"), never
/// "//host", "/\host", a scheme, or anything with control characters.
pub fn local_redirect(target: &str) -> Option<&str> {
    let ok = target.starts_with('/')
        && !target.starts_with("//")
        && !target.starts_with("/\\")
        && !target.chars().any(|c| c.is_control() || c == '\\')
        && target.len() <= 2000;
    ok.then_some(target)
}

#[cfg(test)]
mod redirect_tests {
    use super::local_redirect;

    #[test]
    fn asvs_5_1_5_only_local_paths_are_followed() {
        assert_eq!(local_redirect("/incidents?status=new"), Some("/incidents?status=new"));
        for bad in ["//evil.example", "https://evil.example", "/\\evil.example", "evil", "/a\r\nb", ""] {
            assert_eq!(local_redirect(bad), None, "{bad}");
        }
    }
}
