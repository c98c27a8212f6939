//! The web console: a few static files (HTML, CSS, ES modules) built into the binary, so the
//! server needs nothing on disk and nothing from the internet to offer a UI. The console is a
//! client of the public API like any other; these routes only hand out its files, need no token,
//! and are kept out of the OpenAPI document (they are not part of the API contract).

use super::error::ApiError;
use super::AppState;
use axum::extract::Path;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

/// One embedded file: its name under `/console/`, its content type and its bytes.
struct Asset {
    name: &'static str,
    mime: &'static str,
    bytes: &'static [u8],
}

macro_rules! asset {
    ($name:literal) => {
        Asset {
            name: $name,
            mime: mime_of($name),
            bytes: include_bytes!(concat!("../../console/", $name)),
        }
    };
}

/// Every file of the console. A file missing here is a 404, whatever is in `host/console/`.
static ASSETS: &[Asset] = &[
    asset!("index.html"),
    asset!("style.css"),
    asset!("app.js"),
    asset!("api.js"),
    asset!("ui.js"),
    asset!("chart.js"),
    asset!("admin.js"),
    asset!("agency.js"),
    asset!("employee.js"),
    asset!("people.js"),
    asset!("survey.js"),
    asset!("skp.js"),
    asset!("print.js"),
    asset!("favicon.svg"),
];

/// Whether `name` ends with `ext`; `str::ends_with` is not usable in a `const fn`.
const fn ends_with(name: &[u8], ext: &[u8]) -> bool {
    if name.len() < ext.len() {
        return false;
    }
    let start = name.len() - ext.len();
    let mut i = 0;
    while i < ext.len() {
        if name[start + i] != ext[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// The content type by extension; the browser refuses ES modules served as anything but
/// JavaScript, and `nosniff` stops it from guessing.
const fn mime_of(name: &str) -> &'static str {
    let b = name.as_bytes();
    if ends_with(b, b".html") {
        "text/html; charset=utf-8"
    } else if ends_with(b, b".js") {
        "text/javascript; charset=utf-8"
    } else if ends_with(b, b".css") {
        "text/css; charset=utf-8"
    } else if ends_with(b, b".svg") {
        "image/svg+xml"
    } else if ends_with(b, b".png") {
        "image/png"
    } else {
        "application/octet-stream"
    }
}

/// The page may load only what this server serves: no CDN, no inline script. Inline styles
/// are allowed because the charts set SVG presentation attributes.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(index))
        .route("/console/{*file}", get(file))
}

async fn index(headers: HeaderMap) -> Response {
    serve("index.html", &headers)
}

async fn file(Path(name): Path<String>, headers: HeaderMap) -> Response {
    serve(&name, &headers)
}

/// FNV-1a: a stable tag for a file's bytes, so a browser revalidates cheaply (304) and still
/// sees a new build at once.
fn etag(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("\"{h:016x}-{}\"", bytes.len())
}

fn serve(name: &str, headers: &HeaderMap) -> Response {
    let Some(asset) = ASSETS.iter().find(|a| a.name == name) else {
        return ApiError::NotFound(format!(
            "no console file `{}`",
            name.chars().take(80).collect::<String>()
        ))
        .into_response();
    };
    let tag = etag(asset.bytes);
    let fresh = headers
        .get(IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag || t.trim() == "*"));
    let mut resp = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(CONTENT_TYPE, HeaderValue::from_static(asset.mime))],
            asset.bytes,
        )
            .into_response()
    };
    let h = resp.headers_mut();
    // The file names carry no version, so every use revalidates (a 304 when unchanged).
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(v) = HeaderValue::from_str(&tag) {
        h.insert(ETAG, v);
    }
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    if asset.name == "index.html" {
        h.insert("content-security-policy", HeaderValue::from_static(CSP));
        h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    /// The console's routes alone: the handlers need no state, so none is built.
    fn app() -> Router {
        Router::new()
            .route("/", get(index))
            .route("/console/{*file}", get(file))
    }

    async fn call(uri: &str, inm: Option<&str>) -> Response {
        let mut req = Request::get(uri);
        if let Some(t) = inm {
            req = req.header(IF_NONE_MATCH, t);
        }
        app()
            .oneshot(req.body(Body::empty()).expect("request"))
            .await
            .expect("infallible")
    }

    fn header<'a>(r: &'a Response, name: &str) -> &'a str {
        r.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    #[tokio::test]
    async fn index_and_assets_have_their_types() {
        let r = call("/", None).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(header(&r, "content-type"), "text/html; charset=utf-8");
        assert_eq!(header(&r, "cache-control"), "no-cache");
        assert!(header(&r, "content-security-policy").contains("default-src 'self'"));
        for (path, mime) in [
            ("/console/app.js", "text/javascript; charset=utf-8"),
            ("/console/style.css", "text/css; charset=utf-8"),
            ("/console/favicon.svg", "image/svg+xml"),
        ] {
            let r = call(path, None).await;
            assert_eq!(r.status(), StatusCode::OK, "{path}");
            assert_eq!(header(&r, "content-type"), mime, "{path}");
            assert_eq!(header(&r, "x-content-type-options"), "nosniff");
        }
    }

    #[tokio::test]
    async fn unknown_files_are_404_in_the_api_format() {
        for path in [
            "/console/nope.js",
            "/console/../Cargo.toml",
            "/console/sub/app.js",
        ] {
            let r = call(path, None).await;
            assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
            assert!(header(&r, "content-type").starts_with("application/json"));
        }
    }

    #[tokio::test]
    async fn etag_revalidates() {
        let r = call("/console/app.js", None).await;
        let tag = header(&r, "etag").to_string();
        assert!(tag.starts_with('"'));
        let again = call("/console/app.js", Some(&tag)).await;
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
        let other = call("/console/app.js", Some("\"other\"")).await;
        assert_eq!(other.status(), StatusCode::OK);
    }

    #[test]
    fn types_by_extension() {
        assert_eq!(mime_of("a.js"), "text/javascript; charset=utf-8");
        assert_eq!(mime_of("index.html"), "text/html; charset=utf-8");
        assert_eq!(mime_of("js"), "application/octet-stream");
        assert_eq!(mime_of("x.wasm"), "application/octet-stream");
        // Every embedded file has a real type.
        for a in ASSETS {
            assert_ne!(a.mime, "application/octet-stream", "{}", a.name);
        }
    }

    #[test]
    fn no_asset_reaches_outside() {
        // Everything is served from this server: no CDN or remote URL in any file.
        for a in ASSETS {
            // The SVG namespace is a name, not a fetch.
            let text = String::from_utf8_lossy(a.bytes).replace("http://www.w3.org/", "");
            for bad in ["http://", "https://", "//cdn", "@import"] {
                assert!(!text.contains(bad), "{} contains {bad}", a.name);
            }
        }
    }
}
