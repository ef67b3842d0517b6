//! Importing vehicles from CSV (issue #14 §2): `GET /vehicles/import` (the
//! upload form), `POST /vehicles/import` (multipart: the form's token, then
//! `file`) keeps the preview and writes nothing else (or answers 422 with
//! each bad row's problems beside it); `GET /vehicles/import/{id}` shows the
//! preview, `POST /vehicles/import/{id}` confirms it (every row in one
//! transaction, or none), and the same page then shows what it did.

use actix_session::Session;
use actix_web::{HttpResponse, http::StatusCode, web};
use askama::Template;

use crate::{
    app::AppState,
    auth::{Editor, EditorRole, SignedIn, Upload},
    domain::{
        Status,
        import::{self, FileProblem, MAX_BYTES, Row},
    },
    models::imports::{self, Done, Plan, Planned},
    web::{
        AppError, Flash, Page, filters, render, see_other,
        uploads::{self, Read},
    },
};

/// The file input's name.
const FIELD: &str = "file";
/// A preview lists at most this many rows without problems (all rows with
/// problems are listed); the counts cover every row.
const SHOWN: usize = 500;

#[derive(Template)]
#[template(path = "vehicles/import.html")]
pub struct UploadPage {
    pub page: Page,
    pub problem: Option<String>,
}

/// A row of the preview or the result.
pub struct Line {
    pub line: u64,
    pub vehicle_number: String,
    pub title: String,
    pub status: Option<Status>,
    /// What becomes of it: "Add", "Update", "Unchanged", "Left alone".
    pub action: &'static str,
    pub note: String,
    /// The vehicle it matched, for a link.
    pub vehicle_id: Option<i64>,
    /// (column, message) for each problem.
    pub problems: Vec<(&'static str, String)>,
}

#[derive(Default)]
pub struct Counts {
    pub added: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub left_alone: i64,
    pub with_problems: i64,
}

#[derive(Template)]
#[template(path = "vehicles/import_preview.html")]
pub struct PreviewPage {
    pub page: Page,
    pub file_name: String,
    pub counts: Counts,
    pub lines: Vec<Line>,
    /// Rows not listed (without problems, past `SHOWN`).
    pub hidden: i64,
    /// Where confirming posts; none while any row has a problem.
    pub confirm_url: Option<String>,
    /// Why the confirmation did not go through (a conflict, a refusal).
    pub stopped: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "vehicles/import_done.html")]
pub struct DonePage {
    pub page: Page,
    pub file_name: String,
    pub done: Done,
    pub left_alone: Vec<Line>,
}

fn page(title: &str, session: &Session, user: &SignedIn) -> Page {
    Page::new(title, session, Some(user))
        .section("inventory")
        .still()
}

pub async fn form(user: Editor, session: Session) -> HttpResponse {
    render(
        StatusCode::OK,
        &UploadPage {
            page: page("Import vehicles from CSV", &session, &user),
            problem: None,
        },
    )
}

fn upload_problem(
    session: &Session,
    user: &SignedIn,
    status: StatusCode,
    problem: String,
) -> HttpResponse {
    render(
        status,
        &UploadPage {
            page: page("Import vehicles from CSV", session, user),
            problem: Some(problem),
        },
    )
}

fn title_of(form: &crate::domain::VehicleForm) -> String {
    [&form.year, &form.make, &form.model, &form.trim]
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(80)
        .collect()
}

