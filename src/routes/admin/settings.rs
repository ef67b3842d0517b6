//! `/admin/settings`: the dealership's name, address and phone (on every
//! receipt), how money and dates are shown, its time zone and the receipt
//! footer. Saved onto the version the form came from, audited; every
//! instance shows a save within moments (`live::settings`).

use actix_session::Session;
use actix_web::{HttpResponse, http::StatusCode, web};
use askama::Template;

use crate::{
    app::AppState,
    auth::Admin,
    domain::{
        FieldErrors,
        settings::{CurrencyPlace, DateFormat, Settings, SettingsForm},
    },
    models::settings::{self, SaveOutcome},
    web::{AppError, Flash, Page, render, see_other},
};

#[derive(Template)]
#[template(path = "admin/settings.html")]
struct SettingsPage {
    page: Page,
    form: SettingsForm,
    errors: FieldErrors,
    /// The zone times are shown in when none is chosen (`PCN_TIMEZONE`).
    server_zone: &'static str,
    /// Another admin saved while this form was open: it was not saved.
    stale: bool,
}

impl SettingsPage {
    fn place_options(&self) -> Vec<(&'static str, String)> {
        let example = |place| {
            Settings {
                currency_symbol: self.symbol_example(),
                currency_place: place,
                ..Default::default()
            }
            .money(2_730_000)
        };
        CurrencyPlace::ALL
            .iter()
            .map(|&p| (p.as_str(), format!("{} ({})", p.label(), example(p))))
            .collect()
    }

    /// The symbol typed, for the examples (a `$` while it is not valid).
    fn symbol_example(&self) -> String {
        let typed = self.form.currency_symbol.trim();
        if typed.is_empty() || self.errors.get("currency_symbol").is_some() {
            "$".into()
        } else {
            typed.into()
        }
    }

    fn format_options(&self) -> Vec<(&'static str, &'static str)> {
        DateFormat::ALL
            .iter()
            .map(|f| (f.as_str(), f.label()))
            .collect()
    }

    fn zone_options(&self) -> Vec<(&'static str, String)> {
        let mut options = vec![("", format!("The server's: {}", self.server_zone))];
        options.extend(
            chrono_tz::TZ_VARIANTS
                .iter()
                .map(|z| (z.name(), z.name().to_string())),
        );
        options
    }
}

fn settings_page(
    admin: &Admin,
    session: &Session,
    state: &AppState,
    status: StatusCode,
    form: SettingsForm,
    errors: FieldErrors,
    stale: bool,
) -> HttpResponse {
    render(
        status,
        &SettingsPage {
            page: Page::new("Settings", session, Some(admin)).section("admin"),
            form,
            errors,
            server_zone: state.config.timezone.name(),
            stale,
        },
    )
}

pub async fn show(
    admin: Admin,
    session: Session,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    // From the table, not this instance's copy: the form saves onto the
    // version it shows.
    let mut conn = admin.db(&state).await?;
    let current = settings::load(&mut conn).await?;
    drop(conn);
    Ok(settings_page(
        &admin,
        &session,
        &state,
        StatusCode::OK,
        SettingsForm::from(&current),
        FieldErrors::default(),
        false,
    ))
}

pub async fn save(
    admin: Admin,
    session: Session,
    state: web::Data<AppState>,
    form: web::Form<SettingsForm>,
) -> Result<HttpResponse, AppError> {
    let mut form = form.into_inner();
    let new = match form.parse() {
        Ok(new) => new,
        Err(errors) => {
            return Ok(settings_page(
                &admin,
                &session,
                &state,
                StatusCode::UNPROCESSABLE_ENTITY,
                form,
                errors,
                false,
            ));
        }
    };
    let mut conn = admin.db(&state).await?;
    let outcome = settings::save(&mut conn, &new, admin.id).await?;
    drop(conn);
    match outcome {
        SaveOutcome::Saved(saved) => {
            tracing::info!(
                admin_id = admin.id,
                version = saved.version,
                "settings changed"
            );
            // This instance shows them from the next page on; the others
            // when the listener hears of it.
            state.live.settings.offer(saved);
            Flash::success("Settings saved.").set(&session);
        }
        SaveOutcome::Unchanged => Flash::info("Nothing to save.").set(&session),
        SaveOutcome::Stale(current) => {
            // The input stays as typed, now on the version saved meanwhile:
            // sending it again replaces theirs, knowingly.
            form.version = current.version.to_string();
            return Ok(settings_page(
                &admin,
                &session,
                &state,
                StatusCode::CONFLICT,
                form,
                FieldErrors::default(),
                true,
            ));
        }
    }
    Ok(see_other("/admin/settings"))
}
