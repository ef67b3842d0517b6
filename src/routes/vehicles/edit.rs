//! Adding and editing vehicles. An edit saves onto the version its form came
//! from; when someone else saved meanwhile, their changes and these are merged
//! three ways, and only a field both changed differently stops the save (409).

use std::collections::HashMap;

use actix_session::Session;
use actix_web::{HttpResponse, http::StatusCode, web};
use askama::Template;
use chrono::{DateTime, Utc};

use crate::{
    app::AppState,
    auth::{Editor, SignedIn, kept_forms},
    domain::FieldErrors,
    domain::{Condition, Role, Status, VehicleField, VehicleForm, vehicle::Conflict},
    models::vehicles::{self, EditOutcome, Refusal, Vehicle},
    web::{AppError, Flash, Missing, Page, filters, render, see_other},
};

use super::presence::{self, Present};

/// The vehicle form, for adding (`vehicle: None`) or editing.
#[derive(Template)]
#[template(path = "vehicles/form.html")]
pub struct FormPage {
    pub page: Page,
    pub heading: String,
    pub action: String,
    pub form: VehicleForm,
    pub errors: FieldErrors,
    /// (value, label) pairs of the statuses this form may choose.
    pub statuses: Vec<(&'static str, &'static str)>,
    pub conditions: Vec<(&'static str, &'static str)>,
    pub cancel_url: String,
    pub submit_label: &'static str,
    pub conflicts: Vec<ConflictRow>,
    /// The vehicle edited (none when adding one), and who else has it open.
    pub vehicle_id: Option<i64>,
    pub editors: Vec<Present>,
}

pub struct ConflictRow {
    /// The form field (`list_price`), marked in the form below the table.
    pub name: &'static str,
    pub label: &'static str,
    pub base: String,
    pub theirs: String,
    /// Who saved `theirs`, and when.
    pub changed_by: Option<ChangedBy>,
    pub mine: String,
}

pub struct ChangedBy {
    pub who: String,
    pub at: DateTime<Utc>,
}

impl FormPage {
    /// On a conflict page, what the form says under a field both people
    /// changed; empty for every other field (and on every other page).
    pub fn conflict_note(&self, field: &str) -> String {
        self.conflicts
            .iter()
            .find(|c| c.name == field)
            .map(|c| {
                let theirs = if c.theirs.is_empty() {
                    "(empty)"
                } else {
                    &c.theirs
                };
                match &c.changed_by {
                    Some(by) => format!(
                        "In conflict: {} saved “{theirs}” meanwhile. The box holds yours.",
                        by.who
                    ),
                    None => {
                        format!("In conflict: “{theirs}” was saved meanwhile. The box holds yours.")
                    }
                }
            })
            .unwrap_or_default()
    }
}

fn choices(statuses: Vec<Status>) -> Vec<(&'static str, &'static str)> {
    statuses
        .into_iter()
        .map(|s| (s.as_str(), s.label()))
        .collect()
}

fn conditions() -> Vec<(&'static str, &'static str)> {
    Condition::ALL.map(|c| (c.as_str(), c.label())).to_vec()
}

impl FormPage {
    fn for_new(page: Page, form: VehicleForm, errors: FieldErrors) -> Self {
        Self {
            page,
            heading: "Add a vehicle".into(),
            action: "/vehicles".into(),
            form,
            errors,
            // A new vehicle starts from `available`.
            statuses: choices(Status::Available.choices(Role::Editor)),
            conditions: conditions(),
            cancel_url: "/vehicles".into(),
            submit_label: "Add vehicle",
            conflicts: Vec::new(),
            vehicle_id: None,
            editors: Vec::new(),
        }
    }

    fn for_edit(
        page: Page,
        vehicle: &Vehicle,
        form: VehicleForm,
        errors: FieldErrors,
        user: &SignedIn,
    ) -> Self {
        Self {
            page,
            heading: format!("Edit {} · {}", vehicle.vehicle_number, vehicle.title()),
            action: format!("/vehicles/{}", vehicle.id),
            form,
            errors,
            statuses: choices(vehicle.status.choices(user.role)),
            conditions: conditions(),
            cancel_url: format!("/vehicles/{}", vehicle.id),
            submit_label: "Save changes",
            conflicts: Vec::new(),
            vehicle_id: Some(vehicle.id),
            editors: Vec::new(),
        }
    }
}

pub async fn new(
    user: Editor,
    session: Session,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let mut conn = user.db(&state).await?;
    let kept = kept_forms::restore(&session, &mut conn, &user, "/vehicles/new").await?;
    drop(conn);
    let form = kept.unwrap_or_else(|| VehicleForm {
        condition: "used".into(),
        status: "available".into(),
        received_on: state.today().format("%Y-%m-%d").to_string(),
        ..VehicleForm::default()
    });
    let page = Page::new("Add a vehicle", &session, Some(&user)).section("inventory");
    Ok(render(
        StatusCode::OK,
        &FormPage::for_new(page, form, FieldErrors::default()),
    ))
}

pub async fn create(
    user: Editor,
    session: Session,
    state: web::Data<AppState>,
    form: web::Form<VehicleForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let invalid = |errors: FieldErrors, form: VehicleForm| {
        let page = Page::new("Add a vehicle", &session, Some(&user)).section("inventory");
        render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &FormPage::for_new(page, form, errors),
        )
    };
    let fields = match form.parse(state.today()) {
        Ok(f)
            if Status::Available
                .change_problem(f.status, user.role)
                .is_none() =>
        {
            f
        }
        Ok(_) => {
            let mut e = FieldErrors::default();
            e.add("status", "A new vehicle is available or reserved.");
            return Ok(invalid(e, form));
        }
        Err(errors) => return Ok(invalid(errors, form)),
    };
    let mut conn = user.db(&state).await?;
    match vehicles::create(&mut conn, &fields, user.id).await? {
        Ok(id) => {
            tracing::info!(vehicle_id = id, user_id = user.id, "vehicle added");
            // Perhaps a new make: this instance's filter shows it at once.
            state.makes.forget();
            Flash::success(format!("Added {}.", fields.vehicle_number)).set(&session);
            Ok(see_other(&format!("/vehicles/{id}")))
        }
        Err(errors) => Ok(invalid(errors, form)),
    }
}

