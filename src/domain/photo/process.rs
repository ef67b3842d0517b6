//! What an uploaded file becomes. It must be a JPEG, PNG or WebP photo of a
//! sane number of pixels (a small file can declare a huge image: decoding
//! one is refused before a byte of it is allocated). It is turned upright
//! by its EXIF orientation, laid on white where it is transparent, and kept
//! as three new JPEGs (`Size`), written from pixels alone: no EXIF (GPS
//! position, camera serial, time), no XMP, no ICC profile of the original
//! survives. CPU work: the caller runs it off the request threads.

use std::io::Cursor;

use image::{
    DynamicImage, ImageDecoder as _, ImageError, ImageFormat, ImageReader, Limits, RgbImage,
    codecs::jpeg::JpegEncoder, imageops, metadata::Orientation,
};
use sha2::{Digest as _, Sha256};

use super::{MAX_FILE_BYTES, Size, fit};

/// The widest or tallest image decoded.
pub const MAX_SIDE: u32 = 16_384;
/// The most memory one decoded image may take: 64 megapixels of RGB (a
/// phone's 48-megapixel photo fits; a decompression bomb does not).
pub const MAX_DECODED_BYTES: u64 = 192 * 1024 * 1024;
/// JPEG quality of every size: photos look as they did, at a third of the
/// bytes of quality 95.
const QUALITY: u8 = 82;

/// Why a file is not taken, as the person who chose it is told.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("is not a JPEG, PNG or WebP photo.")]
    NotAPhoto,
    #[error(
        "is a HEIC photo, which PCN cannot read. Choose “Most Compatible” in the camera's \
         settings, or send it as JPEG."
    )]
    Heic,
    #[error("is larger than 15 MB. Choose a smaller photo.")]
    TooLarge,
    #[error("has more pixels than PCN takes (at most 16,384 a side and 64 megapixels in all).")]
    TooManyPixels,
    #[error("cannot be read: the file is damaged or incomplete.")]
    Damaged,
}

/// One size of a photo: a JPEG and its dimensions.
#[derive(Clone, Debug)]
pub struct Encoded {
    pub jpeg: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

/// An upload made fit to keep: its three sizes and the hash that names them.
#[derive(Clone, Debug)]
pub struct Processed {
    /// SHA-256 over the three sizes' own hashes: the photo's address.
    pub hash: [u8; 32],
    pub thumb: Encoded,
    pub page: Encoded,
    pub full: Encoded,
    /// How many bytes were uploaded.
    pub original_bytes: usize,
}

impl Processed {
    pub fn size(&self, size: Size) -> &Encoded {
        match size {
            Size::Thumb => &self.thumb,
            Size::Page => &self.page,
            Size::Full => &self.full,
        }
    }
}

/// Checks and converts one uploaded file. A decoder that panics on a hostile
/// file refuses it like a damaged one.
pub fn process(bytes: &[u8]) -> Result<Processed, Problem> {
    std::panic::catch_unwind(|| convert(bytes)).unwrap_or(Err(Problem::Damaged))
}

fn convert(bytes: &[u8]) -> Result<Processed, Problem> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(Problem::TooLarge);
    }
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|_| Problem::Damaged)?;
    match reader.format() {
        Some(ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP) => {}
        _ if is_heic(bytes) => return Err(Problem::Heic),
        _ => return Err(Problem::NotAPhoto),
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODED_BYTES);
    reader.limits(limits);
    // The declared size is checked here, before any pixel is decoded.
    let mut decoder = reader.into_decoder().map_err(refusal)?;
    if decoder.total_bytes() > MAX_DECODED_BYTES {
        return Err(Problem::TooManyPixels);
    }
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let decoded = DynamicImage::from_decoder(decoder).map_err(refusal)?;
    let rgb = on_white(decoded);
    // Shrunk first, turned after: the same picture, at a fraction of the
    // memory and time of turning all the original's pixels.
    let mut full = DynamicImage::ImageRgb8(shrink(&rgb, Size::Full));
    drop(rgb);
    full.apply_orientation(orientation);
    let full = full.into_rgb8();
    let page = shrink(&full, Size::Page);
    let thumb = shrink(&page, Size::Thumb);
    let (thumb, page, full) = (encode(&thumb)?, encode(&page)?, encode(&full)?);
    let mut hasher = Sha256::new();
    for size in [&thumb, &page, &full] {
        hasher.update(Sha256::digest(&size.jpeg));
    }
    Ok(Processed {
        hash: hasher.finalize().into(),
        thumb,
        page,
        full,
        original_bytes: bytes.len(),
    })
}

