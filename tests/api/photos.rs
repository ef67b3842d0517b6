//! Photos of a vehicle over HTTP (issue 14 §1): what is uploaded comes back
//! upright and without its EXIF or GPS, in three sizes at content-addressed
//! addresses; bad files get a clear 422 and nothing is stored; only editors
//! upload, with the form's token in the body; any instance serves any
//! photo; the order, the cover and deleting work, and none of it changes
//! the vehicle's version.

use pcn::{
    db::{Acting, DbRole},
    domain::photo::samples,
};
use reqwest::{StatusCode, header};

use crate::{
    db_roles::{acting, assert_denied, run},
    helpers::{
        Html, PASSWORD, Part, TestApp, add_vehicle, location, photo_parts, sample_jpeg, sell,
    },
};

async fn count(app: &TestApp) -> i64 {
    app.scalar_i64("SELECT count(*) AS v FROM vehicle_photos")
        .await
}

/// The ids of vehicle `id`'s photos, in their order.
async fn order(app: &TestApp, id: i64) -> Vec<i64> {
    let ids = app
        .scalar_text(&format!(
            "SELECT coalesce(string_agg(id::text, ',' ORDER BY position), '') AS v \
             FROM vehicle_photos WHERE vehicle_id = {id}"
        ))
        .await;
    ids.split(',')
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect()
}

/// Vehicle `id`'s page.
async fn vehicle_page(app: &TestApp, id: i64) -> String {
    app.get(&format!("/vehicles/{id}"))
        .await
        .text()
        .await
        .unwrap()
}

/// The message beside the file input of a refused upload (422).
async fn refusal(r: reqwest::Response) -> String {
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = Html::parse(&r.text().await.unwrap());
    page.field_error("photos")
        .expect("a message beside the file input")
}

async fn version(app: &TestApp, id: i64) -> i64 {
    app.scalar_i64(&format!(
        "SELECT version::bigint AS v FROM vehicles WHERE id = {id}"
    ))
    .await
}

/// The gallery's photos on a vehicle page: (the full size's address, the
/// shown image's address), cover first.
fn gallery(html: &str) -> Vec<(String, String)> {
    Html::parse(html)
        .select(".gallery-item")
        .iter()
        .map(|item| {
            let link = item.one("a.gallery-link");
            let img = item.one("img");
            (link.attr("href").unwrap(), img.attr("src").unwrap())
        })
        .collect()
}

#[tokio::test]
async fn a_phone_photo_comes_back_upright_without_its_exif_or_gps() {
    let app = TestApp::spawn().await;
    app.signed_in_as("editor").await;
    let id = add_vehicle(&app, "PH-1").await;
    // As a phone writes it: held sideways (orientation 6: shown turned a
    // quarter clockwise), with where it was taken.
    let upload = samples::jpeg(
        &samples::halves(),
        Some(samples::exif(6, Some((51.5007, -0.1246)))),
    );
    assert!(
        samples::contains(&upload, b"Exif\0\0")
            && samples::contains(&upload, samples::CAMERA.as_bytes())
    );
    let r = app.upload_photos(id, &[("IMG_0001.jpg", upload)]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), format!("/vehicles/{id}"));

    let page = vehicle_page(&app, id).await;
    assert!(Html::parse(&page).text().contains("1 photo added."));
    let photos = gallery(&page);
    assert_eq!(photos.len(), 1);
    let (full, shown) = &photos[0];
    assert!(
        full.ends_with("-full.jpg") && shown.ends_with("-page.jpg"),
        "{full} {shown}"
    );
    let thumb = full.replace("-full.jpg", "-thumb.jpg");
    for url in [full, shown, &thumb] {
        let r = app.get(url).await;
        assert_eq!(r.status(), StatusCode::OK, "{url}");
        let h = r.headers();
        assert_eq!(h[header::CONTENT_TYPE], "image/jpeg");
        assert_eq!(
            h[header::CACHE_CONTROL],
            "private, max-age=31536000, immutable"
        );
        assert!(
            h.get(header::CONTENT_ENCODING).is_none(),
            "a JPEG is not compressed again"
        );
        let bytes = r.bytes().await.unwrap();
        assert_eq!(&bytes[..2], b"\xFF\xD8", "{url} is a JPEG");
        // No APP1 "Exif" segment, no GPS, not even the camera's name.
        assert!(!samples::contains(&bytes, b"Exif"), "{url} keeps EXIF");
        assert!(
            !samples::contains(&bytes, samples::CAMERA.as_bytes()),
            "{url} names the camera"
        );
    }
    let full = app.get(full).await.bytes().await.unwrap();
    let upright = image::load_from_memory(&full).unwrap().into_rgb8();
    // Turned upright: 20 wide, 40 tall, the red half on top.
    assert_eq!(upright.dimensions(), (20, 40));
    assert!(
        samples::is_red(upright.get_pixel(10, 5)) && !samples::is_red(upright.get_pixel(10, 35))
    );

    // Photos are not a field of the vehicle: its version stays; the audit
    // log says who added them.
    assert_eq!(version(&app, id).await, 1);
    assert_eq!(
        app.scalar_text(
            "SELECT action || ': ' || details AS v FROM audit_log WHERE action LIKE 'photo%'"
        )
        .await,
        "photos added: PH-1: 1 photo"
    );
}

