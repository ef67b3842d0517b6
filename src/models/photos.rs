//! A vehicle's photos: added all together or not at all, listed in order
//! (the first is the cover), moved, removed, and read by their address.
//! Every change to one vehicle's photos takes its turn under one lock, so
//! two uploads, or an upload and a move, never hand out the same place.
//! Photos are not a field of the vehicle: they leave its version alone.
//! Additions and removals go to the audit log.

use std::{borrow::Borrow, collections::HashMap};

use chrono::{DateTime, Utc};
use diesel::{
    ExpressionMethods as _, OptionalExtension as _, QueryDsl as _, QueryResult,
    SelectableHelper as _,
    dsl::max,
    pg::Pg,
    prelude::{Insertable, Queryable, Selectable},
    sql_types::Int8,
};
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl as _};

use super::{Sql, audit};
use crate::{
    db::with_retry,
    domain::photo::{FileName, MAX_PER_VEHICLE, Move, Processed, Size, moved},
    schema::vehicle_photos,
};

/// A photo as pages show it (its blobs stay in the database).
#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = vehicle_photos, check_for_backend(Pg))]
pub struct Photo {
    pub id: i64,
    pub vehicle_id: i64,
    pub position: i32,
    pub sha256: Vec<u8>,
    pub thumb_width: i32,
    pub thumb_height: i32,
    pub page_width: i32,
    pub page_height: i32,
    pub full_width: i32,
    pub full_height: i32,
    pub added_at: DateTime<Utc>,
}

impl Photo {
    /// Where one of its sizes is served. (`Borrow`: templates pass
    /// references.)
    pub fn url(&self, size: impl Borrow<Size>) -> String {
        FileName::url(&self.sha256, *size.borrow())
    }

    /// Its width and height in `size`, for the page to keep its place.
    pub fn dimensions(&self, size: impl Borrow<Size>) -> (i32, i32) {
        match size.borrow() {
            Size::Thumb => (self.thumb_width, self.thumb_height),
            Size::Page => (self.page_width, self.page_height),
            Size::Full => (self.full_width, self.full_height),
        }
    }
}

/// A vehicle's photos, the cover first.
pub async fn of_vehicle(conn: &mut AsyncPgConnection, vehicle_id: i64) -> QueryResult<Vec<Photo>> {
    vehicle_photos::table
        .filter(vehicle_photos::vehicle_id.eq(vehicle_id))
        .order((vehicle_photos::position, vehicle_photos::id))
        .select(Photo::as_select())
        .load(conn)
        .await
}

/// The covers of some vehicles, by vehicle.
#[derive(Default)]
pub struct Covers(HashMap<i64, Photo>);

impl Covers {
    pub fn of(&self, vehicle_id: impl Borrow<i64>) -> Option<&Photo> {
        self.0.get(vehicle_id.borrow())
    }

    pub fn take(mut self, vehicle_id: i64) -> Option<Photo> {
        self.0.remove(&vehicle_id)
    }
}

/// The cover of each of these vehicles that has photos (one query, on the
/// index of their places).
pub async fn covers(conn: &mut AsyncPgConnection, vehicle_ids: &[i64]) -> QueryResult<Covers> {
    if vehicle_ids.is_empty() {
        return Ok(Covers::default());
    }
    let covers: Vec<Photo> = vehicle_photos::table
        .filter(vehicle_photos::vehicle_id.eq_any(vehicle_ids))
        .distinct_on(vehicle_photos::vehicle_id)
        .order((vehicle_photos::vehicle_id, vehicle_photos::position))
        .select(Photo::as_select())
        .load(conn)
        .await?;
    Ok(Covers(
        covers.into_iter().map(|p| (p.vehicle_id, p)).collect(),
    ))
}

/// The JPEG served at `name`, if any photo has that content.
pub async fn jpeg(conn: &mut AsyncPgConnection, name: &FileName) -> QueryResult<Option<Vec<u8>>> {
    let of = vehicle_photos::table
        .filter(vehicle_photos::sha256.eq(name.hash.as_slice()))
        .limit(1);
    match name.size {
        Size::Thumb => of.select(vehicle_photos::thumb_jpeg).first(conn).await,
        Size::Page => of.select(vehicle_photos::page_jpeg).first(conn).await,
        Size::Full => of.select(vehicle_photos::full_jpeg).first(conn).await,
    }
    .optional()
}

/// What an upload came to.
#[derive(Debug, PartialEq, Eq)]
pub enum Added {
    /// `added` new photos; `already` were on the vehicle before.
    Added { added: usize, already: usize },
    /// Nothing stored: the vehicle has room for only `room` more.
    NoRoom { room: usize },
}

#[derive(Insertable)]
#[diesel(table_name = vehicle_photos)]
struct NewPhoto<'a> {
    vehicle_id: i64,
    position: i32,
    sha256: &'a [u8],
    thumb_jpeg: &'a [u8],
    thumb_width: i32,
    thumb_height: i32,
    page_jpeg: &'a [u8],
    page_width: i32,
    page_height: i32,
    full_jpeg: &'a [u8],
    full_width: i32,
    full_height: i32,
    original_bytes: i32,
    added_by: Option<i64>,
}

fn int(n: impl TryInto<i32>) -> i32 {
    n.try_into().unwrap_or(i32::MAX)
}

