//! Saved views (issue #14 §4): read beside a list, saved and deleted by
//! their owner, or by an admin when shared. Row-level security decides what
//! a connection sees (`saved_views` migration); these functions add what it
//! cannot say: the cap on personal views and a duplicate name as an answer.

use diesel::{
    BoolExpressionMethods as _, ExpressionMethods as _, QueryDsl as _, QueryResult, Queryable,
    Selectable, SelectableHelper as _,
    result::{DatabaseErrorKind, Error as DieselError},
};
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl as _};

use crate::{
    domain::saved_view::{MAX_PERSONAL, ViewList, ViewName},
    schema::saved_views,
};

/// A saved view as the list pages show it.
#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = saved_views)]
pub struct SavedView {
    pub id: i64,
    pub owner_id: i64,
    pub list: ViewList,
    pub name: String,
    pub query: String,
    pub shared: bool,
}

/// Never more than this many beside a list (shared ones are not capped by
/// the database; this keeps a page small whatever happens).
const SHOWN: i64 = 200;

/// The views of `list` that `user` sees: the shared ones first, then their
/// own, each by name. One query, on the migration's indexes.
pub async fn visible(
    conn: &mut AsyncPgConnection,
    list: ViewList,
    user: i64,
) -> QueryResult<Vec<SavedView>> {
    saved_views::table
        .filter(saved_views::list.eq(list))
        // `shared` itself, not `shared = $n`: a bound value would keep the
        // planner from the partial index of shared views.
        .filter(saved_views::shared.or(saved_views::owner_id.eq(user)))
        .order((
            saved_views::shared.desc(),
            saved_views::name.asc(),
            saved_views::id.asc(),
        ))
        .select(SavedView::as_select())
        .limit(SHOWN)
        .load(conn)
        .await
}

/// A view to save.
pub struct NewView<'a> {
    pub owner: i64,
    pub list: ViewList,
    pub name: &'a ViewName,
    pub query: &'a str,
    pub shared: bool,
}

/// What saving answered.
#[derive(Debug, PartialEq, Eq)]
pub enum Saved {
    Saved(i64),
    /// A view of that name is already there (its owner's, or shared).
    Duplicate,
    /// Already `MAX_PERSONAL` (or as many shared) views of this list.
    Full,
}

/// Saves `new`, unless its name is taken or the list is full. The count and
/// the insert run in one transaction; two saves at once may pass the cap by
/// one, which harms nobody.
pub async fn save(conn: &mut AsyncPgConnection, new: &NewView<'_>) -> QueryResult<Saved> {
    conn.transaction::<_, DieselError, _>(async |conn| {
        let mut same = saved_views::table
            .filter(saved_views::list.eq(new.list))
            .filter(saved_views::shared.eq(new.shared))
            .into_boxed();
        if !new.shared {
            same = same.filter(saved_views::owner_id.eq(new.owner));
        }
        let count: i64 = same.count().get_result(conn).await?;
        if count >= MAX_PERSONAL {
            return Ok(Saved::Full);
        }
        let inserted = diesel::insert_into(saved_views::table)
            .values((
                saved_views::owner_id.eq(new.owner),
                saved_views::list.eq(new.list),
                saved_views::name.eq(new.name.as_str()),
                saved_views::query.eq(new.query),
                saved_views::shared.eq(new.shared),
            ))
            .returning(saved_views::id)
            .get_result::<i64>(conn)
            .await;
        match inserted {
            Ok(id) => Ok(Saved::Saved(id)),
            Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
                Err(DieselError::RollbackTransaction)
            }
            Err(e) => Err(e),
        }
    })
    .await
    .or_else(|e| match e {
        DieselError::RollbackTransaction => Ok(Saved::Duplicate),
        e => Err(e),
    })
}

/// The view `id`, if this connection may see it.
pub async fn find(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<SavedView>> {
    use diesel::OptionalExtension as _;
    saved_views::table
        .find(id)
        .select(SavedView::as_select())
        .first(conn)
        .await
        .optional()
}

/// Deletes the view `id`; how many rows went (none when row-level security
/// keeps it from this connection).
pub async fn delete(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<usize> {
    diesel::delete(saved_views::table.find(id))
        .execute(conn)
        .await
}
