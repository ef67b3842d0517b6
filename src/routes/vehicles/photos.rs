//! An editor's work on a vehicle's photos: `POST /vehicles/{id}/photos`
//! (multipart: the form's token first, then `photos`, one file or many),
//! `POST /vehicles/{id}/photos/{photo}/move` (`to`: `first`, which makes it
//! the cover, `earlier` or `later`) and `POST /vehicles/{id}/photos/{photo}/
//! delete`.
//!
//! An upload is read one file at a time (a file of more than 15 MB is read
//! through, not kept); each is checked and converted off the request
//! threads (`app::Photos`) while the next arrives. Only when every file is good are they stored, all
//! in one transaction; otherwise the vehicle's page comes back (422), each
//! bad file named beside the file input, and nothing is stored.

use actix_session::Session;
use actix_web::{HttpResponse, http::StatusCode, web};
use serde::Deserialize;

use crate::{
    app::AppState,
    auth::{Editor, EditorRole, Upload},
    domain::{
        FieldErrors,
        photo::{
            MAX_FILE_BYTES, MAX_FILES, MAX_PER_VEHICLE, MAX_UPLOAD_BYTES, Move, Problem, Processed,
        },
    },
    models::{photos, vehicles},
    web::{
        AppError, Flash, Missing, render, see_other,
        uploads::{self, Read},
    },
};

/// The file input's name, and where its errors show.
const FIELD: &str = "photos";

/// What came of reading an upload's files.
#[derive(Default)]
struct Received {
    good: Vec<Processed>,
    /// What is wrong, one sentence each, to show beside the file input.
    problems: Vec<String>,
}

pub async fn upload(
    form: Upload<EditorRole>,
    session: Session,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let Upload { user, files } = form;
    let id = path.into_inner();
    // The vehicle first (404 before a file is read); no connection is held
    // while the files arrive.
    let stock = {
        let mut conn = user.db(&state).await?;
        vehicles::find(&mut conn, id)
            .await?
            .ok_or(AppError::Missing(Missing::Vehicle))?
            .vehicle_number
    };
    let mut received = match files {
        Some(mut form) => receive(&state, &mut form).await?,
        None => Received::default(),
    };
    if received.good.is_empty() && received.problems.is_empty() {
        received
            .problems
            .push("Choose one or more photos to add.".into());
    }
    let mut conn = user.db(&state).await?;
    if received.problems.is_empty() {
        match photos::add(&mut conn, id, &stock, user.id, &received.good).await? {
            photos::Added::Added { added, already } => {
                tracing::info!(vehicle_id = id, user_id = user.id, added, "photos added");
                Flash::success(added_message(added, already)).set(&session);
                return Ok(see_other(&format!("/vehicles/{id}")));
            }
            photos::Added::NoRoom { room } => received.problems.push(format!(
                "A vehicle keeps at most {MAX_PER_VEHICLE} photos; this one has room for {room} more. \
                 Delete some first, or choose fewer."
            )),
        }
    }
    let mut errors = FieldErrors::default();
    errors.add(FIELD, received.problems.join(" "));
    let page = super::show::vehicle_page(&mut conn, &user, &session, &state, id, errors).await?;
    Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page))
}

