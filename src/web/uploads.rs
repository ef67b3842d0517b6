//! The routes that take files, as a `multipart/form-data` body: only their
//! handlers read such a body, and the CSRF token inside it
//! (`auth::extract::Upload`); every other route refuses one as it always
//! did. Their bodies may take longer to arrive (`Config::upload_timeout`),
//! and are read field by field, never more than one file in memory.

use actix_multipart::{Field, Multipart};
use actix_web::http::header::{self, HeaderMap};
use futures_util::StreamExt as _;

/// Whether `path` takes files: the photo upload, `/vehicles/{id}/photos`,
/// and the CSV import, `/vehicles/import`.
pub fn takes_files(path: &str) -> bool {
    path == "/vehicles/import"
        || path
            .strip_prefix("/vehicles/")
            .and_then(|rest| rest.strip_suffix("/photos"))
            .is_some_and(|id| !id.is_empty() && !id.contains('/'))
}

/// Whether a request's body says it is `multipart/form-data`.
pub fn is_multipart(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        })
}

/// A field's content, read up to a limit.
pub enum Read {
    Whole(Vec<u8>),
    /// Longer than the limit: read to its end (so the next field, and the
    /// answer, can follow) but not kept. Holds how many bytes it had.
    TooLong(usize),
}

/// Why a body could not be read: cut off, too slow, or not multipart.
#[derive(Debug, thiserror::Error)]
#[error("the upload could not be read: {0}")]
pub struct Broken(String);

/// Reads `field` to its end, keeping at most `limit` bytes.
pub async fn read(field: &mut Field, limit: usize) -> Result<Read, Broken> {
    let mut kept = Vec::new();
    let mut total = 0usize;
    while let Some(chunk) = field.next().await {
        let chunk = chunk.map_err(|e| Broken(e.to_string()))?;
        total = total.saturating_add(chunk.len());
        if total <= limit {
            kept.extend_from_slice(&chunk);
        } else if !kept.is_empty() {
            kept = Vec::new();
        }
    }
    Ok(if total > limit {
        Read::TooLong(total)
    } else {
        Read::Whole(kept)
    })
}

/// The next field of `form`, if any.
pub async fn next(form: &mut Multipart) -> Result<Option<Field>, Broken> {
    match form.next().await {
        None => Ok(None),
        Some(Ok(field)) => Ok(Some(field)),
        Some(Err(e)) => Err(Broken(e.to_string())),
    }
}

/// The file name a browser sent with a file field, cut to something a page
/// can show (it is only ever shown, escaped).
pub fn file_name(field: &Field) -> String {
    let name = field
        .content_disposition()
        .and_then(|cd| cd.get_filename())
        .unwrap_or_default();
    let name = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cut: String = name.chars().filter(|c| !c.is_control()).take(80).collect();
    if cut.is_empty() { "A file".into() } else { cut }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_photo_upload_and_the_import_take_files() {
        assert!(takes_files("/vehicles/12/photos"));
        assert!(takes_files("/vehicles/import"));
        for path in [
            "/vehicles/12",
            "/vehicles/photos",
            "/vehicles//photos",
            "/vehicles/12/photos/3/move",
            "/vehicles/1/2/photos",
            "/login",
            "/vehicles/12/photos/",
            "/vehicles/import/3",
        ] {
            assert!(!takes_files(path), "{path}");
        }
    }
}
