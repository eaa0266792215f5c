//! The JSON bodies of details, reviews and ratings, field for field as Bookinfo serves them.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Shown by reviews v2/v3 in place of stars when ratings cannot be reached.
pub(crate) const RATINGS_UNAVAILABLE: &str = "Ratings service is currently unavailable";
/// productpage's API answer when details fails.
pub(crate) const DETAILS_UNAVAILABLE: &str = "Sorry, product details are currently unavailable for this book.";
/// productpage's API answer when reviews fails (after its retry).
pub(crate) const REVIEWS_UNAVAILABLE: &str = "Sorry, product reviews are currently unavailable for this book.";
/// productpage's API answer when ratings fails.
pub(crate) const RATINGS_API_UNAVAILABLE: &str = "Sorry, product ratings are currently unavailable for this book.";

/// The only book, as productpage lists it.
pub(crate) const TITLE: &str = "The Comedy of Errors";
/// HTML description of the book.
pub(crate) const DESCRIPTION_HTML: &str = "<a href=\"https://en.wikipedia.org/wiki/The_Comedy_of_Errors\">Wikipedia Summary</a>: The Comedy of Errors is one of <b>William Shakespeare's</b> early plays. It is his shortest and one of his most farcical comedies, with a major part of the humour coming from slapstick and mistaken identity, in addition to puns and word play.";

/// `GET /details/{id}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Details {
    pub(crate) id: i64,
    pub(crate) author: String,
    pub(crate) year: u32,
    #[serde(rename = "type")]
    pub(crate) kind: String,
    pub(crate) pages: u32,
    pub(crate) publisher: String,
    pub(crate) language: String,
    #[serde(rename = "ISBN-10")]
    pub(crate) isbn_10: String,
    #[serde(rename = "ISBN-13")]
    pub(crate) isbn_13: String,
}

impl Details {
    pub(crate) fn book(id: i64) -> Details {
        Details {
            id,
            author: "William Shakespeare".into(),
            year: 1595,
            kind: "paperback".into(),
            pages: 200,
            publisher: "PublisherA".into(),
            language: "English".into(),
            isbn_10: "1234567890".into(),
            isbn_13: "123-1234567890".into(),
        }
    }
}

/// `GET /reviews/{id}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ReviewsDoc {
    pub(crate) id: String,
    pub(crate) podname: String,
    pub(crate) clustername: String,
    pub(crate) reviews: Vec<Review>,
}

/// One review; v1 has no rating.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Review {
    pub(crate) reviewer: String,
    pub(crate) text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) rating: Option<Rating>,
}

/// Stars from ratings, or the error reviews shows when ratings failed.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub(crate) enum Rating {
    Stars { stars: u8, color: String },
    Error { error: String },
}

impl ReviewsDoc {
    /// The two reviews; `ratings` is `None` for v1, else the star counts (or `Err` if ratings failed).
    pub(crate) fn new(id: i64, pod: &str, ratings: Option<(Result<&RatingsDoc, ()>, &str)>) -> ReviewsDoc {
        let texts = [
            ("Reviewer1", "An extremely entertaining play by Shakespeare. The slapstick humour is refreshing!"),
            ("Reviewer2", "Absolutely fun and entertaining. The play lacks thematic depth when compared to other plays by Shakespeare."),
        ];
        let reviews = texts
            .into_iter()
            .map(|(reviewer, text)| Review {
                reviewer: reviewer.into(),
                text: text.into(),
                rating: ratings.map(|(r, color)| match r {
                    Ok(doc) => {
                        Rating::Stars { stars: doc.ratings.get(reviewer).copied().unwrap_or(0), color: color.into() }
                    }
                    Err(()) => Rating::Error { error: RATINGS_UNAVAILABLE.into() },
                }),
            })
            .collect();
        ReviewsDoc { id: id.to_string(), podname: pod.into(), clustername: "null".into(), reviews }
    }
}

/// `GET /ratings/{id}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct RatingsDoc {
    pub(crate) id: i64,
    pub(crate) ratings: BTreeMap<String, u8>,
}

impl RatingsDoc {
    pub(crate) fn book(id: i64) -> RatingsDoc {
        let ratings = [("Reviewer1".to_owned(), 5), ("Reviewer2".to_owned(), 4)].into();
        RatingsDoc { id, ratings }
    }
}

/// `GET /api/v1/products`.
pub(crate) fn products_json() -> String {
    serde_json::json!([{ "id": 0, "title": TITLE, "descriptionHtml": DESCRIPTION_HTML }]).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_match_bookinfo() {
        assert_eq!(
            serde_json::to_string(&Details::book(0)).unwrap(),
            r#"{"id":0,"author":"William Shakespeare","year":1595,"type":"paperback","pages":200,"publisher":"PublisherA","language":"English","ISBN-10":"1234567890","ISBN-13":"123-1234567890"}"#
        );
        assert_eq!(
            serde_json::to_string(&RatingsDoc::book(0)).unwrap(),
            r#"{"id":0,"ratings":{"Reviewer1":5,"Reviewer2":4}}"#
        );
        let v1 = ReviewsDoc::new(0, "reviews-v1-6d8bc58dc6-kw5pz", None);
        assert_eq!(
            serde_json::to_string(&v1).unwrap(),
            r#"{"id":"0","podname":"reviews-v1-6d8bc58dc6-kw5pz","clustername":"null","reviews":[{"reviewer":"Reviewer1","text":"An extremely entertaining play by Shakespeare. The slapstick humour is refreshing!"},{"reviewer":"Reviewer2","text":"Absolutely fun and entertaining. The play lacks thematic depth when compared to other plays by Shakespeare."}]}"#
        );
        let ratings = RatingsDoc::book(0);
        let v3 = serde_json::to_string(&ReviewsDoc::new(0, "p", Some((Ok(&ratings), "red")))).unwrap();
        assert!(v3.contains(r#""rating":{"stars":5,"color":"red"}"#) && v3.contains(r#""stars":4"#), "{v3}");
        let failed = serde_json::to_string(&ReviewsDoc::new(0, "p", Some((Err(()), "black")))).unwrap();
        assert!(failed.contains(r#""rating":{"error":"Ratings service is currently unavailable"}"#));
        let back: ReviewsDoc = serde_json::from_str(&v3).unwrap();
        assert!(matches!(back.reviews[1].rating, Some(Rating::Stars { stars: 4, .. })));
    }
}
