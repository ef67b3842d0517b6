//! `GET/POST /vehicles/{id}/sell`: one transaction moves the vehicle to sold
//! and records the sale; when someone was faster, 409 names their sale. The
//! safeguards (issue #13 §4): a price below cost is recorded only once
//! confirmed, one far under list is recorded with a word; an admin records
//! a deal for one of the team, an editor only for themself.

use actix_session::Session;
use actix_web::{HttpResponse, http::StatusCode, web};
use askama::Template;

use crate::{
    app::AppState,
    auth::{Editor, SignedIn, kept_forms},
    domain::FieldErrors,
    domain::{
        Money, PaymentMethod, Status,
        sale::{FAR_UNDER_LIST_PERCENT, PriceCheck, SaleForm},
    },
    models::{
        sales::{self, SellOutcome},
        users::{self, Seller},
        vehicles::{self, Vehicle},
    },
    web::{AppError, Flash, Missing, Page, assets, filters, render, see_other},
};

#[derive(Template)]
#[template(path = "sales/sell.html")]
struct SellPage {
    page: Page,
    v: Vehicle,
    title: String,
    form: SaleForm,
    errors: FieldErrors,
    methods: Vec<(&'static str, &'static str)>,
    problem: Option<Problem>,
    /// The typed price beside cost and list, when it is an amount.
    check: Option<PriceCheck>,
    far_under_list: i64,
    /// How far below cost the price is, when the server asks to confirm it.
    ask_below_cost: Option<i64>,
    /// The salesperson picker's (id, name) pairs: an admin's choice; empty
    /// for an editor, who sells in their own name.
    sellers: Vec<(String, String)>,
    deal_js: &'static str,
}

/// Why the sale did not happen (409).
struct Problem {
    text: &'static str,
    sale_id: Option<i64>,
}

impl SellPage {
    fn new(page: Page, v: Vehicle, form: SaleForm, errors: FieldErrors, team: &Team) -> Self {
        let check = Money::parse(&form.sale_price)
            .ok()
            .map(|p| PriceCheck::new(p.cents(), v.cost_cents, v.list_price_cents));
        Self {
            page,
            title: v.title(),
            v,
            form,
            errors,
            methods: PaymentMethod::ALL.map(|m| (m.as_str(), m.label())).to_vec(),
            problem: None,
            check,
            far_under_list: FAR_UNDER_LIST_PERCENT,
            ask_below_cost: None,
            sellers: team.picker(),
            deal_js: assets::deal_js_url(),
        }
    }
}

impl SellPage {
    fn below_cost(&self) -> Option<i64> {
        self.check.and_then(|c| c.below_cost_cents)
    }

    fn under_list(&self) -> Option<i64> {
        self.check.and_then(|c| c.under_list_percent)
    }
}

/// Whom this person may record a sale for.
struct Team {
    /// Every active seller, for an admin; none for an editor.
    sellers: Vec<Seller>,
    me: i64,
}

impl Team {
    async fn of(
        conn: &mut diesel_async::AsyncPgConnection,
        user: &SignedIn,
    ) -> Result<Self, AppError> {
        let sellers = if user.is_admin() {
            users::sellers(conn).await?
        } else {
            Vec::new()
        };
        Ok(Self {
            sellers,
            me: user.id,
        })
    }

    fn picker(&self) -> Vec<(String, String)> {
        self.sellers
            .iter()
            .map(|s| (s.id.to_string(), s.full_name()))
            .collect()
    }

    /// The salesperson the form names, or why not: an editor sells in their
    /// own name, and an admin for active staff who sell.
    async fn choose(
        &self,
        conn: &mut diesel_async::AsyncPgConnection,
        user: &SignedIn,
        form: &SaleForm,
    ) -> Result<Result<i64, String>, AppError> {
        let chosen = match form.salesperson() {
            Ok(None) => return Ok(Ok(self.me)),
            // Signed in as an editor or admin: one who sells.
            Ok(Some(id)) if id == self.me => return Ok(Ok(id)),
            Ok(Some(id)) => id,
            Err(why) => return Ok(Err(why.to_string())),
        };
        if !user.is_admin() {
            return Ok(Err(
                "You can record a sale only in your own name: an admin can record it for a colleague."
                    .into(),
            ));
        }
        if self.sellers.iter().any(|s| s.id == chosen) {
            return Ok(Ok(chosen));
        }
        // Say who it is, when it is someone.
        let who = users::find(conn, chosen).await.ok();
        Ok(Err(match who {
            Some(u) if !u.active => format!(
                "{} is deactivated: record the sale for active staff.",
                u.full_name()
            ),
            Some(u) => format!(
                "{} is a viewer: a sale is recorded for an editor or an admin.",
                u.full_name()
            ),
            None => "Choose the salesperson from the list.".into(),
        }))
    }
}

fn page_for(v: &Vehicle, session: &Session, user: &SignedIn) -> Page {
    Page::new(format!("Sell {}", v.vehicle_number), session, Some(user)).section("inventory")
}