/// Reads the files of `form` one by one, converting each as it comes; past
/// a limit nothing more is converted (the rest is only read through, so
/// that the answer reaches the browser).
async fn receive(
    state: &AppState,
    form: &mut actix_multipart::Multipart,
) -> Result<Received, AppError> {
    let broken = |e: uploads::Broken| {
        tracing::info!(error = %e, "photo upload broken off");
        AppError::BadRequest(
            "The upload was cut off before it was complete. Nothing was saved; please try again.",
        )
    };
    let mut out = Received::default();
    let mut converting = Vec::new();
    let (mut files, mut bytes, mut over) = (0usize, 0usize, None);
    while let Some(mut field) = uploads::next(form).await.map_err(broken)? {
        if field.name() != Some(FIELD) {
            uploads::read(&mut field, 0).await.map_err(broken)?;
            continue;
        }
        let name = uploads::file_name(&field);
        let read = uploads::read(&mut field, MAX_FILE_BYTES)
            .await
            .map_err(broken)?;
        let upload = match read {
            // No file chosen: browsers send the field empty.
            Read::Whole(data) if data.is_empty() => continue,
            Read::Whole(data) => data,
            Read::TooLong(n) => {
                bytes = bytes.saturating_add(n);
                out.problems.push(format!("“{name}” {}", Problem::TooLarge));
                continue;
            }
        };
        files += 1;
        bytes = bytes.saturating_add(upload.len());
        if files > MAX_FILES {
            over = Some(format!("Choose at most {MAX_FILES} photos at a time."));
        } else if bytes > MAX_UPLOAD_BYTES {
            over =
                Some("These photos come to more than 100 MB: add them in smaller groups.".into());
        }
        if over.is_some() {
            continue;
        }
        // Converted while the next file arrives (and, on several cores,
        // beside the others); `app::Photos` bounds how many at once.
        let photos = state.photos.clone();
        let work = actix_web::rt::spawn(async move { photos.process(upload).await });
        converting.push((name, work));
    }
    for (name, work) in converting {
        match work.await.map_err(anyhow::Error::from)?? {
            Ok(photo) => out.good.push(photo),
            Err(problem) => out.problems.push(format!("“{name}” {problem}")),
        }
    }
    out.problems.extend(over);
    Ok(out)
}

fn added_message(added: usize, already: usize) -> String {
    let plural = |n: usize, one: &str, many: &str| {
        if n == 1 {
            format!("1 {one}")
        } else {
            format!("{n} {many}")
        }
    };
    match (added, already) {
        (0, n) => format!(
            "{} already on this vehicle.",
            plural(n, "photo was", "photos were")
        ),
        (n, 0) => format!("{} added.", plural(n, "photo", "photos")),
        (n, m) => format!(
            "{} added; {} already on this vehicle.",
            plural(n, "photo", "photos"),
            plural(m, "was", "were")
        ),
    }
}

#[derive(Deserialize)]
pub struct MoveForm {
    to: Option<String>,
}

pub async fn move_photo(
    user: Editor,
    session: Session,
    state: web::Data<AppState>,
    path: web::Path<(i64, i64)>,
    form: web::Form<MoveForm>,
) -> Result<HttpResponse, AppError> {
    let (id, photo) = path.into_inner();
    let to = form
        .to
        .as_deref()
        .and_then(Move::parse)
        .ok_or(AppError::BadRequest(
            "Choose where the photo goes: first (the cover), earlier or later.",
        ))?;
    let mut conn = user.db(&state).await?;
    vehicles::find(&mut conn, id)
        .await?
        .ok_or(AppError::Missing(Missing::Vehicle))?;
    if !photos::reorder(&mut conn, id, photo, to).await? {
        return Err(AppError::NotFound);
    }
    Flash::success(match to {
        Move::First => "This photo is the cover now.",
        Move::Earlier | Move::Later => "The photo is moved.",
    })
    .set(&session);
    Ok(see_other(&format!("/vehicles/{id}")))
}

pub async fn delete(
    user: Editor,
    session: Session,
    state: web::Data<AppState>,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, AppError> {
    let (id, photo) = path.into_inner();
    let mut conn = user.db(&state).await?;
    let stock = vehicles::find(&mut conn, id)
        .await?
        .ok_or(AppError::Missing(Missing::Vehicle))?
        .vehicle_number;
    // Sent twice (a double click), the second finds nothing: not an error.
    if photos::remove(&mut conn, id, &stock, photo, user.id).await? {
        tracing::info!(
            vehicle_id = id,
            photo_id = photo,
            user_id = user.id,
            "photo deleted"
        );
        Flash::success("The photo is deleted.").set(&session);
    } else {
        Flash::info("That photo was already deleted.").set(&session);
    }
    Ok(see_other(&format!("/vehicles/{id}")))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_message_counts_what_was_added_and_what_was_there() {
        assert_eq!(super::added_message(1, 0), "1 photo added.");
        assert_eq!(super::added_message(3, 0), "3 photos added.");
        assert_eq!(
            super::added_message(0, 2),
            "2 photos were already on this vehicle."
        );
        assert_eq!(
            super::added_message(2, 1),
            "2 photos added; 1 was already on this vehicle."
        );
    }
}
