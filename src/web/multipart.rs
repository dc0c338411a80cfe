//! A small streaming `multipart/form-data` reader for the few forms that upload a file (help
//! article images). The session middleware feeds it the body chunk by chunk while it reads the
//! request (it needs the CSRF token), keeping every text field but only the first bytes of a
//! file that is too large: the handler can then answer "too large" with everything else the
//! user typed, instead of refusing the whole request.

/// One field of a multipart form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub name: String,
    /// Present for file inputs (possibly empty when no file was chosen).
    pub filename: Option<String>,
    /// The field's bytes; for a file, at most `Limits::file_keep` of them.
    pub data: Vec<u8>,
    /// How many bytes the field really had.
    pub size: usize,
}

impl Part {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.data).into_owned()
    }

    /// Whether bytes of this part were left out (`size` is larger than what `data` holds).
    pub fn cut(&self) -> bool {
        self.size > self.data.len()
    }
}

/// A multipart form as the middleware read it, handed to the handler in the request's
/// extensions.
#[derive(Debug, Clone, Default)]
pub struct Upload {
    pub parts: Vec<Part>,
    /// The body was larger than the middleware reads at all; the parts after the point where it
    /// stopped are missing.
    pub cut_short: bool,
}

/// What a reader keeps.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Bytes kept of each file (the rest is counted in `Part::size`, then dropped).
    pub file_keep: usize,
    /// Bytes kept of all text fields together (a form over it is cut short).
    pub text_total: usize,
}

impl Limits {
    pub const ALL: Limits = Limits { file_keep: usize::MAX, text_total: usize::MAX };
}

/// The most parts a form may have.
const MAX_PARTS: usize = 100;

/// The longest header block of one part.
const MAX_HEADERS: usize = 16 * 1024;

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before the first delimiter.
    Preamble,
    /// Just after a delimiter: `--` ends the body, CRLF starts a part.
    AfterDelimiter,
    Headers,
    Content,
    Done,
    Malformed,
}

/// Reads a multipart body fed in chunks of any size.
#[derive(Debug)]
pub struct Reader {
    delimiter: Vec<u8>,
    next_delimiter: Vec<u8>,
    limits: Limits,
    state: State,
    buf: Vec<u8>,
    current: Option<Part>,
    parts: Vec<Part>,
    text_bytes: usize,
    text_overflow: bool,
}

impl Reader {
    pub fn new(boundary: &str, limits: Limits) -> Reader {
        Reader {
            delimiter: format!("--{boundary}").into_bytes(),
            next_delimiter: format!("\r\n--{boundary}").into_bytes(),
            limits,
            state: State::Preamble,
            buf: Vec::new(),
            current: None,
            parts: Vec::new(),
            text_bytes: 0,
            text_overflow: false,
        }
    }

    fn keep(&mut self, bytes: &[u8]) {
        let Some(part) = self.current.as_mut() else { return };
        part.size += bytes.len();
        let room = if part.filename.is_some() {
            self.limits.file_keep.saturating_sub(part.data.len())
        } else {
            let room = self.limits.text_total.saturating_sub(self.text_bytes);
            if bytes.len() > room {
                self.text_overflow = true;
            }
            room
        };
        let n = room.min(bytes.len());
        part.data.extend_from_slice(&bytes[..n]);
        if part.filename.is_none() {
            self.text_bytes += n;
        }
    }

