//! The page's CSS, script and icon, served from the static folder by actix-files with a
//! year-long cache: their URLs carry a hash of their content, so a changed file is a new URL.

use std::path::Path;

use actix_web::http::header::{CACHE_CONTROL, HeaderValue, X_CONTENT_TYPE_OPTIONS};
use actix_web::middleware::DefaultHeaders;
use sha2::{Digest, Sha256};

use crate::web::html::Plain;

/// The URLs the templates link to.
#[derive(Debug, Clone)]
pub struct Assets {
    pub css: Plain<String>,
    pub js: Plain<String>,
    pub icon: Plain<String>,
}

fn versioned(dir: &Path, name: &str) -> std::io::Result<Plain<String>> {
    let bytes = std::fs::read(dir.join(name))?;
    let hash = hex::encode(&Sha256::digest(&bytes)[..6]);
    // A fixed file name and hex digits.
    Ok(Plain::built(format!("/static/{name}?v={hash}")))
}

impl Assets {
    pub fn load(dir: &Path) -> std::io::Result<Assets> {
        Ok(Assets {
            css: versioned(dir, "checkout.css")?,
            js: versioned(dir, "checkout.js")?,
            icon: versioned(dir, "icon.svg")?,
        })
    }
}

/// `/static`: the files, cached by browsers and proxies for a year.
pub fn configure(cfg: &mut actix_web::web::ServiceConfig, dir: &Path) {
    cfg.service(
        actix_web::web::scope("/static")
            .wrap(
                DefaultHeaders::new()
                    .add((
                        CACHE_CONTROL,
                        HeaderValue::from_static("public, max-age=31536000, immutable"),
                    ))
                    .add((X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"))),
            )
            .service(
                actix_files::Files::new("", dir)
                    .use_etag(true)
                    .use_last_modified(true),
            ),
    );
}