pub async fn edit(
    user: Editor,
    session: Session,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let mut conn = user.db(&state).await?;
    let vehicle = vehicles::find(&mut conn, path.into_inner())
        .await?
        .ok_or(AppError::Missing(Missing::Vehicle))?;
    // Opening the form counts as being there (even without JavaScript).
    presence::arrive(&mut conn, vehicle.id, &user).await?;
    let editors = presence::others(&mut conn, vehicle.id, &user).await?;
    // A form sent after the session ended comes back as typed, on the
    // version it was made from (so saving it merges as any stale edit).
    let page_path = format!("/vehicles/{}/edit", vehicle.id);
    let kept = kept_forms::restore(&session, &mut conn, &user, &page_path).await?;
    drop(conn);
    let form = kept.unwrap_or_else(|| VehicleForm::from_fields(&vehicle.fields(), vehicle.version));
    let page = Page::new(
        format!("Edit {}", vehicle.vehicle_number),
        &session,
        Some(&user),
    )
    .section("inventory");
    Ok(render(
        StatusCode::OK,
        &FormPage {
            editors,
            ..FormPage::for_edit(page, &vehicle, form, FieldErrors::default(), &user)
        },
    ))
}

pub async fn update(
    user: Editor,
    session: Session,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    form: web::Form<VehicleForm>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let form = form.into_inner();
    let mut conn = user.db(&state).await?;
    let page_for = |vehicle: &Vehicle| {
        Page::new(
            format!("Edit {}", vehicle.vehicle_number),
            &session,
            Some(&user),
        )
        .section("inventory")
    };
    let Some(version) = form.version() else {
        return Err(AppError::BadRequest(
            "This form has no version number. Reload the vehicle and edit it again.",
        ));
    };
    let mine = match form.parse(state.today()) {
        Ok(f) => f,
        Err(errors) => {
            let vehicle = vehicles::find(&mut conn, id)
                .await?
                .ok_or(AppError::Missing(Missing::Vehicle))?;
            return Ok(render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &FormPage::for_edit(page_for(&vehicle), &vehicle, form, errors, &user),
            ));
        }
    };
    match vehicles::save_edit(&mut conn, id, version, &mine, user.id, user.role).await? {
        Ok(EditOutcome::Saved { version, merged }) => {
            tracing::info!(vehicle_id = id, version, user_id = user.id, "vehicle saved");
            state.makes.forget();
            presence::depart(&mut conn, id, &user).await;
            let text = if merged.is_empty() {
                format!("Saved {}.", mine.vehicle_number)
            } else {
                let names: Vec<&str> = merged.iter().map(|f| f.label()).collect();
                format!(
                    "Saved. Someone else had changed {} meanwhile; their changes are kept alongside yours.",
                    names.join(", ").to_lowercase()
                )
            };
            Flash::success(text).set(&session);
            Ok(see_other(&format!("/vehicles/{id}")))
        }
        Ok(EditOutcome::Unchanged) => {
            presence::depart(&mut conn, id, &user).await;
            Flash::info("Nothing to save: the vehicle already looks like this.").set(&session);
            Ok(see_other(&format!("/vehicles/{id}")))
        }
        Ok(EditOutcome::Conflict {
            current,
            conflicts,
            proposal,
        }) => {
            let mut authors = conflict_authors(&mut conn, id, version, &conflicts).await?;
            let form = VehicleForm::from_fields(&proposal, current.version);
            let mut page = FormPage::for_edit(
                page_for(&current),
                &current,
                form,
                FieldErrors::default(),
                &user,
            );
            page.heading = format!(
                "Someone else changed {} while you were editing",
                current.vehicle_number
            );
            page.submit_label = "Save my values";
            page.conflicts = conflicts
                .into_iter()
                .map(|c| ConflictRow {
                    name: c.field.name(),
                    label: c.field.label(),
                    changed_by: authors.remove(&c.field),
                    base: c.base,
                    theirs: c.theirs,
                    mine: c.mine,
                })
                .collect();
            Ok(render(StatusCode::CONFLICT, &page))
        }
        Err(Refusal::NotFound) => Err(AppError::Missing(Missing::Vehicle)),
        Err(Refusal::Invalid(errors)) => {
            let vehicle = vehicles::find(&mut conn, id)
                .await?
                .ok_or(AppError::Missing(Missing::Vehicle))?;
            Ok(render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &FormPage::for_edit(page_for(&vehicle), &vehicle, form, errors, &user),
            ))
        }
    }
}

/// For each conflicting field, who changed it last since `base` and when.
async fn conflict_authors(
    conn: &mut diesel_async::AsyncPgConnection,
    id: i64,
    base: i32,
    conflicts: &[Conflict],
) -> Result<HashMap<VehicleField, ChangedBy>, AppError> {
    let history = vehicles::history(conn, id, base).await?;
    let mut out = HashMap::new();
    for c in conflicts {
        // Newest first: the first entry that touched the field set its value.
        if let Some(h) = history
            .iter()
            .find(|h| h.changes.iter().any(|change| change.field == c.field))
        {
            out.insert(
                c.field,
                ChangedBy {
                    who: h.who.clone(),
                    at: h.changed_at,
                },
            );
        }
    }
    Ok(out)
}
