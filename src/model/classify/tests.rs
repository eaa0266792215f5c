//! Classification tests against the markup of both productpage templates.

use super::*;

const FILLED: &str = r#"              <svg class="h-5 w-5 flex-none" viewBox="0 0 20 20" fill="currentColor" aria-hidden="true" id="glyphicon glyphicon-star">
                <path fill-rule="evenodd" d="M10.868 2.884c-.321-.772-1.415-.772-1.736 0l-1.83 4.401z" clip-rule="evenodd" />
              </svg>
"#;
const EMPTY: &str = r#"              <svg xmlns="http://www.w3.org/2000/svg" fill="none" viewBox="0 0 24 24" stroke-width="1.5" stroke="currentColor" class="h-5 w-5 flex-none">
                <path stroke-linecap="round" stroke-linejoin="round" d="M11.48 3.499a.562.562 0 0 1 1.04 0Z" />
              </svg>
"#;
const POD: &str = "reviews-v2-5b667bcbf8-2xq4m";

/// One review of the Tailwind template; `rating` is `Some(Ok((stars, colour)))`, `Some(Err(text))` or `None`.
fn tailwind_review(text: &str, who: &str, rating: Option<Result<(usize, &str), &str>>) -> String {
    let mut s = String::from(
        "        <section class=\"px-6 py-12 sm:py-8 lg:px-8\">\n          <div class=\"mx-auto max-w-2xl\">\n",
    );
    match rating {
        Some(Ok((stars, colour))) => {
            s += &format!("            <div class=\"flex gap-x-1 text-{colour}-500\">\n");
            s += &FILLED.repeat(stars);
            s += &EMPTY.repeat(5 - stars);
            s += "            </div>\n";
        }
        Some(Err(e)) => s += &format!("            <p class=\"text-red-500\">{e}</p>\n"),
        None => {}
    }
    s += &format!(
        "            <blockquote class=\"mt-10 text-xl font-semibold\">\n              <p>\"{text}\"</p>\n            </blockquote>\n\
         <div class=\"font-semibold text-gray-900\">{who}</div>\n\
         <div class=\"mt-0.5 text-gray-600 font-mono\">Reviews served by: \n                  {POD}\n                </div>\n        </section>\n"
    );
    s
}

fn tailwind_page(details_ok: bool, reviews: Option<&[String]>) -> String {
    let mut s = String::from("<title>Simple Bookstore App</title>\n<nav class=\"bg-gray-800\"></nav>\n");
    s += if details_ok {
        "<h4 class=\"text-3xl font-semibold\">Book Details</h4>\n<table></table>\n"
    } else {
        "<p class=\"text-2xl text-red-500\">Error fetching product details</p>\n<p class=\"text-lg text-gray-600\">Sorry, product details are currently unavailable for this book.</p>\n"
    };
    match reviews {
        Some(list) => {
            s += "<h4 class=\"text-3xl font-semibold\">Book Reviews</h4>\n<div class=\"flex flex-col md:flex-row\">\n";
            s += &list.concat();
            s += "</div>\n";
        }
        None => s += "<p class=\"text-2xl text-red-500\">Error fetching product reviews</p>\n<p class=\"text-lg text-gray-600\">Sorry, product reviews are currently unavailable for this book.</p>\n",
    }
    s
}

fn tailwind(version: u8) -> String {
    let colour = if version == 2 { "black" } else { "red" };
    let rating = |stars| (version > 1).then_some(Ok((stars, colour)));
    let list = [
        tailwind_review("An extremely entertaining play by Shakespeare.", "Reviewer1", rating(5)),
        tailwind_review("Absolutely fun and entertaining.", "Reviewer2", rating(4)),
    ];
    tailwind_page(true, Some(&list))
}

/// The pre-2024 Bootstrap template's reviews section.
fn bootstrap(colour: Option<&str>, ratings_error: bool) -> String {
    let mut s = String::from("<h4 class=\"text-center text-primary\">Book Reviews</h4>\n");
    for (stars, who) in [(5, "Reviewer1"), (4, "Reviewer2")] {
        s += &format!("<blockquote>\n<p>A review text.</p>\n<small>{who}</small>\n");
        if let Some(c) = colour {
            s += &format!("<font color=\"{c}\">\n<!-- full stars: -->\n");
            s += &"<span class=\"glyphicon glyphicon-star\"></span>\n".repeat(stars);
            s += "<!-- empty stars: -->\n";
            s += &"<span class=\"glyphicon glyphicon-star-empty\"></span>\n".repeat(5 - stars);
            s += "</font>\n";
        } else if ratings_error {
            s += "<p><i>Ratings service is currently unavailable</i></p>\n";
        }
        s += "</blockquote>\n";
    }
    s + "<dl>\n<dt>Reviews served by:</dt>\n<u>reviews-v1-6d8bc58dc6-kw5pz</u>\n</dl>\n"
}

fn preset() -> Classifier {
    Classifier::from_flags(&[], None, Some("bookinfo-reviews")).unwrap()
}

fn class_of(c: &Classifier, status: u16, body: &str) -> String {
    c.class_name(c.classify(status, &HeaderMap::new(), body.as_bytes()))
}

#[test]
fn preset_classes_are_known_up_front() {
    let c = preset();
    assert_eq!(c.classes(), ["v1", "v2", "v3", "error", "unclassified"]);
    assert!(c.needs_body());
}

