//! Target URLs: what the generator accepts, and the host, port and scheme a connection needs.

use http::Uri;
use rustls_pki_types::ServerName;
use setting::Cause;

/// An absolute http(s) URL with a host, no user info (it would leak into `Host`), and for https a
/// host TLS can name; a refusal says which of those it is not.
pub(crate) fn parse_url(s: &str) -> Result<Uri, Cause> {
    let uri: Uri = s.parse().map_err(Cause::new)?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) {
        return Err(Cause::new("the scheme is not http:// or https://"));
    }
    let host = bare_host(uri.host().filter(|h| !h.is_empty()).ok_or_else(|| Cause::new("no host"))?);
    if uri.authority().is_some_and(|a| a.as_str().contains('@')) {
        return Err(Cause::new("user info in a URL would be sent in the Host header"));
    }
    if uri.scheme_str() == Some("https") {
        ServerName::try_from(host).map_err(|e| Cause::new(format!("not a name TLS can check: {e}")))?;
    }
    Ok(uri)
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
