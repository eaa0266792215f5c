//! Built-in classification rules for well-known demo applications.

use regex::bytes::Regex;
use std::sync::LazyLock;

/// A named, built-in rule set with a fixed list of classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    /// Which reviews version rendered a Bookinfo productpage: `v1`, `v2`, `v3`, or `error`.
    BookinfoReviews,
}

/// Failure markers of both productpage templates. A ratings failure on a v2/v3 page counts as `error`
/// rather than as its version: the page the user saw is degraded, and counting it as v2/v3 would hide
/// the outage behind a healthy-looking version split.
static ERROR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"Error fetching product (?:details|reviews)|Ratings service is currently unavailable")
        .expect("static regex")
});
/// Tailwind template: the whole token sequence, because `text-red-500` alone also styles error text.
static TAILWIND_STARS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"flex gap-x-1 text-(black|red)-500").expect("static regex"));
/// Bootstrap template: a coloured `<font>` that wraps star glyphs (maybe after a template comment).
static BOOTSTRAP_STARS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"<font color="(black|red)">\s*(?:<!--[^>]*-->\s*)*<span class="glyphicon glyphicon-star"#)
        .expect("static regex")
});
/// Present on every successful reviews section, once or twice depending on the template.
static SERVED_BY: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"Reviews served by").expect("static regex"));

const V1: usize = 0;
const V2: usize = 1;
const V3: usize = 2;
const ERROR_CLASS: usize = 3;

impl Preset {
    /// Every preset, for help texts and error messages.
    pub const ALL: [Preset; 1] = [Preset::BookinfoReviews];

    /// Looks a preset up by its command-line name.
    pub fn parse(name: &str) -> Option<Preset> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }

    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Preset::BookinfoReviews => "bookinfo-reviews",
        }
    }

    /// The classes this preset can return, in class-id order.
    pub fn classes(self) -> &'static [&'static str] {
        match self {
            Preset::BookinfoReviews => &["v1", "v2", "v3", "error"],
        }
    }

    /// Index into [`Preset::classes`], or `None` when the response is not recognised.
    pub(crate) fn classify(self, status: u16, body: &[u8]) -> Option<usize> {
        match self {
            Preset::BookinfoReviews => bookinfo_reviews(status, body),
        }
    }
}

fn bookinfo_reviews(status: u16, body: &[u8]) -> Option<usize> {
    // productpage answers 200 even when a backend fails, so any other status is productpage itself failing.
    if !(200..300).contains(&status) || ERROR.is_match(body) {
        return Some(ERROR_CLASS);
    }
    let stars = TAILWIND_STARS.captures(body).or_else(|| BOOTSTRAP_STARS.captures(body));
    let colour = stars.as_ref().and_then(|c| c.get(1)).map(|m| m.as_bytes());
    match colour {
        Some(b"black") => Some(V2),
        Some(b"red") => Some(V3),
        _ if SERVED_BY.is_match(body) => Some(V1),
        _ => None,
    }
}