/// The decoder's refusal, as the person is told.
fn refusal(e: ImageError) -> Problem {
    match e {
        ImageError::Limits(_) => Problem::TooManyPixels,
        ImageError::Unsupported(_) => Problem::NotAPhoto,
        _ => Problem::Damaged,
    }
}

/// HEIF/HEIC (an iPhone's default): an ISO media file of brand `heic`,
/// `heix`, `hevc`, `heim`, `heis` or `mif1`. Told apart only to say so.
fn is_heic(bytes: &[u8]) -> bool {
    bytes.get(4..8) == Some(b"ftyp")
        && bytes.get(8..12).is_some_and(|brand| {
            [b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1"]
                .contains(&brand.try_into().unwrap_or(&[0; 4]))
        })
}

/// RGB, with what was transparent laid on white (a JPEG has no
/// transparency, and black behind a logo looks broken).
fn on_white(image: DynamicImage) -> RgbImage {
    if !image.color().has_alpha() {
        return image.into_rgb8();
    }
    let rgba = image.into_rgba8();
    RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let [r, g, b, a] = rgba.get_pixel(x, y).0;
        let over = |c: u8| {
            let (c, a) = (u16::from(c), u16::from(a));
            u8::try_from((c * a + 255 * (255 - a) + 127) / 255).unwrap_or(u8::MAX)
        };
        image::Rgb([over(r), over(g), over(b)])
    })
}

/// `image` fitted to `size` (never enlarged). Every source pixel counts
/// toward one target pixel: no aliasing, and no float copy of the original.
fn shrink(image: &RgbImage, size: Size) -> RgbImage {
    let (w, h) = fit(image.width(), image.height(), size.max_edge());
    if (w, h) == image.dimensions() {
        return image.clone();
    }
    imageops::thumbnail(image, w, h)
}

fn encode(image: &RgbImage) -> Result<Encoded, Problem> {
    let mut jpeg = Vec::new();
    JpegEncoder::new_with_quality(&mut jpeg, QUALITY)
        .encode_image(image)
        .map_err(|_| Problem::Damaged)?;
    Ok(Encoded {
        jpeg,
        width: image.width(),
        height: image.height(),
    })
}

#[cfg(test)]
mod tests {
    use image::{ImageEncoder as _, Rgb, Rgba, RgbaImage};

    use super::*;
    use crate::domain::photo::samples;