    pub fn feed(&mut self, chunk: &[u8]) {
        if matches!(self.state, State::Done | State::Malformed) {
            return;
        }
        self.buf.extend_from_slice(chunk);
        loop {
            match self.state {
                State::Preamble => match find(&self.buf, &self.delimiter, 0) {
                    Some(i) => {
                        self.buf.drain(..i + self.delimiter.len());
                        self.state = State::AfterDelimiter;
                    }
                    None => {
                        let keep = self.delimiter.len().saturating_sub(1);
                        let cut = self.buf.len().saturating_sub(keep);
                        self.buf.drain(..cut);
                        return;
                    }
                },
                State::AfterDelimiter => {
                    if self.buf.len() < 2 {
                        return;
                    }
                    if &self.buf[..2] == b"--" {
                        self.state = State::Done;
                        self.buf.clear();
                        return;
                    }
                    if &self.buf[..2] != b"\r\n" {
                        self.state = State::Malformed;
                        return;
                    }
                    self.buf.drain(..2);
                    self.state = State::Headers;
                }
                State::Headers => {
                    let Some(end) = find(&self.buf, b"\r\n\r\n", 0) else {
                        if self.buf.len() > MAX_HEADERS {
                            self.state = State::Malformed;
                        }
                        return;
                    };
                    let part = std::str::from_utf8(&self.buf[..end]).ok().and_then(|headers| {
                        let disposition = headers
                            .split("\r\n")
                            .find_map(|h| {
                                h.split_once(':').filter(|(k, _)| k.trim().eq_ignore_ascii_case("content-disposition"))
                            })
                            .map(|(_, v)| v.trim())?;
                        Some(Part {
                            name: param(disposition, "name")?,
                            filename: param(disposition, "filename"),
                            data: Vec::new(),
                            size: 0,
                        })
                    });
                    let Some(part) = part else {
                        self.state = State::Malformed;
                        return;
                    };
                    if self.parts.len() >= MAX_PARTS {
                        self.state = State::Malformed;
                        return;
                    }
                    self.buf.drain(..end + 4);
                    self.current = Some(part);
                    self.state = State::Content;
                }
                State::Content => match find(&self.buf, &self.next_delimiter, 0) {
                    Some(i) => {
                        let content: Vec<u8> = self.buf.drain(..i + self.next_delimiter.len()).take(i).collect();
                        self.keep(&content);
                        if let Some(p) = self.current.take() {
                            self.parts.push(p);
                        }
                        self.state = State::AfterDelimiter;
                    }
                    None => {
                        // Everything but what could be the start of the next delimiter.
                        let keep = self.next_delimiter.len().saturating_sub(1);
                        let safe = self.buf.len().saturating_sub(keep);
                        let content: Vec<u8> = self.buf.drain(..safe).collect();
                        self.keep(&content);
                        return;
                    }
                },
                State::Done | State::Malformed => return,
            }
        }
    }

    /// The form read; None when the body is not well-formed multipart. `cut_short`: the caller
    /// stopped feeding before the end (the parts read so far are kept, and a file being read
    /// counts as cut).
    pub fn finish(mut self, cut_short: bool) -> Option<Upload> {
        match self.state {
            State::Done if !self.text_overflow => Some(Upload { parts: self.parts, cut_short: false }),
            State::Malformed => None,
            _ if cut_short || self.text_overflow => {
                if let Some(mut p) = self.current.take().filter(|p| p.filename.is_some()) {
                    // Not all of it arrived: it is larger than what was read.
                    p.size = p.size.max(p.data.len()) + 1;
                    self.parts.push(p);
                }
                Some(Upload { parts: self.parts, cut_short: true })
            }
            _ => None,
        }
    }
}

/// Splits a whole body into its parts; None when it is not well-formed multipart for `boundary`.
pub fn parse(boundary: &str, body: &[u8]) -> Option<Vec<Part>> {
    let mut r = Reader::new(boundary, Limits::ALL);
    r.feed(body);
    r.finish(false).map(|u| u.parts)
}

/// The text of the first field with this name, or empty.
pub fn field(parts: &[Part], name: &str) -> String {
    parts.iter().find(|p| p.name == name && p.filename.is_none()).map(Part::text).unwrap_or_default()
}

/// A form that may come as `multipart/form-data` (with files) or urlencoded (without): its
/// fields as the usual form struct, the files chosen (inputs left empty are dropped), and
/// whether the body was larger than the server reads.
pub struct Posted<T> {
    pub form: T,
    pub files: Vec<crate::service::incidents::FileUpload>,
    pub cut_short: bool,
}

