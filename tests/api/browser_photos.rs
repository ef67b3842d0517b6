//! Photos in a real headless Chromium: an editor chooses a file through the
//! vehicle page's form (as a tablet's camera hands one over), sees it in the
//! gallery, upright, and its thumbnail on the inventory list; a file that is
//! no photo comes back with the reason beside the input. Without
//! chromedriver the test is skipped, unless PCN_REQUIRE_BROWSER=1 (set by
//! CI), where a missing browser is a failure.

use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};
use image::{Rgb, RgbImage};
use pcn::domain::photo::samples;

use crate::helpers::{
    PASSWORD, TestApp, add_vehicle, click, open_browser, shot, sign_in_browser, start_driver,
    text_when, wait_for_url,
};

/// A landscape scene 1600 × 1200 as a phone held sideways stores it
/// (1200 × 1600 turned, EXIF orientation 6), with a GPS position.
fn phone_photo() -> Vec<u8> {
    let scene = RgbImage::from_fn(1200, 1600, |x, y| {
        // Stored turned: the sky (blue) on the left, the ground (green) on
        // the right; a red car in the middle.
        let car = (500..700).contains(&x) && (500..1100).contains(&y);
        if car {
            Rgb([200, 30, 40])
        } else if x < 700 {
            Rgb([90, 150, u8::try_from(200 + x / 20).unwrap_or(255)])
        } else {
            Rgb([60, u8::try_from(120 + (x - 700) / 10).unwrap_or(255), 60])
        }
    });
    samples::jpeg(&scene, Some(samples::exif(6, Some((40.4168, -3.7038)))))
}