#[tokio::test]
async fn bad_files_get_a_clear_422_beside_the_input_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    app.signed_in_as("editor").await;
    let id = add_vehicle(&app, "PH-2").await;
    let good = ("good.jpg", sample_jpeg(64, 48, [10, 120, 10]));
    let mut oversized = sample_jpeg(64, 48, [1, 2, 3]);
    oversized.resize(15 * 1024 * 1024 + 1, 0);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "notes.jpg",
            b"Call the customer back on Monday.\n".to_vec(),
            "is not a JPEG, PNG or WebP photo",
        ),
        ("huge.jpg", oversized, "is larger than 15 MB"),
        (
            "bomb.png",
            samples::bomb(100_000, 100_000),
            "has more pixels than PCN takes",
        ),
        (
            "IMG_4001.heic",
            b"\0\0\0\x18ftypheic\0\0\0\0mif1heic".to_vec(),
            "is a HEIC photo",
        ),
    ];
    for (name, bytes, why) in cases {
        // A good photo beside it is not stored either: all or nothing.
        let r = app.upload_photos(id, &[good.clone(), (name, bytes)]).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{name}");
        let page = Html::parse(&r.text().await.unwrap());
        let error = page
            .field_error("photos")
            .unwrap_or_else(|| panic!("{name}: no error beside the input"));
        assert!(
            error.contains(&format!("“{name}” {why}")),
            "{name}: {error}"
        );
        assert!(page.has("#photos[aria-invalid=true]"), "{name}");
        assert!(page.text().contains("Nothing was saved"), "{name}");
        assert_eq!(count(&app).await, 0, "{name} stored something");
    }
    // No file at all (a url-encoded form, or an empty file field).
    let r = app
        .post_multipart_with(
            &app.client,
            &format!("/vehicles/{id}/photos"),
            &[
                Part::Field("csrf_token", app.csrf_token_with(&app.client).await),
                Part::File(
                    "photos",
                    String::new(),
                    "application/octet-stream",
                    Vec::new(),
                ),
            ],
        )
        .await;
    assert_eq!(refusal(r).await, "Choose one or more photos to add.");
    let r = app.post(&format!("/vehicles/{id}/photos"), &[]).await;
    assert_eq!(refusal(r).await, "Choose one or more photos to add.");
    // Too many at once.
    let many: Vec<(&str, Vec<u8>)> = (0..21u8)
        .map(|n| ("many.jpg", sample_jpeg(8, 8, [n * 10, 0, 0])))
        .collect();
    let r = app.upload_photos(id, &many).await;
    assert!(refusal(r).await.contains("at most 20 photos at a time"));
    assert_eq!(count(&app).await, 0);
    // A vehicle that is full: 59 photos (made in SQL), and two more come.
    app.exec(&format!(
        "INSERT INTO vehicle_photos (vehicle_id, position, sha256, thumb_jpeg, thumb_width, \
           thumb_height, page_jpeg, page_width, page_height, full_jpeg, full_width, full_height, \
           original_bytes) \
         SELECT {id}, n, sha256(n::text::bytea), '\\x00', 1, 1, '\\x00', 1, 1, '\\x00', 1, 1, 1 \
         FROM generate_series(0, 58) n"
    ))
    .await;
    let two = [
        ("a.jpg", sample_jpeg(8, 8, [1, 1, 1])),
        ("b.jpg", sample_jpeg(8, 8, [200, 1, 1])),
    ];
    let r = app.upload_photos(id, &two).await;
    assert!(refusal(r).await.contains("room for 1 more"));
    assert_eq!(count(&app).await, 59);
    assert_eq!(
        app.upload_photos(id, &two[..1]).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(count(&app).await, 60);
}

