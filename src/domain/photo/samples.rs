//! Photos made to order for tests (the app's own and the HTTP tests'): a
//! JPEG carrying EXIF with an orientation and a GPS position, as a phone
//! writes it, and a PNG "decompression bomb". Not used by the app itself.

use std::io::Cursor;

use image::{ImageEncoder as _, Rgb, RgbImage, codecs::jpeg::JpegEncoder};

/// The camera make the EXIF of `exif` names, to look for in what is served.
pub const CAMERA: &str = "PCN Test Camera";

/// 40 × 20: the left half red, the right half blue, to see which way a
/// photo was turned.
pub fn halves() -> RgbImage {
    RgbImage::from_fn(40, 20, |x, _| {
        if x < 20 {
            Rgb([220, 20, 20])
        } else {
            Rgb([20, 20, 220])
        }
    })
}

/// Whether a pixel is the red of `halves` (after JPEG's losses).
pub fn is_red(p: &Rgb<u8>) -> bool {
    p.0[0] > 150 && p.0[2] < 100
}

/// Whether `needle` occurs in `haystack` ("Exif", a camera's name).
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// `image` as a JPEG carrying `exif` (TIFF data, as `exif` makes) in an
/// APP1 "Exif" segment, as cameras write it.
pub fn jpeg(image: &RgbImage, exif: Option<Vec<u8>>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = JpegEncoder::new_with_quality(&mut out, 90);
    if let Some(exif) = exif {
        // The JPEG encoder accepts EXIF; `Unsupported` is not possible here.
        let _ = encoder.set_exif_metadata(exif);
    }
    encoder
        .write_image(
            image.as_raw(),
            image.width(),
            image.height(),
            image::ExtendedColorType::Rgb8,
        )
        .expect("a JPEG of a valid image");
    out
}

/// EXIF (big-endian TIFF) with the camera make, an orientation (1–8) and,
/// when given, a GPS position in degrees north and east.
pub fn exif(orientation: u16, gps: Option<(f64, f64)>) -> Vec<u8> {
    const SHORT: u16 = 3;
    const ASCII: u16 = 2;
    const LONG: u16 = 4;
    const RATIONAL: u16 = 5;
    const BYTE: u16 = 1;
    let make = format!("{CAMERA}\0");
    let ifd0_entries = if gps.is_some() { 3 } else { 2 };
    let ifd0_at = 8;
    let make_at = ifd0_at + 2 + 12 * ifd0_entries + 4;
    let gps_at = make_at + make.len();
    let gps_entries = 5;
    let rationals_at = gps_at + 2 + 12 * gps_entries + 4;

    let mut t: Vec<u8> = b"MM\x00\x2a".to_vec();
    t.extend_from_slice(&u32_of(ifd0_at).to_be_bytes());
    let entry = |t: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: [u8; 4]| {
        t.extend_from_slice(&tag.to_be_bytes());
        t.extend_from_slice(&kind.to_be_bytes());
        t.extend_from_slice(&count.to_be_bytes());
        t.extend_from_slice(&value);
    };
    let offset = |at: usize| u32_of(at).to_be_bytes();
    t.extend_from_slice(&u16::try_from(ifd0_entries).unwrap_or(0).to_be_bytes());
    entry(&mut t, 0x010F, ASCII, u32_of(make.len()), offset(make_at));
    let [o1, o2] = orientation.to_be_bytes();
    entry(&mut t, 0x0112, SHORT, 1, [o1, o2, 0, 0]);
    if gps.is_some() {
        entry(&mut t, 0x8825, LONG, 1, offset(gps_at));
    }
    t.extend_from_slice(&0u32.to_be_bytes());
    t.extend_from_slice(make.as_bytes());
    let Some((lat, lon)) = gps else {
        return t;
    };
    t.extend_from_slice(&5u16.to_be_bytes());
    entry(&mut t, 0x0000, BYTE, 4, [2, 3, 0, 0]);
    entry(&mut t, 0x0001, ASCII, 2, *b"N\0\0\0");
    entry(&mut t, 0x0002, RATIONAL, 3, offset(rationals_at));
    entry(&mut t, 0x0003, ASCII, 2, *b"E\0\0\0");
    entry(&mut t, 0x0004, RATIONAL, 3, offset(rationals_at + 24));
    t.extend_from_slice(&0u32.to_be_bytes());
    for degrees in [lat, lon] {
        for (n, d) in dms(degrees) {
            t.extend_from_slice(&n.to_be_bytes());
            t.extend_from_slice(&d.to_be_bytes());
        }
    }
    t
}

fn u32_of(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Degrees as EXIF writes them: degrees, minutes, seconds, each a fraction.
fn dms(degrees: f64) -> [(u32, u32); 3] {
    let whole = degrees.abs().trunc();
    let minutes = (degrees.abs() - whole) * 60.0;
    let seconds = (minutes - minutes.trunc()) * 60.0;
    let int = |x: f64| {
        let x = x.round().clamp(0.0, f64::from(u32::MAX));
        // Clamped to u32's range just above, so the cast is exact.
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "clamped"
        )]
        let n = x as u32;
        n
    };
    [
        (int(whole), 1),
        (int(minutes.trunc()), 1),
        (int(seconds * 1000.0), 1000),
    ]
}

/// A PNG that declares `width` × `height` but holds one pixel: a few dozen
/// bytes that would decode to gigabytes.
pub fn bomb(width: u32, height: u32) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(RgbImage::new(1, 1))
        .write_to(&mut out, image::ImageFormat::Png)
        .expect("a PNG of one pixel");
    let mut out = out.into_inner();
    // IHDR is the first chunk: its width at 16, height at 20, and its CRC
    // (over the chunk's type and data, 12..29) at 29.
    out[16..20].copy_from_slice(&width.to_be_bytes());
    out[20..24].copy_from_slice(&height.to_be_bytes());
    let crc = crc32(&out[12..29]);
    out[29..33].copy_from_slice(&crc.to_be_bytes());
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}
