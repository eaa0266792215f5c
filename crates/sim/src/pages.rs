//! productpage HTML in the current (Tailwind) layout, with the markers classification relies on.
//!
//! Written for the simulation, not copied from Bookinfo; what must match the real page is the set of
//! markers listed in BOOKINFO.md (star rows, error texts, "Reviews served by:", sign-in controls) and
//! the rough sizes (v1 ~9.4 KB, v2/v3 ~15 KB).

use crate::data::{Details, Rating, ReviewsDoc, DESCRIPTION_HTML, TITLE};
use std::fmt::Write;

/// A filled star; the odd `id` is what the real template emits, and classifiers may look for it.
const FILLED_STAR: &str = r#"              <svg id="glyphicon glyphicon-star" class="h-5 w-5 flex-none" viewBox="0 0 20 20" fill="currentColor" aria-hidden="true">
                <path fill-rule="evenodd" clip-rule="evenodd" d="M10 1.75c.29 0 .55.17.67.43l2.08 4.58 4.99.55c.29.03.53.23.62.5.09.28 0 .58-.22.77l-3.72 3.36 1.02 4.92c.06.28-.05.57-.29.74a.74.74 0 0 1-.8.04L10 15.16l-4.35 2.48a.74.74 0 0 1-.8-.04.75.75 0 0 1-.29-.74l1.02-4.92-3.72-3.36a.75.75 0 0 1-.22-.77.75.75 0 0 1 .62-.5l4.99-.55 2.08-4.58A.75.75 0 0 1 10 1.75Z" />
              </svg>
"#;
/// An outlined (empty) star.
const EMPTY_STAR: &str = r#"              <svg xmlns="http://www.w3.org/2000/svg" class="h-5 w-5 flex-none" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.5" aria-hidden="true">
                <path stroke-linecap="round" stroke-linejoin="round" d="M11.48 3.5a.56.56 0 0 1 1.04 0l2.13 5.1c.08.2.27.33.47.35l5.52.44c.5.04.7.66.32.99l-4.2 3.6a.56.56 0 0 0-.18.56l1.28 5.39a.56.56 0 0 1-.84.6l-4.72-2.88a.56.56 0 0 0-.59 0l-4.72 2.88a.56.56 0 0 1-.84-.6l1.28-5.39a.56.56 0 0 0-.18-.56l-4.2-3.6a.56.56 0 0 1 .32-.99l5.52-.44a.56.56 0 0 0 .47-.35l2.13-5.1Z" />
              </svg>
"#;

const HEAD: &str = r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="X-UA-Compatible" content="IE=edge">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>Simple Bookstore App</title>
<script src="static/tailwind/tailwind.css"></script>
<script type="text/javascript">
  // Open and close the sign-in dialog; the page works without it, the form posts either way.
  window.addEventListener("DOMContentLoaded", () => {
    const dialog = document.getElementById("dialog");
    const open = document.getElementById("sign-in-button");
    const close = document.getElementById("close-dialog");
    if (open) { open.addEventListener("click", () => dialog.showModal()); }
    if (close) { close.addEventListener("click", () => dialog.close()); }
  });
</script>
</head>
<body class="min-h-full bg-white antialiased">
"#;

