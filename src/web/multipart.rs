//! A small `multipart/form-data` reader for the few forms that upload a file (help article
//! images). The whole body is in memory already (the session middleware reads it, with its own
//! size limit, to check the CSRF token), so this only splits it into parts.

/// One field of a multipart form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub name: String,
    /// Present for file inputs (possibly empty when no file was chosen).
    pub filename: Option<String>,
    pub data: Vec<u8>,
}

impl Part {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.data).into_owned()
    }
}

/// The most parts a form may have.
const MAX_PARTS: usize = 100;

/// The boundary of a `multipart/form-data; boundary=…` content type.
pub fn boundary(content_type: &str) -> Option<String> {
    let mut params = content_type.split(';');
    let kind = params.next()?.trim();
    if !kind.eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.find_map(|p| {
        let (k, v) = p.split_once('=')?;
        if !k.trim().eq_ignore_ascii_case("boundary") {
            return None;
        }
        let v = v.trim().trim_matches('"');
        (!v.is_empty() && v.len() <= 200).then(|| v.to_string())
    })
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || from > haystack.len() {
        return None;
    }
    haystack[from..].windows(needle.len()).position(|w| w == needle).map(|i| i + from)
}

/// A `Content-Disposition` parameter's value (`name="x"`), quotes removed.
fn param(header: &str, key: &str) -> Option<String> {
    header.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        if !k.trim().eq_ignore_ascii_case(key) {
            return None;
        }
        let v = v.trim();
        let v = v.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(v);
        Some(v.replace("%22", "\"").replace("\\\"", "\""))
    })
}

/// Splits a body into its parts; None when it is not well-formed multipart for `boundary`.
pub fn parse(boundary: &str, body: &[u8]) -> Option<Vec<Part>> {
    let delimiter = format!("--{boundary}");
    let next_delimiter = format!("\r\n--{boundary}");
    let mut at = find(body, delimiter.as_bytes(), 0)? + delimiter.len();
    let mut parts = Vec::new();
    loop {
        if body.get(at..at + 2)? == b"--" {
            return Some(parts);
        }
        if body.get(at..at + 2)? != b"\r\n" {
            return None;
        }
        at += 2;
        let headers_end = find(body, b"\r\n\r\n", at)?;
        let headers = std::str::from_utf8(&body[at..headers_end]).ok()?;
        let content_start = headers_end + 4;
        let content_end = find(body, next_delimiter.as_bytes(), content_start)?;
        let disposition = headers
            .split("\r\n")
            .find_map(|h| h.split_once(':').filter(|(k, _)| k.trim().eq_ignore_ascii_case("content-disposition")))
            .map(|(_, v)| v.trim())?;
        parts.push(Part {
            name: param(disposition, "name")?,
            filename: param(disposition, "filename"),
            data: body[content_start..content_end].to_vec(),
        });
        if parts.len() > MAX_PARTS {
            return None;
        }
        at = content_end + next_delimiter.len();
    }
}

/// The text of the first field with this name, or empty.
pub fn field(parts: &[Part], name: &str) -> String {
    parts.iter().find(|p| p.name == name && p.filename.is_none()).map(Part::text).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body() -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(b"--XyZ\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\nabc123\r\n");
        b.extend_from_slice(b"--XyZ\r\nContent-Disposition: form-data; name=\"body\"\r\n\r\nline one\r\nline two\r\n");
        b.extend_from_slice(
            b"--XyZ\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a \\\"b\\\".png\"\r\nContent-Type: image/png\r\n\r\n",
        );
        b.extend_from_slice(b"\x89PNG\r\n\x1a\n\r\n--X not the end");
        b.extend_from_slice(b"\r\n--XyZ--\r\n");
        b
    }

    #[test]
    fn parts_are_split_at_the_boundary() {
        assert_eq!(boundary("multipart/form-data; boundary=XyZ"), Some("XyZ".into()));
        assert_eq!(boundary("multipart/form-data; boundary=\"q q\""), Some("q q".into()));
        assert_eq!(boundary("application/x-www-form-urlencoded"), None);
        let parts = parse("XyZ", &body()).expect("parses");
        assert_eq!(parts.len(), 3);
        assert_eq!(field(&parts, "csrf_token"), "abc123");
        assert_eq!(field(&parts, "body"), "line one\r\nline two");
        assert_eq!(parts[2].filename.as_deref(), Some("a \"b\".png"));
        assert_eq!(parts[2].data, b"\x89PNG\r\n\x1a\n\r\n--X not the end");
    }

    #[test]
    fn malformed_bodies_are_refused() {
        assert_eq!(parse("XyZ", b"csrf_token=abc"), None);
        assert_eq!(parse("XyZ", b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nno end"), None);
        assert_eq!(parse("XyZ", b"--XyZ\r\nX-Other: 1\r\n\r\nv\r\n--XyZ--"), None, "a part needs a name");
        assert_eq!(parse("XyZ", b"--XyZ--\r\n"), Some(Vec::new()));
    }
}
