//! Target URLs: what the generator accepts, and the host, port and scheme a connection needs.

use http::Uri;
use rustls_pki_types::ServerName;

/// An absolute http(s) URL with a host, no user info (it would leak into `Host`), and for https a
/// host TLS can name.
pub(crate) fn parse_url(s: &str) -> Option<Uri> {
    let uri: Uri = s.parse().ok()?;
    let host = bare_host(uri.host().filter(|h| !h.is_empty())?);
    let tls_ok = uri.scheme_str() != Some("https") || ServerName::try_from(host).is_ok();
    let ok = matches!(uri.scheme_str(), Some("http" | "https")) && !uri.authority()?.as_str().contains('@') && tls_ok;
    ok.then_some(uri)
}

/// A host without the brackets of an IPv6 literal.
pub(crate) fn bare_host(host: &str) -> &str {
    host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host)
}

/// `(host, port, https)` of a validated URL, the port defaulted by scheme.
pub(crate) fn endpoint(uri: &Uri) -> (String, u16, bool) {
    let https = uri.scheme_str() == Some("https");
    let host = bare_host(uri.host().unwrap_or_default());
    (host.to_string(), uri.port_u16().unwrap_or(if https { 443 } else { 80 }), https)
}