const SIGN_IN_DIALOG: &str = r#"<dialog id="dialog" class="w-full rounded-md border shadow-xl sm:w-2/3 lg:w-1/3">
  <div class="flex min-h-full flex-col justify-center px-6 py-12 lg:px-8">
    <div class="absolute right-0 top-0 hidden pr-4 pt-4 sm:block">
      <button id="close-dialog" type="button" class="rounded-md bg-white text-gray-400 hover:text-gray-500 focus:outline-none focus:ring-2 focus:ring-blue-500 focus:ring-offset-2">
        <span class="sr-only">Close</span>
        <svg class="h-6 w-6" fill="none" viewBox="0 0 24 24" stroke-width="1.5" stroke="currentColor" aria-hidden="true">
          <path stroke-linecap="round" stroke-linejoin="round" d="M6 18 18 6M6 6l12 12" />
        </svg>
      </button>
    </div>
    <div class="sm:mx-auto sm:w-full sm:max-w-sm">
      <h2 class="mt-5 text-center text-2xl font-bold leading-9 tracking-tight text-gray-900">Sign in to BookInfo</h2>
    </div>
    <div class="mt-10 sm:mx-auto sm:w-full sm:max-w-sm">
      <form class="space-y-6" method="post" action="login" name="login_form">
        <div>
          <label for="username" class="block text-sm font-medium leading-6 text-gray-900">Username</label>
          <div class="mt-2">
            <input id="username" name="username" required class="block w-full rounded-md border-0 px-3 py-1.5 text-gray-900 shadow-sm ring-1 ring-inset ring-gray-300 placeholder:text-gray-400 focus:ring-2 focus:ring-inset focus:ring-blue-600 sm:text-sm sm:leading-6">
          </div>
        </div>
        <div>
          <label for="password" class="block text-sm font-medium leading-6 text-gray-900">Password</label>
          <div class="mt-2">
            <input id="password" name="passwd" type="password" required class="block w-full rounded-md border-0 px-3 py-1.5 text-gray-900 shadow-sm ring-1 ring-inset ring-gray-300 placeholder:text-gray-400 focus:ring-2 focus:ring-inset focus:ring-blue-600 sm:text-sm sm:leading-6">
          </div>
        </div>
        <button type="submit" class="flex w-full justify-center rounded-md bg-blue-600 px-3 py-1.5 text-sm font-semibold leading-6 text-white shadow-sm hover:bg-blue-500 focus-visible:outline focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-blue-600">Sign in</button>
      </form>
    </div>
  </div>
</dialog>
"#;

/// The footer also brings the page to the real one's size: response size matters to load tests.
const FOOTER: &str = r#"<footer class="border-t border-gray-200 bg-white" aria-labelledby="footer-heading">
  <h2 id="footer-heading" class="sr-only">Footer</h2>
  <div class="container mx-auto px-4 pb-8 pt-12 sm:px-6 lg:px-8">
    <div class="grid grid-cols-1 gap-8 sm:grid-cols-3">
      <div>
        <h3 class="text-sm font-semibold leading-6 text-gray-900">About this sample</h3>
        <p class="mt-4 text-sm leading-6 text-gray-600">Bookinfo shows a book with its details and reviews. Four services in four languages cooperate to render this page: productpage, details, reviews (three versions) and ratings.</p>
      </div>
      <div>
        <h3 class="text-sm font-semibold leading-6 text-gray-900">Services</h3>
        <ul role="list" class="mt-4 space-y-2">
          <li><a href="/api/v1/products" class="text-sm leading-6 text-gray-600 hover:text-gray-900">Products API</a></li>
          <li><a href="/api/v1/products/0" class="text-sm leading-6 text-gray-600 hover:text-gray-900">Book details API</a></li>
          <li><a href="/api/v1/products/0/reviews" class="text-sm leading-6 text-gray-600 hover:text-gray-900">Book reviews API</a></li>
          <li><a href="/api/v1/products/0/ratings" class="text-sm leading-6 text-gray-600 hover:text-gray-900">Book ratings API</a></li>
        </ul>
      </div>
      <div>
        <h3 class="text-sm font-semibold leading-6 text-gray-900">Learn more</h3>
        <ul role="list" class="mt-4 space-y-2">
          <li><a href="https://istio.io/latest/docs/examples/bookinfo/" target="_blank" class="text-sm leading-6 text-gray-600 hover:text-gray-900">Bookinfo application</a></li>
          <li><a href="https://istio.io/latest/docs/tasks/traffic-management/request-routing/" target="_blank" class="text-sm leading-6 text-gray-600 hover:text-gray-900">Request routing</a></li>
          <li><a href="https://istio.io/latest/docs/tasks/traffic-management/fault-injection/" target="_blank" class="text-sm leading-6 text-gray-600 hover:text-gray-900">Fault injection</a></li>
          <li><a href="https://istio.io/latest/docs/tasks/observability/metrics/" target="_blank" class="text-sm leading-6 text-gray-600 hover:text-gray-900">Metrics</a></li>
        </ul>
      </div>
    </div>
    <p class="mt-10 border-t border-gray-900/10 pt-6 text-xs leading-5 text-gray-500">Simulated by trafficgen.</p>
  </div>
