//! Photos for tests: JPEGs made here (`pcn::domain::photo::samples` adds
//! EXIF and GPS, or makes a decompression bomb), and uploads sent as the
//! vehicle page's form sends them: `multipart/form-data`, the token first.

use image::{Rgb, RgbImage};
use reqwest::{Response, StatusCode, header};

use super::{Html, TestApp};

/// A plain JPEG of `width` × `height` in one colour.
pub fn sample_jpeg(width: u32, height: u32, colour: [u8; 3]) -> Vec<u8> {
    pcn::domain::photo::samples::jpeg(&RgbImage::from_pixel(width, height, Rgb(colour)), None)
}

/// One part of a multipart body.
#[derive(Clone)]
pub enum Part {
    Field(&'static str, String),
    /// A file: field name, file name, content type, bytes.
    File(&'static str, String, &'static str, Vec<u8>),
}

/// `photos` file parts, each `(file name, bytes)`.
pub fn photo_parts(photos: &[(&str, Vec<u8>)]) -> Vec<Part> {
    photos
        .iter()
        .map(|(name, bytes)| Part::File("photos", (*name).to_string(), "image/jpeg", bytes.clone()))
        .collect()
}

/// The body and its `Content-Type`, as a browser writes them.
pub fn multipart(parts: &[Part]) -> (String, Vec<u8>) {
    let boundary = "----pcn-test-boundary-7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for part in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match part {
            Part::Field(name, value) => {
                body.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
                );
                body.extend_from_slice(value.as_bytes());
            }
            Part::File(name, file, kind, bytes) => {
                body.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"{name}\"; filename=\"{file}\"\r\n\
                         Content-Type: {kind}\r\n\r\n"
                    )
                    .as_bytes(),
                );
                body.extend_from_slice(bytes);
            }
        }
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

impl TestApp {
    /// POSTs exactly these parts as `c` (no token is added).
    pub async fn post_multipart_with(
        &self,
        c: &reqwest::Client,
        path: &str,
        parts: &[Part],
    ) -> Response {
        let (content_type, body) = multipart(parts);
        c.post(self.url(path))
            .header(header::CONTENT_TYPE, content_type)
            .body(body)
            .send()
            .await
            .expect("POST multipart")
    }

    /// Uploads `photos` to vehicle `id` as `c`, the session's token first.
    pub async fn upload_photos_with(
        &self,
        c: &reqwest::Client,
        id: i64,
        photos: &[(&str, Vec<u8>)],
    ) -> Response {
        let token = self.csrf_token_with(c).await;
        let mut parts = vec![Part::Field("csrf_token", token)];
        parts.extend(photo_parts(photos));
        self.post_multipart_with(c, &format!("/vehicles/{id}/photos"), &parts)
            .await
    }

    pub async fn upload_photos(&self, id: i64, photos: &[(&str, Vec<u8>)]) -> Response {
        self.upload_photos_with(&self.client, id, photos).await
    }

    /// Uploads `photos`, which must be taken (303).
    pub async fn add_photos(&self, id: i64, photos: &[(&str, Vec<u8>)]) {
        let r = self.upload_photos(id, photos).await;
        let status = r.status();
        assert_eq!(
            status,
            StatusCode::SEE_OTHER,
            "upload refused: {}",
            Html::parse(&r.text().await.unwrap()).text()
        );
    }
}
