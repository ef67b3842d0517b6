//! `POST /vehicles/bulk` (editor; archiving: admin): one change for the
//! vehicles ticked on the list, each made on the version the list showed
//! (`ids`, and `versions` as `id:version`), by the three-way rules of an
//! edit. The answer is a summary: what changed, what did not, and why.

use std::collections::HashMap;

use actix_session::Session;
use actix_web::{HttpResponse, http::StatusCode, web};
use askama::Template;

use crate::{
    app::AppState,
    auth::Editor,
    domain::{BulkAction, Role, Status},
    models::vehicles::{self, BulkOutcome},
    web::{AppError, Page, filters, render},
};

/// More than two pages of the list at once is not a selection anyone made.
pub const MAX_SELECTED: usize = 100;

/// One ticked vehicle and the version the list showed of it.
#[derive(Debug, PartialEq, Eq)]
struct Selected {
    id: i64,
    version: Option<i32>,
}

/// What the form sent, read by hand: `ids` and `versions` repeat.
#[derive(Debug, Default)]
struct BulkForm {
    action: String,
    value: String,
    back: String,
    ids: Vec<String>,
    versions: Vec<String>,
}

impl BulkForm {
    fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        let mut form = Self::default();
        for (key, value) in pairs {
            match key.as_str() {
                "action" if form.action.is_empty() => form.action = value,
                "value" if form.value.is_empty() => form.value = value,
                "back" if form.back.is_empty() => form.back = value,
                "ids" => form.ids.push(value),
                "versions" => form.versions.push(value),
                _ => {}
            }
        }
        form
    }

    /// The ticked vehicles, each once, in the order they came, with their
    /// versions: `id:version` pairs (what the list sends), or else plain
    /// versions in the order of `ids`.
    fn selected(&self) -> Result<Vec<Selected>, &'static str> {
        let id_of = |s: &str| s.trim().parse::<i64>().ok().filter(|id| *id > 0);
        let mut ids: Vec<i64> = Vec::new();
        for raw in &self.ids {
            let id =
                id_of(raw).ok_or("The selection is not valid. Reload the list and try again.")?;
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        if ids.is_empty() {
            return Err("Tick at least one vehicle on the list first.");
        }
        if ids.len() > MAX_SELECTED {
            return Err("Select at most 100 vehicles at a time.");
        }
        let mut paired: HashMap<i64, i32> = HashMap::new();
        let mut plain: Vec<Option<i32>> = Vec::new();
        for raw in &self.versions {
            match raw.split_once(':') {
                Some((id, v)) => {
                    if let (Some(id), Ok(v)) = (id_of(id), v.trim().parse::<i32>()) {
                        paired.entry(id).or_insert(v);
                    }
                }
                None => plain.push(raw.trim().parse().ok()),
            }
        }
        let positional = paired.is_empty() && plain.len() == self.ids.len();
        Ok(ids
            .into_iter()
            .enumerate()
            .map(|(i, id)| Selected {
                id,
                version: paired
                    .get(&id)
                    .copied()
                    .or_else(|| positional.then(|| plain[i]).flatten()),
            })
            .collect())
    }

    /// Where "Back to the list" goes: the list as it was, only ever a path
    /// of the inventory.
    fn back(&self) -> String {
        let b = self.back.trim();
        let local =
            (b == "/vehicles" || b.starts_with("/vehicles?")) && !b.contains(['\\', '\r', '\n']);
        if local {
            b.to_string()
        } else {
            "/vehicles".to_string()
        }
    }
}