#[tokio::test]
async fn only_editors_upload_and_the_token_must_come_first_in_the_body() {
    let app = TestApp::spawn().await;
    app.signed_in_as("editor").await;
    let id = add_vehicle(&app, "PH-3").await;
    let path = format!("/vehicles/{id}/photos");
    let photo = || photo_parts(&[("car.jpg", sample_jpeg(32, 24, [9, 9, 200]))]);

    // A viewer, with a good token: refused for the role.
    let viewer = app.second_user("viewer").await;
    let r = app
        .upload_photos_with(
            &viewer,
            id,
            &[("car.jpg", sample_jpeg(32, 24, [9, 9, 200]))],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(
        Html::parse(&r.text().await.unwrap())
            .text()
            .contains("Your role lets you look, not change")
    );

    // The editor without a token, with a forged one, another session's,
    // or the right one after the file: refused for the token.
    let token = app.csrf_token_with(&app.client).await;
    let other = app.csrf_token_with(&viewer).await;
    let mut after = photo();
    after.push(Part::Field("csrf_token", token.clone()));
    for (what, parts) in [
        ("no token", photo()),
        (
            "a forged token",
            [vec![Part::Field("csrf_token", "forged".into())], photo()].concat(),
        ),
        (
            "another session's token",
            [vec![Part::Field("csrf_token", other)], photo()].concat(),
        ),
        ("the token after the file", after),
    ] {
        let r = app.post_multipart_with(&app.client, &path, &parts).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{what}");
        assert!(
            Html::parse(&r.text().await.unwrap())
                .text()
                .contains("This form has expired or did not come from PCN"),
            "{what}"
        );
    }
    // From another site, even with the right token.
    let (content_type, body) = crate::helpers::multipart(
        &[vec![Part::Field("csrf_token", token.clone())], photo()].concat(),
    );
    let r = app
        .client
        .post(app.url(&path))
        .header(header::CONTENT_TYPE, content_type)
        .header("origin", "https://evil.example")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Signed out: to the sign-in page first.
    let r = app
        .post_multipart_with(&crate::helpers::client(), &path, &photo())
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(location(&r).starts_with("/login"));
    assert_eq!(count(&app).await, 0);

    // A multipart body carries its token to the routes that take files
    // only: the edit form sent as multipart, token and all, is refused.
    let mut edit = vec![Part::Field("csrf_token", token)];
    for (k, v) in crate::helpers::edit_form(&app, &app.client, id).await {
        edit.push(Part::Field(k, v));
    }
    let r = app
        .post_multipart_with(&app.client, &format!("/vehicles/{id}"), &edit)
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // The same upload with the token first is taken.
    app.add_photos(id, &[("car.jpg", sample_jpeg(32, 24, [9, 9, 200]))])
        .await;
    assert_eq!(count(&app).await, 1);
}

#[tokio::test]
async fn a_viewers_database_role_cannot_add_move_or_delete_photos() {
    let app = TestApp::spawn().await;
    let viewer = app
        .create_user("viewer", "vera@dealer.example", PASSWORD)
        .await;
    app.signed_in_as("editor").await;
    let id = add_vehicle(&app, "PH-4").await;
    app.add_photos(id, &[("car.jpg", sample_jpeg(32, 24, [50, 60, 70]))])
        .await;
    let mut conn = acting(&app, DbRole::Viewer, Some(viewer)).await;
    assert!(
        run(&mut conn, "SELECT id, thumb_jpeg FROM vehicle_photos")
            .await
            .is_ok()
    );
    assert_denied(
        run(
            &mut conn,
            &format!(
                "INSERT INTO vehicle_photos (vehicle_id, position, sha256, thumb_jpeg, thumb_width, \
                   thumb_height, page_jpeg, page_width, page_height, full_jpeg, full_width, \
                   full_height, original_bytes) \
                 VALUES ({id}, 9, sha256('x'), '\\x00', 1, 1, '\\x00', 1, 1, '\\x00', 1, 1, 1)"
            ),
        )
        .await,
        "a viewer adding a photo",
    );
    assert_denied(
        run(&mut conn, "UPDATE vehicle_photos SET position = 5").await,
        "a viewer moving a photo",
    );
    assert_denied(
        run(&mut conn, "DELETE FROM vehicle_photos").await,
        "a viewer deleting a photo",
    );
    // An editor may move one, but not swap its content.
    let mut conn = acting(&app, DbRole::Editor, Some(viewer)).await;
    assert!(
        run(&mut conn, "UPDATE vehicle_photos SET position = 5")
            .await
            .is_ok()
    );
    assert_denied(
        run(&mut conn, "UPDATE vehicle_photos SET full_jpeg = '\\x00'").await,
        "an editor rewriting a photo's bytes",
    );
    // Signed out, no photo at all.
    let mut conn = acting(&app, Acting::ANON.role, None).await;
    assert_denied(
        run(&mut conn, "SELECT id FROM vehicle_photos").await,
        "signed out",
    );
    assert_eq!(count(&app).await, 1);
}

#[tokio::test]
async fn two_instances_serve_the_same_photo() {
    let a = TestApp::spawn().await;
    let b = a.sibling().await;
    a.signed_in_as("editor").await;
    let id = add_vehicle(&a, "PH-5").await;
    a.add_photos(id, &[("car.jpg", sample_jpeg(300, 200, [30, 140, 90]))])
        .await;
    // Uploaded on A, shown and served by B to the same browser.
    let page = b
        .get_with(&a.client, &format!("/vehicles/{id}"))
        .await
        .text()
        .await
        .unwrap();
    let (full, _) = gallery(&page).remove(0);
    let from_a = a.get(&full).await.bytes().await.unwrap();
    let r = b.get_with(&a.client, &full).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.bytes().await.unwrap(), from_a);
    assert_eq!(image::load_from_memory(&from_a).unwrap().width(), 300);
}

