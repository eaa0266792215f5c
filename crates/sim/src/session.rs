//! productpage's login session: a Flask-style `session=<payload>.<time>.<signature>` cookie.
//!
//! The signature is a keyed SipHash with a per-process random key: enough to look like the real cookie
//! and to reject tampered ones in a simulation, not meant as cryptography.

use http::HeaderMap;
use std::hash::{BuildHasher, RandomState};
use std::time::{SystemTime, UNIX_EPOCH};

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Signs and verifies session cookies.
#[derive(Debug, Default)]
pub(crate) struct Sessions {
    key: RandomState,
}

impl Sessions {
    /// The `Set-Cookie` value logging `user` in.
    pub(crate) fn set_cookie(&self, user: &str) -> String {
        let payload = b64(serde_json::json!({ "user": user }).to_string().as_bytes());
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let stamp = b64(&now.to_be_bytes()[4..]);
        let sig = b64(&self.key.hash_one((&payload, &stamp)).to_be_bytes());
        format!("session={payload}.{stamp}.{sig}; HttpOnly; Path=/")
    }

    /// The `Set-Cookie` value logging out.
    pub(crate) fn clear_cookie() -> &'static str {
        "session=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; HttpOnly; Path=/"
    }

    /// The logged-in user, from a valid `session` cookie or the pre-2024 `user=<name>` cookie.
    pub(crate) fn user(&self, headers: &HeaderMap) -> Option<String> {
        let cookies = headers
            .get_all(http::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|c| c.trim().split_once('='));
        for (name, value) in cookies {
            match name {
                "session" => {
                    if let Some(user) = self.verify(value) {
                        return Some(user);
                    }
                }
                "user" if !value.is_empty() => return Some(value.to_owned()),
                _ => {}
            }
        }
        None
    }

    fn verify(&self, value: &str) -> Option<String> {
        let mut parts = value.split('.');
        let (payload, stamp, sig) = (parts.next()?, parts.next()?, parts.next()?);
        if b64(&self.key.hash_one((payload, stamp)).to_be_bytes()) != sig {
            return None;
        }
        let json: serde_json::Value = serde_json::from_slice(&unb64(payload)?).ok()?;
        let user = json.get("user")?.as_str()?;
        (!user.is_empty()).then(|| user.to_owned())
    }
}

/// URL-safe base64 without padding, as itsdangerous writes it.
fn b64(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len() * 4 / 3 + 3);
    for chunk in data.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
    out
}

fn unb64(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let v = ALPHABET.iter().position(|a| *a == c)? as u32;
        acc = acc << 6 | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits & 0xff) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(cookie: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(http::header::COOKIE, cookie.parse().unwrap());
        h
    }

    #[test]
    fn base64_round_trips() {
        for data in [&b""[..], b"a", b"ab", b"abc", b"{\"user\":\"jason\"}"] {
            assert_eq!(unb64(&b64(data)).unwrap(), data);
        }
        assert_eq!(b64(b"{\"user\":\"jason\"}"), "eyJ1c2VyIjoiamFzb24ifQ");
    }

    #[test]
    fn signed_cookie_round_trips_and_rejects_tampering() {
        let s = Sessions::default();
        let set = s.set_cookie("jason");
        assert!(set.starts_with("session=eyJ1c2VyIjoiamFzb24ifQ.") && set.ends_with("; HttpOnly; Path=/"));
        let value = set.split(';').next().unwrap();
        assert_eq!(s.user(&headers(&format!("a=b; {value}"))).as_deref(), Some("jason"));
        let forged = value.replace("eyJ1c2VyIjoiamFzb24ifQ", &b64(b"{\"user\":\"admin\"}"));
        assert_eq!(s.user(&headers(&forged)), None);
        assert_eq!(Sessions::default().user(&headers(value)), None);
    }

    #[test]
    fn legacy_user_cookie_is_accepted() {
        assert_eq!(Sessions::default().user(&headers("user=jason")).as_deref(), Some("jason"));
        assert_eq!(Sessions::default().user(&headers("user=")), None);
    }
}