/// Reads a form posted to a route the middleware takes uploads on (`takes_upload`): the parsed
/// multipart form from the request's extensions, or the replayed urlencoded body.
pub async fn posted<T: serde::de::DeserializeOwned>(
    req: &actix_web::HttpRequest,
    mut payload: actix_web::web::Payload,
) -> Result<Posted<T>, crate::error::AppError> {
    use actix_web::HttpMessage;
    use futures_util::StreamExt;
    let bad = || crate::error::AppError::BadRequest("The form could not be read.".into());
    if let Some(upload) = req.extensions_mut().remove::<Upload>() {
        let mut text = url::form_urlencoded::Serializer::new(String::new());
        let mut files = Vec::new();
        for p in upload.parts {
            match &p.filename {
                None => {
                    text.append_pair(&p.name, &p.text());
                }
                Some(name) if name.is_empty() && p.size == 0 => {}
                Some(name) => files.push(crate::service::incidents::FileUpload {
                    filename: name.clone(),
                    size: p.size,
                    data: p.data,
                }),
            }
        }
        let form = serde_urlencoded::from_str(&text.finish()).map_err(|_| bad())?;
        return Ok(Posted { form, files, cut_short: upload.cut_short });
    }
    let mut body = actix_web::web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| bad())?;
        if body.len() + chunk.len() > crate::web::middleware::MAX_BODY {
            return Err(crate::error::AppError::BadRequest("What you sent is larger than this form accepts.".into()));
        }
        body.extend_from_slice(&chunk);
    }
    let form = serde_urlencoded::from_bytes(&body).map_err(|_| bad())?;
    Ok(Posted { form, files: Vec::new(), cut_short: false })
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
    fn any_chunking_gives_the_same_parts() {
        let whole = parse("XyZ", &body()).expect("parses");
        let b = body();
        for size in [1, 2, 3, 5, 7, 11, 64] {
            let mut r = Reader::new("XyZ", Limits::ALL);
            for chunk in b.chunks(size) {
                r.feed(chunk);
            }
            assert_eq!(r.finish(false).map(|u| u.parts), Some(whole.clone()), "chunks of {size}");
        }
    }

    #[test]
    fn a_file_over_the_limit_is_cut_and_the_text_around_it_kept() {
        let mut b = Vec::new();
        b.extend_from_slice(b"--XyZ\r\nContent-Disposition: form-data; name=\"body\"\r\n\r\nmy text\r\n");
        b.extend_from_slice(b"--XyZ\r\nContent-Disposition: form-data; name=\"image\"; filename=\"big.png\"\r\n\r\n");
        b.extend_from_slice(&vec![7u8; 10_000]);
        b.extend_from_slice(
            b"\r\n--XyZ\r\nContent-Disposition: form-data; name=\"image_alt\"\r\n\r\nalt\r\n--XyZ--\r\n",
        );
        let mut r = Reader::new("XyZ", Limits { file_keep: 100, text_total: 1000 });
        for chunk in b.chunks(333) {
            r.feed(chunk);
        }
        let u = r.finish(false).expect("parses");
        assert!(!u.cut_short);
        assert_eq!(field(&u.parts, "body"), "my text");
        assert_eq!(field(&u.parts, "image_alt"), "alt");
        let file = &u.parts[1];
        assert_eq!((file.data.len(), file.size, file.cut()), (100, 10_000, true));

        // Reading stopped in the middle of the file: what came before is there.
        let mut r = Reader::new("XyZ", Limits { file_keep: 100, text_total: 1000 });
        r.feed(&b[..5000]);
        let u = r.finish(true).expect("kept");
        assert!(u.cut_short);
        assert_eq!(field(&u.parts, "body"), "my text");
        assert!(u.parts[1].cut());
    }

    #[test]
    fn malformed_bodies_are_refused() {
        assert_eq!(parse("XyZ", b"csrf_token=abc"), None);
        assert_eq!(parse("XyZ", b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nno end"), None);
        assert_eq!(parse("XyZ", b"--XyZ\r\nX-Other: 1\r\n\r\nv\r\n--XyZ--"), None, "a part needs a name");
        assert_eq!(parse("XyZ", b"--XyZ--\r\n"), Some(Vec::new()));
    }
}
