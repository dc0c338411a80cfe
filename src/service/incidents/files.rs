//! Files attached from the web to a new incident or a comment: checked against the configured
//! size and count, stored like mail attachments (in the database, with the comment's
//! visibility), offered for download by the same rules.

use crate::db::{DbConnection, attachments};
use crate::domain::inbound::{content_type_for, safe_filename};
use crate::service::inbound::human_size;
use crate::service::{AppState, FieldErrors, ServiceResult};

/// The most files one form may attach.
pub const MAX_FILES_PER_POST: usize = 10;

/// A file as the browser sent it. `size` counts every byte sent; `data` holds at most the limit
/// and one byte more, so a file over the limit is recognised without keeping it.
#[derive(Debug, Clone, Default)]
pub struct FileUpload {
    pub filename: String,
    pub data: Vec<u8>,
    pub size: usize,
}

/// Adds a message under `files` for each file that may not be attached.
pub(crate) fn check_files(state: &AppState, files: &[FileUpload], errors: &mut FieldErrors) {
    let max = state.config.attachment_max_bytes;
    if files.len() > MAX_FILES_PER_POST {
        errors.add("files", format!("Attach at most {MAX_FILES_PER_POST} files at a time."));
        return;
    }
    for f in files {
        let name = safe_filename(&f.filename);
        if f.size == 0 {
            errors.add("files", format!("“{name}” is empty."));
        } else if u64::try_from(f.size).unwrap_or(u64::MAX) > max || f.data.len() < f.size {
            errors.add(
                "files",
                format!("“{name}” is {}; files up to {} are accepted.", human_size(f.size as u64), human_size(max)),
            );
        }
    }
}

/// Stores checked files on the incident (and comment), internal with an internal note.
pub(crate) fn store_files(
    state: &AppState,
    conn: &mut DbConnection,
    (incident_id, comment_id): (i64, Option<i64>),
    internal: bool,
    files: &[FileUpload],
    by: i64,
) -> ServiceResult<()> {
    let named: Vec<(String, &FileUpload)> = files.iter().map(|f| (safe_filename(&f.filename), f)).collect();
    let parts = named.iter().map(|(name, f)| (name.as_str(), content_type_for(name), f.data.as_slice()));
    store_attachments(state, conn, (incident_id, comment_id), internal, parts, by)
}

/// Stores files (name, media type, bytes) as attachments of an incident or one of its
/// comments: the web forms' and incoming mail's.
pub(crate) fn store_attachments<'a>(
    state: &AppState,
    conn: &mut DbConnection,
    (incident_id, comment_id): (i64, Option<i64>),
    internal: bool,
    parts: impl IntoIterator<Item = (&'a str, &'a str, &'a [u8])>,
    by: i64,
) -> ServiceResult<()> {
    let now = state.clock.now_naive();
    for (filename, content_type, data) in parts {
        let a = attachments::NewAttachment {
            incident_id,
            comment_id,
            internal,
            filename,
            content_type,
            data,
            created_by: Some(by),
            now,
        };
        attachments::insert(conn, &a)?;
    }
    Ok(())
}
