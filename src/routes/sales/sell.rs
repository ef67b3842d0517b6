//! `GET/POST /vehicles/{id}/sell`: one transaction moves the vehicle to sold
//! and records the sale; when someone was faster, 409 names their sale.

use actix_session::Session;
use actix_web::{HttpResponse, http::StatusCode, web};
use askama::Template;

use crate::{
    app::AppState,
    auth::Editor,
    domain::FieldErrors,
    domain::{Money, PaymentMethod, Status, sale::SaleForm},
    models::{
        sales::{self, SellOutcome},
        vehicles::{self, Vehicle},
    },
    web::{AppError, Flash, Missing, Page, filters, render, see_other},
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
}

/// Why the sale did not happen (409).
struct Problem {
    text: &'static str,
    sale_id: Option<i64>,
}

fn sell_page(
    page: Page,
    v: Vehicle,
    form: SaleForm,
    errors: FieldErrors,
    problem: Option<Problem>,
) -> SellPage {
    SellPage {
        page,
        title: v.title(),
        v,
        form,
        errors,
        methods: PaymentMethod::ALL.map(|m| (m.as_str(), m.label())).to_vec(),
        problem,
    }
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
    let form = SaleForm {
        sale_price: Money::from_cents(v.list_price_cents).to_input(),
        sold_on: state.today().format("%Y-%m-%d").to_string(),
        payment_method: "finance".into(),
        version: v.version.to_string(),
        ..SaleForm::default()
    };
    let page =
        Page::new(format!("Sell {}", v.vehicle_number), &session, Some(&user)).section("inventory");
    let problem = (v.status == Status::Archived).then_some(Problem {
        text: "This vehicle is archived. An admin must bring it back before it can be sold.",
        sale_id: None,
    });
    Ok(render(
        StatusCode::OK,
        &sell_page(page, v, form, FieldErrors::default(), problem),
    ))
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
    let page = || {
        Page::new(format!("Sell {}", v.vehicle_number), &session, Some(&user)).section("inventory")
    };
    let Some(version) = form.version() else {
        let mut errors = FieldErrors::default();
        errors.add(
            "version",
            "This form has no version number. Reload the page and try again.",
        );
        return Ok(render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &sell_page(page(), v, form, errors, None),
        ));
    };
    let fields = match form.parse(v.received_on, state.today()) {
        Ok(f) => f,
        Err(errors) => {
            return Ok(render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &sell_page(page(), v, form, errors, None),
            ));
        }
    };
    let outcome = sales::sell(&mut conn, id, version, &fields, user.id).await?;
    let problem = match outcome {
        SellOutcome::Sold { sale_id } => {
            tracing::info!(vehicle_id = id, sale_id, user_id = user.id, "vehicle sold");
            Flash::success(format!(
                "Sold {} to {}.",
                v.vehicle_number, fields.customer_name
            ))
            .set(&session);
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
    Ok(render(
        StatusCode::CONFLICT,
        &sell_page(page(), current, form, FieldErrors::default(), Some(problem)),
    ))
}