    fn png(image: &DynamicImage) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        image.write_to(&mut out, ImageFormat::Png).unwrap();
        out.into_inner()
    }

    fn jpeg(image: &RgbImage) -> Vec<u8> {
        let mut out = Vec::new();
        JpegEncoder::new_with_quality(&mut out, 90)
            .write_image(
                image,
                image.width(),
                image.height(),
                image::ExtendedColorType::Rgb8,
            )
            .unwrap();
        out
    }

    fn decode(bytes: &[u8]) -> RgbImage {
        image::load_from_memory_with_format(bytes, ImageFormat::Jpeg)
            .unwrap()
            .into_rgb8()
    }

    #[test]
    fn a_large_photo_is_kept_in_three_sizes_of_its_proportions() {
        let photo = process(&jpeg(&RgbImage::from_pixel(3000, 2000, Rgb([40, 90, 160])))).unwrap();
        let dims = |e: &Encoded| (e.width, e.height);
        assert_eq!(dims(&photo.full), (2560, 1707));
        assert_eq!(dims(&photo.page), (1024, 683));
        assert_eq!(dims(&photo.thumb), (160, 107));
        for size in Size::ALL {
            let e = photo.size(size);
            assert_eq!(
                decode(&e.jpeg).dimensions(),
                (e.width, e.height),
                "{size:?}"
            );
        }
    }

    #[test]
    fn a_small_photo_is_not_enlarged() {
        let photo = process(&jpeg(&RgbImage::from_pixel(300, 200, Rgb([1, 2, 3])))).unwrap();
        assert_eq!((photo.full.width, photo.full.height), (300, 200));
        assert_eq!((photo.page.width, photo.page.height), (300, 200));
        assert_eq!((photo.thumb.width, photo.thumb.height), (160, 107));
    }

    #[test]
    fn the_same_photo_gets_the_same_hash_and_another_another() {
        let a = jpeg(&RgbImage::from_pixel(64, 48, Rgb([200, 10, 10])));
        let b = jpeg(&RgbImage::from_pixel(64, 48, Rgb([10, 200, 10])));
        assert_eq!(process(&a).unwrap().hash, process(&a).unwrap().hash);
        assert_ne!(process(&a).unwrap().hash, process(&b).unwrap().hash);
    }

    #[test]
    fn png_and_webp_are_taken_and_transparency_becomes_white() {
        let mut clear = RgbaImage::from_pixel(40, 30, Rgba([0, 0, 0, 0]));
        clear.put_pixel(0, 0, Rgba([0, 0, 255, 255]));
        let photo = process(&png(&DynamicImage::ImageRgba8(clear.clone()))).unwrap();
        let page = decode(&photo.page.jpeg);
        let [r, g, b] = page.get_pixel(30, 20).0;
        assert!(
            r > 245 && g > 245 && b > 245,
            "transparent became {r},{g},{b}"
        );
        let mut webp = Cursor::new(Vec::new());
        DynamicImage::ImageRgba8(clear)
            .write_to(&mut webp, ImageFormat::WebP)
            .unwrap();
        assert_eq!(process(&webp.into_inner()).unwrap().page.width, 40);
    }

    #[test]
    fn what_is_not_a_photo_is_refused_with_its_reason() {
        assert_eq!(
            process(b"Dear customer, this is a text file named car.jpg\n").unwrap_err(),
            Problem::NotAPhoto
        );
        assert_eq!(process(b"").unwrap_err(), Problem::NotAPhoto);
        let gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;";
        assert_eq!(process(gif).unwrap_err(), Problem::NotAPhoto);
        let heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic";
        assert_eq!(process(heic).unwrap_err(), Problem::Heic);
        let whole = jpeg(&RgbImage::from_pixel(64, 64, Rgb([5, 5, 5])));
        assert_eq!(
            process(&whole[..whole.len() / 2]).unwrap_err(),
            Problem::Damaged
        );
        assert_eq!(
            process(&vec![0xFF; MAX_FILE_BYTES + 1]).unwrap_err(),
            Problem::TooLarge
        );
    }

    #[test]
    fn a_photo_is_turned_upright_and_loses_its_exif_and_gps() {
        // Orientation 6: shown turned a quarter clockwise, so the left half
        // ends up on top.
        let exif = samples::exif(6, Some((48.8584, 2.2945)));
        let upload = samples::jpeg(&samples::halves(), Some(exif));
        assert!(
            samples::contains(&upload, b"Exif\0\0")
                && samples::contains(&upload, samples::CAMERA.as_bytes())
        );
        let photo = process(&upload).unwrap();
        let full = decode(&photo.full.jpeg);
        assert_eq!(full.dimensions(), (20, 40));
        assert!(samples::is_red(full.get_pixel(10, 5)) && !samples::is_red(full.get_pixel(10, 35)));
        for size in Size::ALL {
            let jpeg = &photo.size(size).jpeg;
            assert!(!samples::contains(jpeg, b"Exif"), "{size:?} keeps EXIF");
            assert!(
                !samples::contains(jpeg, samples::CAMERA.as_bytes()),
                "{size:?} names the camera"
            );
        }
        // Without an orientation, nothing turns.
        let photo = process(&samples::jpeg(
            &samples::halves(),
            Some(samples::exif(1, None)),
        ))
        .unwrap();
        let full = decode(&photo.full.jpeg);
        assert_eq!(full.dimensions(), (40, 20));
        assert!(samples::is_red(full.get_pixel(5, 10)) && !samples::is_red(full.get_pixel(35, 10)));
    }

    #[test]
    fn a_decompression_bomb_is_refused_before_it_is_decoded() {
        assert_eq!(
            process(&samples::bomb(100_000, 100_000)).unwrap_err(),
            Problem::TooManyPixels
        );
        // Within each side's limit, but too many pixels in all.
        assert_eq!(
            process(&samples::bomb(16_000, 16_000)).unwrap_err(),
            Problem::TooManyPixels
        );
        // The same trick at an honest size is only a damaged file.
        assert_eq!(process(&samples::bomb(2, 2)).unwrap_err(), Problem::Damaged);
    }
}