</footer>
</body>
</html>
"#;

/// Escapes text for HTML element content and attribute values.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The full product page; `Err` arms render the failure texts productpage shows (still with status 200).
pub(crate) fn product_page(
    user: Option<&str>,
    details: Result<&Details, ()>,
    reviews: Result<&ReviewsDoc, ()>,
) -> String {
    let mut s = String::with_capacity(16 * 1024);
    s.push_str(HEAD);
    nav(&mut s, user);
    s.push_str(SIGN_IN_DIALOG);
    description(&mut s);
    details_section(&mut s, details);
    reviews_section(&mut s, reviews);
    s.push_str(FOOTER);
    s
}

fn nav(s: &mut String, user: Option<&str>) {
    s.push_str("<nav class=\"bg-gray-800\">\n  <div class=\"container mx-auto px-4 sm:px-6 lg:px-8\">\n    <div class=\"relative flex h-16 items-center justify-between\">\n      <a href=\"#\" class=\"px-3 py-2 text-lg font-medium text-white\" aria-current=\"page\">BookInfo Sample</a>\n      <div class=\"flex items-center pr-2 sm:ml-6 sm:pr-0\">\n");
    match user {
        Some(name) => {
            let _ = write!(
                s,
                "        <div class=\"ml-4\">\n          <p class=\"text-base font-medium text-gray-50\">{}</p>\n          <a href=\"logout\" class=\"text-xs font-medium text-gray-400 hover:text-gray-300\">Sign out</a>\n        </div>\n",
                escape(name)
            );
        }
        None => s.push_str("        <button type=\"button\" id=\"sign-in-button\" class=\"rounded-md bg-blue-600 px-3.5 py-2.5 text-sm font-semibold text-white shadow-sm hover:bg-blue-500\">Sign in</button>\n"),
    }
    s.push_str("      </div>\n    </div>\n  </div>\n</nav>\n");
}

fn description(s: &mut String) {
    let _ = write!(
        s,
        "<div class=\"container mx-auto mt-8 px-4 sm:px-6 lg:px-8\">\n  <h1 class=\"text-5xl font-bold tracking-tight text-blue-900\">{TITLE}</h1>\n  <div class=\"mt-6 max-w-4xl\">\n    <p class=\"mt-6 text-xl leading-8 text-gray-600\">{DESCRIPTION_HTML}</p>\n  </div>\n</div>\n"
    );
}

fn details_section(s: &mut String, details: Result<&Details, ()>) {
    s.push_str("<div class=\"container mx-auto mt-8 px-4 sm:px-6 lg:px-8\">\n  <div class=\"mt-4 max-w-2xl py-10\">\n");
    match details {
        Ok(d) => {
            s.push_str("    <h4 class=\"text-3xl font-semibold\">Book Details</h4>\n    <table class=\"mt-4 min-w-full divide-y divide-gray-300\">\n      <thead>\n        <tr>\n");
            for h in ["ISBN-10", "Publisher", "Pages", "Type", "Language"] {
                let _ = writeln!(s, "          <th scope=\"col\" class=\"whitespace-nowrap px-2 py-3.5 text-left text-sm font-semibold text-gray-900\">{h}</th>");
            }
            s.push_str("        </tr>\n      </thead>\n      <tbody class=\"divide-y divide-gray-200 bg-white\">\n        <tr>\n");
            let pages = d.pages.to_string();
            for v in [d.isbn_10.as_str(), &d.publisher, &pages, &d.kind, &d.language] {
                let _ = writeln!(s, "          <td class=\"whitespace-nowrap px-2 py-2 text-sm text-gray-500\">{}</td>", escape(v));
            }
            s.push_str("        </tr>\n      </tbody>\n    </table>\n");
        }
        Err(()) => s.push_str("    <p class=\"text-2xl text-red-500\">Error fetching product details</p>\n    <p class=\"text-lg text-gray-600\">Sorry, product details are currently unavailable for this book.</p>\n"),
    }
    s.push_str("  </div>\n</div>\n");
}

