//! CSV downloads: streamed a batch at a time (constant memory however many
//! rows, a pooled connection per batch), formula cells neutralised.

use std::future::Future;

use actix_web::{HttpResponse, http::header, web::Bytes};
use futures_util::{StreamExt as _, stream};

use crate::web::AppError;

/// A spreadsheet would run a cell starting with `= + - @` (or tab/CR) as a
/// formula; a leading apostrophe makes it plain text.
pub fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

/// One batch of a download: its records, and where the next one starts
/// (`None`: this was the last).
pub struct Batch<C, const N: usize> {
    pub records: Vec<[String; N]>,
    pub next: Option<C>,
}

fn write<const N: usize>(
    header: Option<[&str; N]>,
    records: &[[String; N]],
) -> Result<Bytes, AppError> {
    let mut w = csv::Writer::from_writer(Vec::with_capacity(records.len() * 160));
    let err = |e: csv::Error| AppError::Internal(e.into());
    if let Some(header) = header {
        w.write_record(header).map_err(err)?;
    }
    for record in records {
        w.write_record(record.iter().map(|c| neutralise(c).into_owned()))
            .map_err(err)?;
    }
    w.into_inner()
        .map(Bytes::from)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("csv: {e}")))
}

/// Answers with the file `filename`: `header`, then the records of batch
/// after batch, `read(None)` first, then `read(Some(next))` from where each
/// batch ended. The first batch is read before answering, so a database
/// outage is a 503, not a truncated file; a later failure aborts the chunked
/// response, so the download fails visibly instead of ending as a short but
/// valid file.
pub async fn download<C, F, Fut, const N: usize>(
    filename: &str,
    header: [&'static str; N],
    read: F,
) -> Result<HttpResponse, AppError>
where
    C: 'static,
    F: Fn(Option<C>) -> Fut + 'static,
    Fut: Future<Output = Result<Batch<C, N>, AppError>> + 'static,
{
    let first = read(None).await?;
    let head = write(Some(header), &first.records)?;
    let file = filename.to_string();
    let rest = stream::unfold((read, first.next), move |(read, next)| {
        let file = file.clone();
        async move {
            let batch = read(Some(next?))
                .await
                .and_then(|b| Ok((write(None, &b.records)?, b.next)));
            match batch {
                Ok((bytes, next)) => Some((Ok(bytes), (read, next))),
                Err(e) => {
                    tracing::warn!(error = %e, file, "CSV export stopped");
                    Some((Err(e), (read, None)))
                }
            }
        }
    });
    let body = stream::once(async move { Ok::<_, AppError>(head) }).chain(rest);
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{filename}\""),
        ))
        .streaming(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_neutralised() {
        assert_eq!(neutralise("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(neutralise("+1"), "'+1");
        assert_eq!(neutralise("-1"), "'-1");
        assert_eq!(neutralise("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(neutralise("Honda"), "Honda");
        assert_eq!(neutralise(""), "");
    }

    #[test]
    fn records_are_quoted_and_neutralised() {
        let bytes = write(
            Some(["a", "b"]),
            &[["=1+1".to_string(), "x, \"y\"".to_string()]],
        )
        .unwrap();
        assert_eq!(&bytes[..], b"a,b\n'=1+1,\"x, \"\"y\"\"\"\n");
    }
}