#[tokio::test]
async fn photos_are_reordered_a_cover_chosen_and_one_deleted() {
    let app = TestApp::spawn().await;
    app.signed_in_as("editor").await;
    let id = add_vehicle(&app, "PH-6").await;
    let colours = [[200, 30, 30], [30, 200, 30], [30, 30, 200]];
    let uploads: Vec<(&str, Vec<u8>)> = colours
        .iter()
        .map(|c| ("photo.jpg", sample_jpeg(120, 90, *c)))
        .collect();
    app.add_photos(id, &uploads).await;
    let first = order(&app, id).await;
    assert_eq!(first.len(), 3, "kept in the order uploaded");
    let page = vehicle_page(&app, id).await;
    let shown = gallery(&page);
    let covers: Vec<bool> = Html::parse(&page)
        .select(".gallery-item")
        .iter()
        .map(|item| {
            item.first(".badge-cover")
                .is_some_and(|b| b.text() == "Cover")
        })
        .collect();
    assert_eq!(
        covers,
        [true, false, false],
        "the first is marked the cover"
    );

    // Uploading the same photo again adds nothing.
    let r = app.upload_photos(id, &uploads[..1]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(count(&app).await, 3);

    // The third becomes the cover; then the (new) second goes later.
    let post = async |photo: i64, action: &str, fields: &[(&str, &str)]| {
        app.post(&format!("/vehicles/{id}/photos/{photo}/{action}"), fields)
            .await
    };
    let r = post(first[2], "move", &[("to", "first")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(order(&app, id).await, [first[2], first[0], first[1]]);
    let r = post(first[0], "move", &[("to", "later")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(order(&app, id).await, [first[2], first[1], first[0]]);
    let r = post(first[0], "move", &[("to", "earlier")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(order(&app, id).await, [first[2], first[0], first[1]]);
    // Nowhere to go, or a photo of another vehicle: said so, nothing moves.
    assert_eq!(
        post(first[0], "move", &[("to", "sideways")]).await.status(),
        StatusCode::BAD_REQUEST
    );
    let other = add_vehicle(&app, "PH-7").await;
    let r = app
        .post(
            &format!("/vehicles/{other}/photos/{}/move", first[0]),
            &[("to", "first")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(order(&app, id).await, [first[2], first[0], first[1]]);

    // The cover is on the page first, on the list and on the receipt.
    let page = vehicle_page(&app, id).await;
    let now = gallery(&page);
    assert_eq!(now[0], shown[2]);
    let cover_thumb = now[0].0.replace("-full.jpg", "-thumb.jpg");
    let list = Html::parse(&app.get("/vehicles").await.text().await.unwrap());
    let thumb = list.one(&format!("tr[data-vehicle='{id}'] img"));
    assert_eq!(thumb.attr("src").unwrap(), cover_thumb);
    assert_eq!(thumb.attr("loading").as_deref(), Some("lazy"));
    assert_eq!(
        (
            thumb.attr("width").unwrap().as_str(),
            thumb.attr("height").unwrap().as_str()
        ),
        ("120", "90")
    );
    assert!(
        !list.has(&format!("tr[data-vehicle='{other}'] img")),
        "no photo, no thumbnail"
    );
    // None of it changed the vehicle.
    assert_eq!(version(&app, id).await, 1);
    let receipt = sell(&app, id, "Ana Lima").await;
    let receipt = Html::parse(&app.get(&receipt).await.text().await.unwrap());
    assert_eq!(
        receipt.one("img.receipt-photo").attr("src").unwrap(),
        now[0].0.replace("-full.jpg", "-page.jpg")
    );

    // Deleting one; deleting it again is no error (a double click).
    let r = post(first[0], "delete", &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(order(&app, id).await, [first[2], first[1]]);
    let page = vehicle_page(&app, id).await;
    assert!(Html::parse(&page).text().contains("The photo is deleted."));
    let r = post(first[0], "delete", &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page = vehicle_page(&app, id).await;
    assert!(
        Html::parse(&page)
            .text()
            .contains("That photo was already deleted.")
    );
    // Its addresses are gone; an address no photo has, or a malformed one, is a 404.
    assert_eq!(app.get(&shown[0].0).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        app.get(&format!("/photos/{}-page.jpg", "0".repeat(64)))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/photos/not-a-photo.jpg").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.get(&now[0].0).await.status(), StatusCode::OK);
    // Signed out, no photo.
    let r = app.get_with(&crate::helpers::client(), &now[0].0).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    assert_eq!(version(&app, id).await, 2, "the sale, and nothing else");
    assert_eq!(
        app.scalar_text(
            "SELECT string_agg(action, ', ' ORDER BY id) AS v FROM audit_log WHERE action LIKE 'photo%'"
        )
        .await,
        "photos added, photo deleted"
    );
}
