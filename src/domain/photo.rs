//! A vehicle's photos as rules apart from HTTP and the database: what an
//! upload must be and what is kept of it (`process`: checked, stripped of
//! its metadata, upright, in three sizes), the content-addressed name each
//! size is served under, and their order, whose first is the cover (`order`).

mod order;
mod process;
#[doc(hidden)]
pub mod samples;

pub use order::{Move, moved};
pub use process::{Encoded, Problem, Processed, process};

/// The largest file taken as one photo (a phone's photo is 2–8 MB).
pub const MAX_FILE_BYTES: usize = 15 * 1024 * 1024;
/// The most photos one upload takes.
pub const MAX_FILES: usize = 20;
/// The most bytes one upload takes, all its files together.
pub const MAX_UPLOAD_BYTES: usize = 100 * 1024 * 1024;
/// The most photos a vehicle keeps.
pub const MAX_PER_VEHICLE: usize = 60;

/// The sizes kept of every photo: each a JPEG that fits a square of its edge.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Size {
    /// The inventory list and the gallery's strip.
    Thumb,
    /// The vehicle page and the receipt.
    Page,
    /// Opened on its own, for a close look or a print.
    Full,
}

impl Size {
    pub const ALL: [Self; 3] = [Self::Thumb, Self::Page, Self::Full];

    /// The longest side, in pixels; a smaller photo is never enlarged.
    pub fn max_edge(self) -> u32 {
        match self {
            Self::Thumb => 160,
            Self::Page => 1024,
            Self::Full => 2560,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Thumb => "thumb",
            Self::Page => "page",
            Self::Full => "full",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|size| size.as_str() == s)
    }
}

/// What a photo of one size is served as: `/photos/{hash}-{size}.jpg`. The
/// hash names the photo's content (all three sizes), so the same address
/// always serves the same bytes and may be cached for good.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileName {
    pub hash: [u8; 32],
    pub size: Size,
}

impl FileName {
    /// Only the exact form PCN writes (lower-case hex): anything else names
    /// no photo.
    pub fn parse(name: &str) -> Option<Self> {
        let (hex, rest) = name.split_at_checked(64)?;
        let size = Size::parse(rest.strip_prefix('-')?.strip_suffix(".jpg")?)?;
        let mut hash = [0u8; 32];
        for (byte, pair) in hash.iter_mut().zip(hex.as_bytes().chunks(2)) {
            *byte = (digit(pair[0])? << 4) | digit(pair[1])?;
        }
        Some(Self { hash, size })
    }

    /// The address a page links to.
    pub fn url(hash: &[u8], size: Size) -> String {
        let mut url = String::with_capacity(8 + 64 + 10);
        url.push_str("/photos/");
        for b in hash {
            url.push_str(&format!("{b:02x}"));
        }
        url.push('-');
        url.push_str(size.as_str());
        url.push_str(".jpg");
        url
    }
}

fn digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

/// `width` × `height` scaled down (never up) to fit `edge`, keeping its
/// proportions; no side below one pixel.
pub fn fit(width: u32, height: u32, edge: u32) -> (u32, u32) {
    let longest = width.max(height);
    if longest <= edge {
        return (width, height);
    }
    let scale = |side: u32| {
        let scaled =
            (u64::from(side) * u64::from(edge) + u64::from(longest) / 2) / u64::from(longest);
        u32::try_from(scaled).unwrap_or(edge).clamp(1, edge)
    };
    (scale(width), scale(height))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_name_goes_to_its_url_and_back() {
        let hash: [u8; 32] = std::array::from_fn(|i| (i * 7) as u8);
        for size in Size::ALL {
            let url = FileName::url(&hash, size);
            let name = url.strip_prefix("/photos/").unwrap();
            assert_eq!(
                FileName::parse(name),
                Some(FileName { hash, size }),
                "{url}"
            );
        }
    }

    #[test]
    fn only_the_exact_form_names_a_photo() {
        let hex = "ab".repeat(32);
        assert!(FileName::parse(&format!("{hex}-page.jpg")).is_some());
        for bad in [
            format!("{}-page.jpg", hex.to_uppercase()),
            format!("{hex}-huge.jpg"),
            format!("{hex}-page.png"),
            format!("{hex}page.jpg"),
            format!("{}-page.jpg", &hex[..62]),
            format!("{}zz-page.jpg", &hex[..62]),
            format!("{hex}0-page.jpg"),
            "é".repeat(40),
            String::new(),
            "app.css".into(),
        ] {
            assert_eq!(FileName::parse(&bad), None, "{bad}");
        }
    }

    #[test]
    fn fitting_scales_down_never_up_and_keeps_proportions() {
        assert_eq!(fit(4032, 3024, 2560), (2560, 1920));
        assert_eq!(fit(3024, 4032, 1024), (768, 1024));
        assert_eq!(fit(800, 600, 1024), (800, 600));
        assert_eq!(fit(1024, 1024, 160), (160, 160));
        assert_eq!(fit(10_000, 3, 160), (160, 1));
        assert_eq!(fit(u32::MAX, u32::MAX, 2560), (2560, 2560));
    }
}