/// A line of the summary.
pub struct ResultRow {
    pub id: i64,
    pub number: String,
    pub title: String,
    pub status: Option<Status>,
    pub list_price_cents: Option<i64>,
    /// `changed`, `unchanged` or `refused`: the badge.
    pub kind: &'static str,
    pub headline: &'static str,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "vehicles/bulk.html")]
struct BulkPage {
    page: Page,
    /// What was asked, as people read it; none when the request was refused whole.
    done: Option<String>,
    error: Option<&'static str>,
    rows: Vec<ResultRow>,
    changed: usize,
    unchanged: usize,
    refused: usize,
    back: String,
}

fn refused_page(
    session: &Session,
    user: &Editor,
    error: &'static str,
    back: String,
) -> HttpResponse {
    let page = Page::new("Nothing was changed", session, Some(user)).section("inventory");
    render(
        StatusCode::UNPROCESSABLE_ENTITY,
        &BulkPage {
            page,
            done: None,
            error: Some(error),
            rows: Vec::new(),
            changed: 0,
            unchanged: 0,
            refused: 0,
            back,
        },
    )
}

pub async fn bulk(
    user: Editor,
    session: Session,
    state: web::Data<AppState>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let form = BulkForm::from_pairs(form.into_inner());
    let back = form.back();
    let action = match BulkAction::parse(&form.action, &form.value) {
        Ok(a) => a,
        Err(e) => return Ok(refused_page(&session, &user, e, back)),
    };
    if action.needs_admin() && user.role != Role::Admin {
        return Err(AppError::Forbidden("Only an admin can archive vehicles."));
    }
    let selected = match form.selected() {
        Ok(s) => s,
        Err(e) => return Ok(refused_page(&session, &user, e, back)),
    };

    let mut conn = user.db(&state).await?;
    let mut outcomes = Vec::with_capacity(selected.len());
    for s in &selected {
        let outcome = match s.version {
            Some(version) => Some(
                vehicles::bulk_change(&mut conn, s.id, version, user.id, user.role, &action)
                    .await?,
            ),
            None => None,
        };
        outcomes.push(outcome);
    }
    let ids: Vec<i64> = selected.iter().map(|s| s.id).collect();
    let now: HashMap<i64, vehicles::Vehicle> = vehicles::find_many(&mut conn, &ids)
        .await?
        .into_iter()
        .map(|v| (v.id, v))
        .collect();
    drop(conn);

    let rows: Vec<ResultRow> = selected
        .iter()
        .zip(outcomes)
        .map(|(s, outcome)| result_row(s.id, now.get(&s.id), outcome))
        .collect();
    let count = |kind: &str| rows.iter().filter(|r| r.kind == kind).count();
    let (changed, unchanged, refused) = (count("changed"), count("unchanged"), count("refused"));
    tracing::info!(
        user_id = user.id,
        action = %action,
        changed,
        unchanged,
        refused,
        "bulk change"
    );
    let page = Page::new("Bulk change", &session, Some(&user)).section("inventory");
    Ok(render(
        StatusCode::OK,
        &BulkPage {
            page,
            done: Some(action.to_string()),
            error: None,
            rows,
            changed,
            unchanged,
            refused,
            back,
        },
    ))
}

fn result_row(id: i64, v: Option<&vehicles::Vehicle>, outcome: Option<BulkOutcome>) -> ResultRow {
    let (kind, headline, detail) = match outcome {
        None => (
            "refused",
            "Not changed",
            "The list sent no version for it. Reload the list and try again.".to_string(),
        ),
        Some(BulkOutcome::Changed { merged, .. }) if merged.is_empty() => {
            ("changed", "Changed", String::new())
        }
        Some(BulkOutcome::Changed { merged, .. }) => (
            "changed",
            "Changed",
            format!(
                "Someone changed its {} meanwhile; that change is kept too.",
                merged
                    .iter()
                    .map(|f| f.label().to_lowercase())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
        Some(BulkOutcome::Unchanged) => ("unchanged", "Already so", "Nothing to change.".into()),
        Some(BulkOutcome::Conflict(conflicts)) => (
            "refused",
            "Not changed",
            format!(
                "Someone changed {} meanwhile; nothing was overwritten. Open it to decide.",
                conflicts
                    .iter()
                    .map(|c| format!(
                        "its {} from “{}” to “{}”",
                        c.field.label().to_lowercase(),
                        c.base,
                        c.theirs
                    ))
                    .collect::<Vec<_>>()
                    .join(" and ")
            ),
        ),
        Some(BulkOutcome::Refused(why)) => ("refused", "Not changed", why),
        Some(BulkOutcome::NotFound) => (
            "refused",
            "Not found",
            "No vehicle with this number.".into(),
        ),
    };
    ResultRow {
        id,
        number: v.map_or_else(|| format!("#{id}"), |v| v.vehicle_number.clone()),
        title: v.map(vehicles::Vehicle::title).unwrap_or_default(),
        status: v.map(|v| v.status),
        list_price_cents: v.map(|v| v.list_price_cents),
        kind,
        headline,
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> BulkForm {
        BulkForm::from_pairs(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn pairs_ids_with_the_versions_the_list_showed() {
        let f = form(&[
            ("ids", "7"),
            ("ids", "3"),
            ("ids", "7"),
            ("versions", "3:2"),
            ("versions", "9:1"),
            ("versions", "7:5"),
        ]);
        assert_eq!(
            f.selected().unwrap(),
            [
                Selected {
                    id: 7,
                    version: Some(5)
                },
                Selected {
                    id: 3,
                    version: Some(2)
                },
            ]
        );
        let plain = form(&[
            ("ids", "4"),
            ("ids", "5"),
            ("versions", "1"),
            ("versions", "x"),
        ]);
        assert_eq!(
            plain.selected().unwrap(),
            [
                Selected {
                    id: 4,
                    version: Some(1)
                },
                Selected {
                    id: 5,
                    version: None
                },
            ]
        );
        let missing = form(&[("ids", "4")]);
        assert_eq!(missing.selected().unwrap()[0].version, None);
    }

    #[test]
    fn refuses_a_selection_nobody_made() {
        assert!(form(&[]).selected().is_err());
        assert!(form(&[("ids", "abc")]).selected().is_err());
        assert!(form(&[("ids", "-1")]).selected().is_err());
        let many: Vec<(String, String)> = (1..=101)
            .map(|i| ("ids".to_string(), i.to_string()))
            .collect();
        assert!(BulkForm::from_pairs(many).selected().is_err());
    }

    #[test]
    fn goes_back_only_to_the_inventory() {
        let back = |b: &str| form(&[("back", b)]).back();
        assert_eq!(
            back("/vehicles?status=reserved&q=civic"),
            "/vehicles?status=reserved&q=civic"
        );
        assert_eq!(back("https://evil.example/"), "/vehicles");
        assert_eq!(back("//evil.example"), "/vehicles");
        assert_eq!(back("/vehicles.csv"), "/vehicles");
        assert_eq!(back("/vehiclesx"), "/vehicles");
    }
}
