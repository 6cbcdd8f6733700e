//! Security headers on every response. Pages set their own Content-Security-Policy (see
//! [`crate::views::html`]); everything else gets one that allows nothing, since
//! no JSON or text response is meant to be rendered or framed. Responses that do not say
//! how to cache get `no-store`: most carry a customer's choices.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

/// The policy of any response that does not set its own.
pub const DEFAULT_CSP: &str =
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// Two years, as the HSTS preload list asks; sub-domains are the organisation's to decide.
pub const HSTS: &str = "max-age=63072000";

/// What the headers middleware needs to know about the connection.
#[derive(Debug, Clone, Copy, Default)]
pub struct Transport {
    /// Believe `X-Forwarded-Proto: https` from a reverse proxy that terminates TLS.
    pub trust_forwarded_proto: bool,
}

/// Set on a request that arrived over TLS by [`crate::listen::serve`].
#[derive(Debug, Clone, Copy)]
pub struct OverTls;

pub async fn security_headers(
    State(transport): State<Transport>,
    req: Request,
    next: Next,
) -> Response {
    let https = req.extensions().get::<OverTls>().is_some()
        || (transport.trust_forwarded_proto
            && req
                .headers()
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("https")));
    let is_script = req.uri().path() == "/banner.js";
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // Links from /me carry a one-time token, and no page has reason to tell another
    // site where the customer came from.
    h.entry(header::REFERRER_POLICY)
        .or_insert(HeaderValue::from_static("no-referrer"));
    h.entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(DEFAULT_CSP));
    // For browsers that predate `frame-ancestors`.
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    // The banner script is loaded by the organisation's pages, possibly from a sibling
    // host; nothing else is for other origins to embed.
    h.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static(if is_script {
            "same-site"
        } else {
            "same-origin"
        }),
    );
    h.insert(
        "permissions-policy",
        HeaderValue::from_static(
            "camera=(), microphone=(), geolocation=(), payment=(), usb=(), browsing-topics=()",
        ),
    );
    h.entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    if https {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        );
    }
    res
}

/// The values of every cookie called `name` in the request's `Cookie` headers, in order
/// (a browser may send two of one name, for different paths). Parsed by the `cookie`
/// crate; not through `axum-extra`'s `CookieJar`, which keeps one cookie per name, where
/// the preference center must try every `keuze_session` a browser sends.
pub fn cookie_values<'h>(
    headers: &'h axum::http::HeaderMap,
    name: &'h str,
) -> impl Iterator<Item = String> + 'h {
    headers
        .get_all(header::COOKIE)
        .into_iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .filter(move |c| c.name() == name)
        .map(|c| c.value().to_owned())
}