pub async fn form(
    user: Editor,
    session: Session,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let mut conn = user.db(&state).await?;
    let v = vehicles::find(&mut conn, path.into_inner())
        .await?
        .ok_or(AppError::Missing(Missing::Vehicle))?;
    if v.status == Status::Sold
        && let Some(id) = sales::live_sale_id(&mut conn, v.id).await?
    {
        Flash::info("This vehicle is already sold; here is its sale.").set(&session);
        return Ok(see_other(&format!("/sales/{id}")));
    }
    // A form sent after the session ended comes back as typed, on the
    // version it was made from (a vehicle changed meanwhile answers 409).
    let page_path = format!("/vehicles/{}/sell", v.id);
    let kept = kept_forms::restore(&session, &mut conn, &user, &page_path).await?;
    let form = kept.unwrap_or_else(|| SaleForm {
        sale_price: Money::from_cents(v.list_price_cents).to_input(),
        sold_on: state.today().format("%Y-%m-%d").to_string(),
        payment_method: "finance".into(),
        version: v.version.to_string(),
        salesperson_id: user.id.to_string(),
        ..SaleForm::default()
    });
    let team = Team::of(&mut conn, &user).await?;
    let page = page_for(&v, &session, &user);
    let archived = v.status == Status::Archived;
    let mut sell = SellPage::new(page, v, form, FieldErrors::default(), &team);
    sell.problem = archived.then_some(Problem {
        text: "This vehicle is archived. An admin must bring it back before it can be sold.",
        sale_id: None,
    });
    Ok(render(StatusCode::OK, &sell))
}

pub async fn submit(
    user: Editor,
    session: Session,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    form: web::Form<SaleForm>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let form = form.into_inner();
    let mut conn = user.db(&state).await?;
    let v = vehicles::find(&mut conn, id)
        .await?
        .ok_or(AppError::Missing(Missing::Vehicle))?;
    let team = Team::of(&mut conn, &user).await?;
    let invalid = |v: Vehicle, form: SaleForm, errors: FieldErrors| {
        let page = page_for(&v, &session, &user);
        render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &SellPage::new(page, v, form, errors, &team),
        )
    };
    let Some(version) = form.version() else {
        let mut errors = FieldErrors::default();
        errors.add(
            "version",
            "This form has no version number. Reload the page and try again.",
        );
        return Ok(invalid(v, form, errors));
    };
    let parsed = form.parse(v.received_on, state.today());
    let salesperson = team.choose(&mut conn, &user, &form).await?;
    let (fields, salesperson_id) = match (parsed, salesperson) {
        (Ok(fields), Ok(who)) => (fields, who),
        (parsed, salesperson) => {
            let mut errors = parsed.err().unwrap_or_default();
            if let Err(why) = salesperson {
                errors.add("salesperson_id", why);
            }
            return Ok(invalid(v, form, errors));
        }
    };
    let check = PriceCheck::new(fields.sale_price_cents, v.cost_cents, v.list_price_cents);
    if let Some(below) = check.below_cost_cents
        && !form.confirmed_below_cost()
    {
        // Not an error in a field: a question, asked before anything is
        // stored, with the form as typed.
        let page = page_for(&v, &session, &user);
        let mut ask = SellPage::new(page, v, form, FieldErrors::default(), &team);
        ask.ask_below_cost = Some(below);
        return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &ask));
    }
    let outcome = sales::sell(&mut conn, id, version, &fields, user.id, salesperson_id).await?;
    let problem = match outcome {
        SellOutcome::Sold { sale_id } => {
            tracing::info!(
                vehicle_id = id,
                sale_id,
                user_id = user.id,
                salesperson_id,
                below_cost = check.below_cost_cents.is_some(),
                "vehicle sold"
            );
            let mut text = format!("Sold {} to {}.", v.vehicle_number, fields.customer_name);
            // Amounts in the dealership's currency, as on its pages.
            let settings = crate::web::dealership::current();
            if let Some(below) = check.below_cost_cents {
                text.push_str(&format!(
                    " Recorded below cost, as confirmed: a loss of {}.",
                    settings.money(below)
                ));
            }
            if let Some(percent) = check.under_list_percent {
                text.push_str(&format!(
                    " Note: the price is {percent}% under the list price of {}.",
                    settings.money(v.list_price_cents)
                ));
            }
            Flash::success(text).set(&session);
            return Ok(see_other(&format!("/sales/{sale_id}")));
        }
        SellOutcome::NotFound => return Err(AppError::Missing(Missing::Vehicle)),
        SellOutcome::AlreadySold { sale_id } => Problem {
            text: "Someone else recorded a sale of this vehicle first. Nothing was saved.",
            sale_id: Some(sale_id),
        },
        SellOutcome::NotForSale => Problem {
            text: "This vehicle is archived, so it cannot be sold. Nothing was saved.",
            sale_id: None,
        },
        SellOutcome::Stale => Problem {
            text: "This vehicle changed since you opened this form (its price or status may differ). Check it below and submit again.",
            sale_id: None,
        },
    };
    // Show the current vehicle, with the form ready on its current version.
    let current = vehicles::find(&mut conn, id)
        .await?
        .ok_or(AppError::Missing(Missing::Vehicle))?;
    let mut form = form;
    form.version = current.version.to_string();
    let page = page_for(&current, &session, &user);
    let mut conflict = SellPage::new(page, current, form, FieldErrors::default(), &team);
    conflict.problem = Some(problem);
    Ok(render(StatusCode::CONFLICT, &conflict))
}
