//! Static files, compiled into the binary so the one executable is the whole app. Served with
//! an ETag (304 on a match) and a short public cache lifetime; no directory listings.

use crate::crypto::sha256_hex;
use crate::error::AppError;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use std::sync::LazyLock;

struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

const ASSETS: &[Asset] = &[
    Asset { name: "app.css", content_type: "text/css; charset=utf-8", body: include_bytes!("../../static/app.css") },
    Asset {
        name: "app.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../static/app.js"),
    },
    Asset { name: "favicon.svg", content_type: "image/svg+xml", body: include_bytes!("../../static/favicon.svg") },
    Asset { name: "help.css", content_type: "text/css; charset=utf-8", body: include_bytes!("../../static/help.css") },
    Asset {
        name: "incident.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("../../static/incident.css"),
    },
];

static ETAGS: LazyLock<Vec<String>> = LazyLock::new(|| {
    ASSETS.iter().map(|a| format!("\"{}\"", &sha256_hex(&String::from_utf8_lossy(a.body))[..16])).collect()
});

pub async fn serve(req: HttpRequest, name: web::Path<String>) -> Result<HttpResponse, AppError> {
    let Some(i) = ASSETS.iter().position(|a| a.name == name.as_str()) else {
        return Err(AppError::NotFound);
    };
    let asset = &ASSETS[i];
    let etag = &ETAGS[i];
    let matches = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut b = if matches { HttpResponse::NotModified() } else { HttpResponse::Ok() };
    b.insert_header((header::ETAG, etag.clone())).insert_header((header::CACHE_CONTROL, "public, max-age=3600"));
    if matches {
        return Ok(b.finish());
    }
    Ok(b.content_type(asset.content_type).body(asset.body))
}