/// A valid row as listed: what becomes of it, with `problems` when the
/// confirmation met some (a rule's note beside a row left alone).
fn line_of(row: &Planned, problems: Vec<(&'static str, String)>) -> Line {
    let f = &row.fields;
    let (action, vehicle_id) = match &row.plan {
        Plan::Add => ("Add", None),
        Plan::Update { id, .. } => ("Update", Some(*id)),
        Plan::Unchanged { id } => ("Unchanged", Some(*id)),
        Plan::LeftAlone { id, .. } => ("Left alone", *id),
    };
    let note = match &row.plan {
        Plan::LeftAlone { why, .. } => why.clone(),
        _ => String::new(),
    };
    Line {
        line: row.line,
        vehicle_number: f.vehicle_number.clone(),
        title: title_of(&crate::domain::VehicleForm::from_fields(f, 1)),
        status: Some(f.status),
        action,
        note,
        vehicle_id,
        problems,
    }
}

fn count(counts: &mut Counts, plan: &Plan) {
    match plan {
        Plan::Add => counts.added += 1,
        Plan::Update { .. } => counts.updated += 1,
        Plan::Unchanged { .. } => counts.unchanged += 1,
        Plan::LeftAlone { .. } => counts.left_alone += 1,
    }
}

/// Whether a row without problems is listed: changes and rows left alone
/// are, up to `SHOWN`; unchanged rows only count.
fn listed(plan: &Plan, shown: &mut usize) -> bool {
    if matches!(plan, Plan::Unchanged { .. }) || *shown >= SHOWN {
        return false;
    }
    *shown += 1;
    true
}

/// A preview's counts and the lines it lists, row by row.
#[derive(Default)]
struct Tally {
    counts: Counts,
    lines: Vec<Line>,
    shown: usize,
    /// Changes not listed (past `SHOWN`).
    hidden: i64,
}

impl Tally {
    fn planned(&mut self, row: &Planned) {
        count(&mut self.counts, &row.plan);
        if listed(&row.plan, &mut self.shown) {
            self.lines.push(line_of(row, Vec::new()));
        } else if !matches!(row.plan, Plan::Unchanged { .. }) {
            self.hidden += 1;
        }
    }

    fn problem(&mut self, row: &Row) {
        self.counts.with_problems += 1;
        self.lines.push(problem_line(row));
    }
}

pub async fn preview(
    form: Upload<EditorRole>,
    session: Session,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let Upload { user, files } = form;
    let Some(mut body) = files else {
        return Ok(upload_problem(
            &session,
            &user,
            StatusCode::UNPROCESSABLE_ENTITY,
            "Choose a CSV file to import.".into(),
        ));
    };
    let broken = |e: uploads::Broken| {
        tracing::info!(error = %e, "import upload broken off");
        AppError::BadRequest(
            "The upload was cut off before it was complete. Nothing was saved; please try again.",
        )
    };
    let mut file: Option<(String, Read)> = None;
    while let Some(mut field) = uploads::next(&mut body).await.map_err(broken)? {
        if field.name() != Some(FIELD) || file.is_some() {
            uploads::read(&mut field, 0).await.map_err(broken)?;
            continue;
        }
        let name = uploads::file_name(&field);
        let read = uploads::read(&mut field, MAX_BYTES).await.map_err(broken)?;
        file = Some((name, read));
    }
    let (file_name, bytes) = match file {
        Some((name, Read::Whole(bytes))) => (name, bytes),
        Some((_, Read::TooLong(_))) => {
            return Ok(upload_problem(
                &session,
                &user,
                StatusCode::PAYLOAD_TOO_LARGE,
                FileProblem::TooLarge.to_string(),
            ));
        }
        None => (String::new(), Vec::new()),
    };
    if file_name.is_empty() && bytes.is_empty() {
        return Ok(upload_problem(
            &session,
            &user,
            StatusCode::UNPROCESSABLE_ENTITY,
            "Choose a CSV file to import.".into(),
        ));
    }
    // Parsing 10,000 rows is CPU work: off the request thread.
    let today = state.today();
    let parsed = web::block(move || import::read(&bytes, today))
        .await
        .map_err(anyhow::Error::from)?;
    let mut rows = match parsed {
        Ok(rows) => rows,
        Err(problem) => {
            return Ok(upload_problem(
                &session,
                &user,
                StatusCode::UNPROCESSABLE_ENTITY,
                problem.to_string(),
            ));
        }
    };
    let numbers: Vec<String> = rows
        .iter()
        .filter_map(|r| r.parsed.as_ref().ok())
        .map(|f| f.vehicle_number.clone())
        .collect();
    let mut conn = user.db(&state).await?;
    let matched = imports::matching(&mut conn, numbers).await?;
    let plans = imports::plan(&mut rows, &matched, user.role);
    let any_problem = rows.iter().any(|r| r.parsed.is_err());
    // Each row's plan, when it has no problem.
    let planned: Vec<Option<Planned>> = rows
        .iter()
        .zip(&plans)
        .map(|(row, plan)| {
            Some(Planned {
                line: row.line,
                fields: row.parsed.as_ref().ok()?.clone(),
                plan: plan.clone()?,
            })
        })
        .collect();
    if !any_problem {
        let planned: Vec<Planned> = planned.into_iter().flatten().collect();
        let id = imports::keep(&mut conn, user.id, &file_name, &planned).await?;
        return Ok(see_other(&format!("/vehicles/import/{id}")));
    }
    drop(conn);
    let mut tally = Tally::default();
    for (row, planned) in rows.iter().zip(&planned) {
        match planned {
            Some(p) => tally.planned(p),
            None => tally.problem(row),
        }
    }
    Ok(render(
        StatusCode::UNPROCESSABLE_ENTITY,
        &PreviewPage {
            page: page("Import preview", &session, &user),
            file_name,
            counts: tally.counts,
            lines: tally.lines,
            hidden: tally.hidden,
            confirm_url: None,
            stopped: None,
        },
    ))
}
fn problem_line(row: &Row) -> Line {
    Line {
        line: row.line,
        vehicle_number: row.form.vehicle_number.chars().take(30).collect(),
        title: title_of(&row.form),
        status: Status::parse(&row.form.status),
        action: "Not imported",
        note: String::new(),
        vehicle_id: None,
        problems: row
            .problems()
            .iter()
            .map(|p| (p.column, p.message.clone()))
            .collect(),
    }
}

pub async fn confirm(
    user: Editor,
    session: Session,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let mut conn = user.db(&state).await?;
    let Some((file_name, rows)) = imports::find(&mut conn, id).await? else {
        // Confirmed already (a double click), expired, or someone else's.
        if imports::result(&mut conn, id).await?.is_some() {
            return Ok(see_other(&format!("/vehicles/import/{id}")));
        }
        return Ok(gone(&session));
    };
    match imports::confirm(&mut conn, id, user.id, user.role).await? {
        None => Ok(gone(&session)),
        Some(Ok(done)) => {
            tracing::info!(
                import_id = id,
                user_id = user.id,
                added = done.added,
                updated = done.updated,
                "vehicles imported"
            );
            state.makes.forget();
            Flash::success(format!(
                "Imported: {} added, {} updated.",
                done.added, done.updated
            ))
            .set(&session);
            Ok(see_other(&format!("/vehicles/import/{id}")))
        }
        Some(Err(stopped)) => {
            let mut counts = Counts::default();
            let mut lines = Vec::new();
            for (i, row) in rows.iter().enumerate() {
                count(&mut counts, &row.plan);
                if let Some((_, problems)) = stopped.rows.iter().find(|(r, _)| *r == i) {
                    counts.with_problems += 1;
                    lines.push(line_of(row, problems.clone()));
                }
            }
            let status = if stopped.conflict {
                StatusCode::CONFLICT
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            Ok(render(
                status,
                &PreviewPage {
                    page: page("Import preview", &session, &user),
                    file_name,
                    counts,
                    lines,
                    hidden: 0,
                    confirm_url: None,
                    stopped: Some(if stopped.conflict {
                        "Someone changed these vehicles since the preview, in the same fields as the file. Nothing was imported: upload the file again to see the vehicles as they are now."
                    } else {
                        "These rows were refused. Nothing was imported: correct the file and upload it again."
                    }),
                },
            ))
        }
    }
}

/// An import that is not (or no longer) there: expired, or someone else's.
fn gone(session: &Session) -> HttpResponse {
    Flash::info(
        "That import preview has expired (they are kept for an hour): upload the file again.",
    )
    .set(session);
    see_other("/vehicles/import")
}

/// The preview of a kept import, with the form that confirms it; once
/// confirmed, what it did.
pub async fn show(
    user: Editor,
    session: Session,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let mut conn = user.db(&state).await?;
    if let Some((file_name, rows)) = imports::find(&mut conn, id).await? {
        drop(conn);
        let mut tally = Tally::default();
        for row in &rows {
            tally.planned(row);
        }
        return Ok(render(
            StatusCode::OK,
            &PreviewPage {
                page: page("Import preview", &session, &user),
                file_name,
                counts: tally.counts,
                lines: tally.lines,
                hidden: tally.hidden,
                confirm_url: Some(format!("/vehicles/import/{id}")),
                stopped: None,
            },
        ));
    }
    let Some((file_name, rows, done)) = imports::result(&mut conn, id).await? else {
        return Ok(gone(&session));
    };
    drop(conn);
    let left_alone = rows
        .iter()
        .filter(|r| matches!(r.plan, Plan::LeftAlone { .. }))
        .map(|r| line_of(r, Vec::new()))
        .collect();
    Ok(render(
        StatusCode::OK,
        &DonePage {
            page: page("Import done", &session, &user),
            file_name,
            done,
            left_alone,
        },
    ))
}