fn reviews_section(s: &mut String, reviews: Result<&ReviewsDoc, ()>) {
    s.push_str(
        "<div class=\"mx-auto bg-blue-600/5 py-12\">\n  <div class=\"container mx-auto px-4 sm:px-6 lg:px-8\">\n",
    );
    match reviews {
        Ok(doc) => {
            s.push_str("    <h4 class=\"text-3xl font-semibold\">Book Reviews</h4>\n    <div class=\"flex flex-col md:flex-row\">\n");
            for r in &doc.reviews {
                s.push_str("      <section class=\"px-6 py-12 sm:py-8 lg:px-8\">\n        <div class=\"mx-auto max-w-2xl\">\n");
                match &r.rating {
                    Some(Rating::Stars { stars, color }) => {
                        let filled = usize::from((*stars).min(5));
                        let _ = writeln!(s, "            <div class=\"flex gap-x-1 text-{}-500\">", escape(color));
                        s.push_str(&FILLED_STAR.repeat(filled));
                        s.push_str(&EMPTY_STAR.repeat(5 - filled));
                        s.push_str("            </div>\n");
                    }
                    Some(Rating::Error { error }) => {
                        let _ = writeln!(s, "            <p class=\"text-red-500\">{}</p>", escape(error));
                    }
                    None => {}
                }
                let _ = write!(
                    s,
                    "          <blockquote class=\"mt-10 text-xl font-semibold leading-8 tracking-tight text-gray-900 sm:text-2xl sm:leading-9\">\n            <p>\"{}\"</p>\n          </blockquote>\n          <div class=\"mt-4 flex items-center gap-x-6\">\n            <div class=\"text-sm leading-6\">\n              <div class=\"font-semibold text-gray-900\">{}</div>\n              <div class=\"mt-0.5 font-mono text-gray-600\">Reviews served by:\n                {}\n              </div>\n            </div>\n          </div>\n        </div>\n      </section>\n",
                    escape(&r.text),
                    escape(&r.reviewer),
                    escape(&doc.podname)
                );
            }
            s.push_str("    </div>\n");
        }
        Err(()) => s.push_str("    <p class=\"text-2xl text-red-500\">Error fetching product reviews</p>\n    <p class=\"text-lg text-gray-600\">Sorry, product reviews are currently unavailable for this book.</p>\n"),
    }
    s.push_str("  </div>\n</div>\n");
}

/// The landing page at `/` and `/index.html`.
pub(crate) fn index_page() -> String {
    let mut s = String::from(HEAD);
    s.push_str("<div class=\"container mx-auto mt-8 px-4 sm:px-6 lg:px-8\">\n  <h1 class=\"text-5xl font-bold tracking-tight text-blue-900\">Hello! This is a simple bookstore application consisting of three services as shown below</h1>\n  <table class=\"mt-6 min-w-full divide-y divide-gray-300\">\n");
    for (name, endpoint, children) in [
        ("http://details:9080", "details", ""),
        ("http://reviews:9080", "reviews", "ratings"),
        ("http://ratings:9080", "ratings", ""),
    ] {
        let _ = writeln!(s, "    <tr><th>name</th><td>{name}</td><th>endpoint</th><td>{endpoint}</td><th>children</th><td>{children}</td></tr>");
    }
    s.push_str("  </table>\n  <p class=\"mt-6\">Click on one of the links below to auto generate a request to the backend as a real user or a tester</p>\n  <p><a href=\"/productpage?u=normal\" class=\"text-blue-600\">Normal user</a></p>\n  <p><a href=\"/productpage?u=test\" class=\"text-blue-600\">Test user</a></p>\n</div>\n");
    s.push_str(FOOTER);
    s
}