/// Waits until the image `css` has loaded at its natural width `want` (a
/// page still on its way may show another image there first).
async fn loaded(b: &Client, css: &str, want: u64) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Ok(img) = b.find(Locator::Css(css)).await
            && let Ok(img) = serde_json::to_value(img)
            && let Ok(w) = b
                .execute(
                    "return arguments[0].complete && arguments[0].naturalWidth",
                    vec![img],
                )
                .await
            && w.as_u64() == Some(want)
        {
            return;
        }
        if Instant::now() > deadline {
            shot(b, "failure.png").await;
            panic!("`{css}` never loaded {want} pixels wide (see failure.png)");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn an_editor_uploads_a_photo_and_sees_it_in_the_gallery_and_on_the_list() {
    let Some(driver) = start_driver() else { return };
    let app = TestApp::spawn().await;
    app.signed_in_as("editor").await;
    let id = add_vehicle(&app, "PHOTO-1").await;
    app.create_user("editor", "eve@dealer.example", PASSWORD)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let photo = dir.path().join("IMG_2041.jpg");
    std::fs::write(&photo, phone_photo()).unwrap();
    let notes = dir.path().join("notes.jpg");
    std::fs::write(&notes, "Call the customer back on Monday.\n").unwrap();

    let b = open_browser(&driver, 1280, 1000).await;
    sign_in_browser(&b, &app, "eve@dealer.example").await;
    b.goto(&app.url(&format!("/vehicles/{id}"))).await.unwrap();
    // A file that is no photo: refused, with the reason beside the input.
    let input = b
        .find(Locator::Css("input#photos[type=file]"))
        .await
        .unwrap();
    input.send_keys(&notes.display().to_string()).await.unwrap();
    click(&b, "form.photo-upload button[type=submit]").await;
    let error = text_when(&b, "#photos-error", |t| t.contains("notes.jpg")).await;
    assert!(
        error.contains("is not a JPEG, PNG or WebP photo"),
        "{error}"
    );
    shot(&b, "photos-refused.png").await;

    // Two photos at once, through the same form.
    let second = dir.path().join("IMG_2042.jpg");
    std::fs::write(&second, crate::helpers::sample_jpeg(800, 600, [70, 70, 80])).unwrap();
    let input = b
        .find(Locator::Css("input#photos[type=file]"))
        .await
        .unwrap();
    let both = format!("{}\n{}", photo.display(), second.display());
    input.send_keys(&both).await.unwrap();
    click(&b, "form.photo-upload button[type=submit]").await;
    wait_for_url(&b, &format!("/vehicles/{id}")).await;
    text_when(&b, ".flash-success", |t| t.contains("2 photos added.")).await;
    // Upright: 1600 × 1200 stored turned, so the page size is 1024 × 768.
    loaded(&b, ".gallery-item img", 1024).await;
    shot(&b, "photos-two.png").await;
    // The grey one becomes the cover, then goes back.
    click(
        &b,
        ".gallery-item:nth-child(2) button[aria-label='Make cover: photo 2']",
    )
    .await;
    text_when(&b, ".flash-success", |t| t.contains("is the cover now")).await;
    loaded(&b, ".gallery-item img", 800).await;
    click(
        &b,
        ".gallery-item:nth-child(2) button[aria-label='Make cover: photo 2']",
    )
    .await;
    text_when(&b, ".flash-success", |t| t.contains("is the cover now")).await;
    loaded(&b, ".gallery-item img", 1024).await;
    let gallery = b.find(Locator::Css("section.photos")).await.unwrap();
    let png = gallery.screenshot().await.unwrap();
    std::fs::write(
        crate::helpers::screenshot_dir().join("photos-gallery.png"),
        png,
    )
    .unwrap();
    shot(&b, "photos-vehicle-page.png").await;

    // The inventory list shows its thumbnail, sized before it loads.
    b.goto(&app.url("/vehicles")).await.unwrap();
    let thumb = format!("tr[data-vehicle='{id}'] img.list-thumb");
    loaded(&b, &thumb, 160).await;
    let img = b.find(Locator::Css(&thumb)).await.unwrap();
    assert_eq!(img.attr("width").await.unwrap().as_deref(), Some("160"));
    assert_eq!(img.attr("height").await.unwrap().as_deref(), Some("120"));
    assert_eq!(img.attr("loading").await.unwrap().as_deref(), Some("lazy"));
    shot(&b, "photos-list.png").await;

    // On a tablet's screen the gallery fits, its buttons within reach.
    let t = open_browser(&driver, 820, 1180).await;
    sign_in_browser(&t, &app, "eve@dealer.example").await;
    t.goto(&app.url(&format!("/vehicles/{id}#photos")))
        .await
        .unwrap();
    loaded(&t, ".gallery-item img", 1024).await;
    shot(&t, "photos-tablet.png").await;
    t.close().await.unwrap();
    b.close().await.unwrap();
}

/// The gallery (with its buttons), the list with thumbnails, the receipt
/// with its cover and a refused upload fit a phone, a tablet and a laptop,
/// and axe-core finds nothing in them (as `browser_layout` checks the rest).
#[tokio::test]
async fn pages_with_photos_fit_four_widths_and_pass_axe() {
    use crate::browser_layout::{WIDTHS, assert_none, axe_source, check_page};
    let Some(driver) = start_driver() else { return };
    let axe = axe_source();
    let app = TestApp::spawn().await;
    app.signed_in_as("editor").await;
    let id = add_vehicle(&app, "PHOTO-2").await;
    app.add_photos(
        id,
        &[
            ("front.jpg", phone_photo()),
            (
                "side.jpg",
                crate::helpers::sample_jpeg(800, 600, [70, 70, 80]),
            ),
            (
                "back.jpg",
                crate::helpers::sample_jpeg(600, 800, [150, 60, 60]),
            ),
        ],
    )
    .await;
    let receipt = crate::helpers::sell(&app, id, "Ana Lima").await;
    let dir = tempfile::tempdir().unwrap();
    let notes = dir.path().join("notes.jpg");
    std::fs::write(&notes, "not a photo").unwrap();
    app.create_user("editor", "eve@dealer.example", PASSWORD)
        .await;
    let mut problems = Vec::new();
    for width in WIDTHS {
        let b = open_browser(&driver, width, 900).await;
        b.set_window_size(width, 900).await.unwrap();
        sign_in_browser(&b, &app, "eve@dealer.example").await;
        for (name, path) in [
            ("photos-vehicle", format!("/vehicles/{id}")),
            ("photos-inventory", "/vehicles".to_string()),
            ("photos-receipt", receipt.clone()),
        ] {
            b.goto(&app.url(&path)).await.unwrap();
            problems.extend(check_page(&b, axe.as_deref(), width, name).await);
        }
        b.goto(&app.url(&format!("/vehicles/{id}"))).await.unwrap();
        let input = b.find(Locator::Css("input#photos")).await.unwrap();
        input.send_keys(&notes.display().to_string()).await.unwrap();
        click(&b, "form.photo-upload button[type=submit]").await;
        text_when(&b, "#photos-error", |t| t.contains("notes.jpg")).await;
        problems.extend(check_page(&b, axe.as_deref(), width, "photos-refused").await);
        b.close().await.unwrap();
    }
    assert_none(&problems);
}