impl<'a> NewPhoto<'a> {
    fn of(vehicle_id: i64, position: i32, by: i64, p: &'a Processed) -> Self {
        Self {
            vehicle_id,
            position,
            sha256: &p.hash,
            thumb_jpeg: &p.thumb.jpeg,
            thumb_width: int(p.thumb.width),
            thumb_height: int(p.thumb.height),
            page_jpeg: &p.page.jpeg,
            page_width: int(p.page.width),
            page_height: int(p.page.height),
            full_jpeg: &p.full.jpeg,
            full_width: int(p.full.width),
            full_height: int(p.full.height),
            original_bytes: int(p.original_bytes),
            added_by: Some(by),
        }
    }
}

/// This vehicle's photos take turns from here to the end of the transaction.
async fn take_turn(conn: &mut AsyncPgConnection, vehicle_id: i64) -> QueryResult<()> {
    Sql::new("SELECT pg_advisory_xact_lock(hashtextextended('pcn-photos:' || ")
        .bind::<Int8, _>(vehicle_id)
        .sql("::text, 0))")
        .execute(conn)
        .await
        .map(drop)
}

/// Adds `photos` after the vehicle's last, in one transaction: all of them
/// or, when the vehicle has no room for them all, none. One already on the
/// vehicle (the same content) is not added twice. `stock` names the vehicle
/// in the audit log.
pub async fn add(
    conn: &mut AsyncPgConnection,
    vehicle_id: i64,
    stock: &str,
    by: i64,
    photos: &[Processed],
) -> QueryResult<Added> {
    with_retry(conn, async |conn| {
        conn.transaction::<_, diesel::result::Error, _>(async |conn| {
            take_turn(conn, vehicle_id).await?;
            let kept: Vec<Vec<u8>> = vehicle_photos::table
                .filter(vehicle_photos::vehicle_id.eq(vehicle_id))
                .select(vehicle_photos::sha256)
                .load(conn)
                .await?;
            let mut new: Vec<&Processed> = Vec::new();
            for p in photos {
                let seen = kept.iter().any(|h| h.as_slice() == p.hash.as_slice())
                    || new.iter().any(|n| n.hash == p.hash);
                if !seen {
                    new.push(p);
                }
            }
            let room = MAX_PER_VEHICLE.saturating_sub(kept.len());
            if new.len() > room {
                return Ok(Added::NoRoom { room });
            }
            let last: Option<i32> = vehicle_photos::table
                .filter(vehicle_photos::vehicle_id.eq(vehicle_id))
                .select(max(vehicle_photos::position))
                .first(conn)
                .await?;
            let first = last.map_or(0, |p| p.saturating_add(1));
            for (at, p) in new.iter().enumerate() {
                diesel::insert_into(vehicle_photos::table)
                    .values(NewPhoto::of(
                        vehicle_id,
                        first.saturating_add(int(at)),
                        by,
                        p,
                    ))
                    .execute(conn)
                    .await?;
            }
            if !new.is_empty() {
                let details = format!(
                    "{stock}: {} photo{}",
                    new.len(),
                    if new.len() == 1 { "" } else { "s" }
                );
                audit::record(conn, by, "photos added", None, &details).await?;
            }
            Ok(Added::Added {
                added: new.len(),
                already: photos.len() - new.len(),
            })
        })
        .await
    })
    .await
}

/// Moves photo `photo_id` of the vehicle; `false` when the vehicle has no
/// such photo. The places are numbered afresh from 0.
pub async fn reorder(
    conn: &mut AsyncPgConnection,
    vehicle_id: i64,
    photo_id: i64,
    to: Move,
) -> QueryResult<bool> {
    with_retry(conn, async |conn| {
        conn.transaction::<_, diesel::result::Error, _>(async |conn| {
            take_turn(conn, vehicle_id).await?;
            let order: Vec<(i64, i32)> = vehicle_photos::table
                .filter(vehicle_photos::vehicle_id.eq(vehicle_id))
                .order((vehicle_photos::position, vehicle_photos::id))
                .select((vehicle_photos::id, vehicle_photos::position))
                .load(conn)
                .await?;
            let ids: Vec<i64> = order.iter().map(|(id, _)| *id).collect();
            let Some(new) = moved(&ids, photo_id, to) else {
                return Ok(false);
            };
            for (at, id) in new.iter().enumerate() {
                let place = int(at);
                if order.iter().any(|(i, p)| i == id && *p != place) {
                    diesel::update(vehicle_photos::table.find(*id))
                        .set(vehicle_photos::position.eq(place))
                        .execute(conn)
                        .await?;
                }
            }
            Ok(true)
        })
        .await
    })
    .await
}

/// Removes photo `photo_id` of the vehicle; `false` when it has no such
/// photo (any more).
pub async fn remove(
    conn: &mut AsyncPgConnection,
    vehicle_id: i64,
    stock: &str,
    photo_id: i64,
    by: i64,
) -> QueryResult<bool> {
    conn.transaction::<_, diesel::result::Error, _>(async |conn| {
        let gone = diesel::delete(
            vehicle_photos::table
                .filter(vehicle_photos::id.eq(photo_id))
                .filter(vehicle_photos::vehicle_id.eq(vehicle_id)),
        )
        .execute(conn)
        .await?;
        if gone == 0 {
            return Ok(false);
        }
        audit::record(
            conn,
            by,
            "photo deleted",
            None,
            &format!("{stock}: photo #{photo_id}"),
        )
        .await?;
        Ok(true)
    })
    .await
}
