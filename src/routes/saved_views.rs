//! Saved views (issue #14 §4): `POST /views` saves a list's current filter
//! under a name, for oneself or (admins) shared with everyone; `POST
//! /views/{id}/delete` deletes one. A view is its query string, so its
//! link is the list's own URL. `beside` is what a list page shows of them.

use actix_session::Session;
use actix_web::{HttpResponse, http::StatusCode, web};
use askama::Template;
use diesel::QueryResult;
use diesel_async::AsyncPgConnection;
use serde::Deserialize;

use crate::{
    app::AppState,
    auth::{SignedIn, Viewer},
    domain::{
        FieldErrors, Role,
        saved_view::{MAX_PERSONAL, ViewList, ViewName},
    },
    models::saved_views::{self, NewView, Saved, SavedView},
    web::{AppError, Flash, Page, render, see_other},
};

/// Whether `user` may delete `view`: their own personal view, or a shared
/// one when they are an admin. The page's delete buttons ask this too.
pub fn may_delete(view: &SavedView, user: &SignedIn) -> bool {
    if view.shared {
        user.role == Role::Admin
    } else {
        view.owner_id == user.id
    }
}

/// A saved view as a link beside the filters.
pub struct ViewLink {
    pub id: i64,
    pub name: String,
    pub href: String,
    pub shared: bool,
    /// The page shows exactly this view's filter.
    pub current: bool,
    pub can_delete: bool,
}

/// The saved views beside a list (`templates/_saved_views.html`).
pub struct ViewsBox {
    pub list: &'static str,
    /// The page's own filter, normalised: what "Save this view" saves.
    pub query: String,
    pub items: Vec<ViewLink>,
    pub can_share: bool,
}

/// The views of `list` that `user` sees, for a list page whose query string
/// is `raw_query`: one indexed query on the connection the page holds.
pub async fn beside(
    conn: &mut AsyncPgConnection,
    list: ViewList,
    user: &SignedIn,
    raw_query: &str,
) -> QueryResult<ViewsBox> {
    let query = list.normalise(raw_query);
    let items = saved_views::visible(conn, list, user.id)
        .await?
        .into_iter()
        .map(|v| ViewLink {
            id: v.id,
            href: list.link(&v.query),
            current: v.query == query,
            can_delete: may_delete(&v, user),
            shared: v.shared,
            name: v.name,
        })
        .collect();
    Ok(ViewsBox {
        list: list.as_str(),
        query,
        items,
        can_share: user.role == Role::Admin,
    })
}

/// The form as sent; every field optional, so a malformed one is answered
/// by the checks below, not by a bare 400.
#[derive(Deserialize)]
pub struct SaveForm {
    list: Option<String>,
    name: Option<String>,
    query: Option<String>,
    shared: Option<String>,
}

/// The save form again, with what is wrong with the name (422).
#[derive(Template)]
#[template(path = "saved_views/form.html")]
struct SavePage {
    page: Page,
    list: ViewList,
    query: String,
    typed: String,
    shared: bool,
    can_share: bool,
    errors: FieldErrors,
}

pub async fn create(
    user: Viewer,
    session: Session,
    state: web::Data<AppState>,
    form: web::Form<SaveForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let list = form
        .list
        .as_deref()
        .and_then(ViewList::parse)
        .ok_or(AppError::BadRequest(
            "A view is saved from the inventory or the sales list.",
        ))?;
    let shared = form.shared.is_some();
    if shared && user.role != Role::Admin {
        return Err(AppError::Forbidden(
            "Only an admin can share a view with everyone.",
        ));
    }
    let query = list.normalise(form.query.as_deref().unwrap_or_default());
    let typed = form.name.unwrap_or_default();
    let again = |message: String| {
        let mut errors = FieldErrors::default();
        errors.add("name", message);
        render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &SavePage {
                page: Page::new("Save this view", &session, Some(&user)).section(match list {
                    ViewList::Vehicles => "inventory",
                    ViewList::Sales => "sales",
                }),
                list,
                query: query.clone(),
                typed: typed.clone(),
                shared,
                can_share: user.role == Role::Admin,
                errors,
            },
        )
    };
    let name = match ViewName::parse(&typed) {
        Ok(name) => name,
        Err(problem) => return Ok(again(problem.to_string())),
    };
    let mut conn = user.db(&state).await?;
    let new = NewView {
        owner: user.id,
        list,
        name: &name,
        query: &query,
        shared,
    };
    match saved_views::save(&mut conn, &new).await? {
        Saved::Saved(id) => {
            tracing::info!(view_id = id, user_id = user.id, shared, "view saved");
            Flash::success(format!("Saved the view “{}”.", name.as_str())).set(&session);
            Ok(see_other(&list.link(&query)))
        }
        Saved::Duplicate => Ok(again(if shared {
            format!(
                "A shared view of this list is already named “{}”: choose another name.",
                name.as_str()
            )
        } else {
            format!(
                "You already have a view of this list named “{}”: choose another name.",
                name.as_str()
            )
        })),
        Saved::Full => Ok(again(format!(
            "There are already {MAX_PERSONAL} {} views of this list, the most there may be: delete one first.",
            if shared { "shared" } else { "of your" }
        ))),
    }
}

#[derive(Deserialize)]
pub struct DeleteForm {
    /// The list and filter of the page the button was on: where to go back.
    list: Option<String>,
    query: Option<String>,
}

pub async fn delete(
    user: Viewer,
    session: Session,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    form: web::Form<DeleteForm>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let form = form.into_inner();
    let list = form
        .list
        .as_deref()
        .and_then(ViewList::parse)
        .unwrap_or(ViewList::Vehicles);
    let back =
        |list: ViewList| list.link(&list.normalise(form.query.as_deref().unwrap_or_default()));
    let mut conn = user.db(&state).await?;
    // A view deleted meanwhile (a second tab) and someone else's personal
    // view, which this connection cannot see, get the same answer: the
    // list, as it was, saying the view is not there.
    let gone = || {
        Flash::info("That saved view is no longer there.").set(&session);
        Ok(see_other(&back(list)))
    };
    let Some(view) = saved_views::find(&mut conn, id).await? else {
        return gone();
    };
    if !may_delete(&view, &user) {
        return Err(AppError::Forbidden(if view.shared {
            "Only an admin can delete a shared view."
        } else {
            "Only its owner can delete a personal view."
        }));
    }
    if saved_views::delete(&mut conn, id).await? == 0 {
        return gone();
    }
    tracing::info!(view_id = id, user_id = user.id, "view deleted");
    Flash::success(format!("Deleted the view “{}”.", view.name)).set(&session);
    Ok(see_other(&back(view.list)))
}