#[test]
fn tailwind_versions() {
    let c = preset();
    assert_eq!(class_of(&c, 200, &tailwind(1)), "v1");
    assert_eq!(class_of(&c, 200, &tailwind(2)), "v2");
    assert_eq!(class_of(&c, 200, &tailwind(3)), "v3");
}

#[test]
fn tailwind_failure_pages_are_errors() {
    let c = preset();
    let v1 = [tailwind_review("t", "Reviewer1", None)];
    assert_eq!(class_of(&c, 200, &tailwind_page(false, Some(&v1))), "error");
    assert_eq!(class_of(&c, 200, &tailwind_page(true, None)), "error");
    assert_eq!(class_of(&c, 200, &tailwind_page(false, None)), "error");
    for _version in [2, 3] {
        let err = Some(Err("Ratings service is currently unavailable"));
        let list = [tailwind_review("t", "Reviewer1", err), tailwind_review("t", "Reviewer2", err)];
        assert_eq!(class_of(&c, 200, &tailwind_page(true, Some(&list))), "error");
    }
}

#[test]
fn red_error_text_alone_is_not_v3() {
    // A v1 page whose details failed has `text-red-500` but no star row.
    let c = Classifier::from_flags(&["v3=flex gap-x-1 text-red-500".into()], None, None).unwrap();
    let v1 = [tailwind_review("t", "Reviewer1", None)];
    assert_eq!(class_of(&c, 200, &tailwind_page(false, Some(&v1))), "unclassified");
}

#[test]
fn non_2xx_is_error() {
    assert_eq!(class_of(&preset(), 503, "upstream connect error"), "error");
}

#[test]
fn unrelated_body_is_unclassified() {
    assert_eq!(class_of(&preset(), 200, "<html>hello</html>"), "unclassified");
}

#[test]
fn bootstrap_versions() {
    let c = preset();
    assert_eq!(class_of(&c, 200, &bootstrap(None, false)), "v1");
    assert_eq!(class_of(&c, 200, &bootstrap(Some("black"), false)), "v2");
    assert_eq!(class_of(&c, 200, &bootstrap(Some("red"), false)), "v3");
}

#[test]
fn bootstrap_failure_pages_are_errors() {
    let c = preset();
    assert_eq!(class_of(&c, 200, &bootstrap(None, true)), "error");
    let reviews_down = "<h4 class=\"text-center text-primary\">Error fetching product reviews!</h4>\n<p>Sorry, product reviews are currently unavailable for this book.</p>";
    assert_eq!(class_of(&c, 200, reviews_down), "error");
    let details_down = format!(
        "<h4 class=\"text-center text-primary\">Error fetching product details!</h4>\n{}",
        bootstrap(Some("red"), false)
    );
    assert_eq!(class_of(&c, 200, &details_down), "error");
}

#[test]
fn body_rules_first_match_wins() {
    let flags = ["black=text-black-500".into(), "any=text-red-500".into(), "black=font color=.black".into()];
    let c = Classifier::from_flags(&flags, None, None).unwrap();
    assert_eq!(c.classes(), ["black", "any", "unclassified"]);
    assert_eq!(class_of(&c, 200, &tailwind(2)), "black");
    assert_eq!(class_of(&c, 200, &tailwind(3)), "any");
    assert_eq!(class_of(&c, 200, &bootstrap(Some("black"), false)), "black");
    assert_eq!(class_of(&c, 200, "nothing"), "unclassified");
}

#[test]
fn header_values_are_capped() {
    let c = Classifier::from_flags(&[], Some("x-version"), None).unwrap();
    assert!(!c.needs_body());
    assert_eq!(c.classes(), ["unclassified", "other"]);
    let mut seen = Vec::new();
    for i in 0..MAX_HEADER_VALUES + 4 {
        let mut h = HeaderMap::new();
        h.insert("x-version", format!("v{i}").parse().unwrap());
        seen.push(c.class_name(c.classify(200, &h, b"")));
        // Asking again gives the same id.
        assert_eq!(c.classify(200, &h, b""), c.classify(200, &h, b""));
    }
    assert_eq!(seen[0], "v0");
    assert_eq!(seen[MAX_HEADER_VALUES - 1], format!("v{}", MAX_HEADER_VALUES - 1));
    assert!(seen[MAX_HEADER_VALUES..].iter().all(|s| s == "other"));
    assert_eq!(class_of(&c, 200, ""), "unclassified");
}

#[test]
fn config_errors_name_setting_and_value() {
    let cases = [
        (Classifier::from_flags(&["novalue".into()], None, None), "--classify \"novalue\""),
        (Classifier::from_flags(&["v1=(".into()], None, None), "--classify \"(\""),
        (Classifier::from_flags(&["bad name=x".into()], None, None), "class name"),
        (Classifier::from_flags(&[], Some("bad header"), None), "--classify-header \"bad header\""),
        (Classifier::from_flags(&[], None, Some("nope")), "--classify-preset \"nope\""),
        (Classifier::from_flags(&["a=b".into()], Some("x"), None), "only one of"),
    ];
    for (result, needle) in cases {
        let msg = result.unwrap_err().to_string();
        assert!(msg.contains(needle), "{msg:?} lacks {needle:?}");
    }
}

#[test]
fn no_rules_means_unclassified_without_body() {
    let c = Classifier::from_flags(&[], None, None).unwrap();
    assert!(!c.needs_body());
    assert_eq!(c.classes(), ["unclassified"]);
    assert_eq!(class_of(&c, 200, "x"), "unclassified");
}
