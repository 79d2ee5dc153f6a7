//! A payment link's printable poster, for a shop window or a market stall: the shop's name, the
//! title, the amount, the link's QR code, "scan to pay" and the link in text, as SVG
//! (`/l/{id}/poster.svg`, sharp at any size) and PNG (`/l/{id}/poster.png`, 1200 × 1700 px, for
//! chat apps and printers that take only images; also the link page's `og:image`).
//!
//! The PNG's text is drawn with DejaVu Sans Bold, which caisse carries (`fonts/`, with its
//! licence), so it looks the same on every server whatever fonts it has.

use std::sync::LazyLock;

use ab_glyph::{Font, FontRef, PxScale, ScaleFont, point};
use actix_web::http::StatusCode;
use actix_web::web::{self, Data, Path};
use actix_web::{HttpRequest, HttpResponse, get};
use image::{GrayImage, ImageEncoder as _, Luma};
use uuid::Uuid;

use super::PageRequest;
use crate::core::payment_links::{self, Offer};
use crate::core::{Context, organizations};
use crate::domain::money;
use crate::domain::time;
use crate::qr::render::{Lru, QUIET_ZONE, encode};

/// Posters already drawn, by what they say: a link shared in a busy chat has its poster fetched
/// by every preview, and drawing one is some milliseconds of CPU; the same text is drawn once.
static DRAWN: LazyLock<std::sync::Mutex<Lru<std::sync::Arc<[u8]>>>> = LazyLock::new(|| {
    std::sync::Mutex::new(Lru::new(crate::qr::CacheLimits {
        max_entries: 64,
        max_bytes: 16 * 1024 * 1024,
    }))
});

static FONT: LazyLock<FontRef<'static>> = LazyLock::new(|| {
    FontRef::try_from_slice(include_bytes!("fonts/DejaVuSans-Bold.ttf"))
        .expect("the poster's font is a TrueType font")
});

/// The poster's size in SVG units; the PNG is twice as large.
const WIDTH: u32 = 600;
const HEIGHT: u32 = 850;
/// The QR code's side and top.
const QR_SIDE: u32 = 420;
const QR_TOP: u32 = 300;
/// The longest line of a title, in characters, before it wraps (two lines at most).
const TITLE_LINE: usize = 26;

/// What the poster says, line by line.
pub struct Poster {
    pub shop: String,
    pub title: Vec<String>,
    pub amount: String,
    pub scan: String,
    pub url: String,
}

impl Poster {
    /// Lines of text: `(text, size, baseline)` in SVG units.
    fn lines(&self) -> Vec<(&str, f32, f32)> {
        let mut lines = vec![(self.shop.as_str(), 24.0, 60.0)];
        for (i, line) in self.title.iter().enumerate() {
            lines.push((line.as_str(), 36.0, 120.0 + 44.0 * i as f32));
        }
        lines.push((self.amount.as_str(), 44.0, 260.0));
        lines.push((self.scan.as_str(), 26.0, (QR_TOP + QR_SIDE + 45) as f32));
        lines.push((self.url.as_str(), 15.0, (HEIGHT - 40) as f32));
        lines
    }
}

/// A title in at most two lines of about [`TITLE_LINE`] characters, cut at spaces.
fn wrap(title: &str) -> Vec<String> {
    let mut lines: Vec<String> = vec![String::new()];
    for word in title.split_whitespace() {
        let last = lines.last_mut().expect("one line at least");
        if last.is_empty() || last.chars().count() + 1 + word.chars().count() <= TITLE_LINE {
            if !last.is_empty() {
                last.push(' ');
            }
            last.push_str(word);
        } else if lines.len() == 2 {
            let last = lines.last_mut().expect("two lines");
            last.push_str(" …");
            break;
        } else {
            lines.push(word.to_string());
        }
    }
    for line in &mut lines {
        if line.chars().count() > TITLE_LINE + 2 {
            *line = line.chars().take(TITLE_LINE).chain(" …".chars()).collect();
        }
    }
    lines
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The poster as an SVG document, with the link's QR code.
pub fn svg(poster: &Poster, qr_svg: &str) -> String {
    let mut out = format!(
        r##"<?xml version="1.0" encoding="UTF-8"?><svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}"><rect width="{WIDTH}" height="{HEIGHT}" fill="#fff"/><g font-family="DejaVu Sans, Verdana, Arial, sans-serif" font-weight="bold" text-anchor="middle" fill="#111">"##
    );
    for (text, size, y) in poster.lines() {
        out.push_str(&format!(
            r#"<text x="{}" y="{y}" font-size="{size}">{}</text>"#,
            WIDTH / 2,
            escape(text)
        ));
    }
    out.push_str("</g>");
    let x = (WIDTH - QR_SIDE) / 2;
    out.push_str(&qr_svg.replacen(
        "<svg ",
        &format!(r#"<svg x="{x}" y="{QR_TOP}" width="{QR_SIDE}" height="{QR_SIDE}" "#),
        1,
    ));
    out.push_str("</svg>");
    out
}

/// Draws `text` centred on `baseline`, `size` pixels high.
fn draw_text(image: &mut GrayImage, text: &str, size: f32, baseline: f32) {
    let font = &*FONT;
    let scaled = font.as_scaled(PxScale::from(size));
    let mut glyphs = Vec::new();
    let mut x = 0.0;
    let mut previous = None;
    for c in text.chars() {
        let id = scaled.glyph_id(c);
        if let Some(p) = previous {
            x += scaled.kern(p, id);
        }
        glyphs.push(id.with_scale_and_position(size, point(x, baseline)));
        x += scaled.h_advance(id);
        previous = Some(id);
    }
    let offset = (image.width() as f32 - x) / 2.0;
    for mut glyph in glyphs {
        glyph.position.x += offset;
        let Some(outlined) = font.outline_glyph(glyph) else {
            continue;
        };
        let bounds = outlined.px_bounds();
        outlined.draw(|gx, gy, coverage| {
            let (px, py) = (
                bounds.min.x as i64 + gx as i64,
                bounds.min.y as i64 + gy as i64,
            );
            if px >= 0 && py >= 0 && (px as u32) < image.width() && (py as u32) < image.height() {
                let pixel = image.get_pixel_mut(px as u32, py as u32);
                let ink = (coverage.clamp(0.0, 1.0) * 238.0) as u8;
                pixel.0[0] = pixel.0[0].min(255 - ink);
            }
        });
    }
}

/// The poster as a PNG image, twice the SVG's size, with the link's QR code for `payload`.
pub fn png(poster: &Poster, payload: &str) -> Result<Vec<u8>, String> {
    const SCALE: u32 = 2;
    let mut image = GrayImage::from_pixel(WIDTH * SCALE, HEIGHT * SCALE, Luma([255]));
    for (text, size, y) in poster.lines() {
        draw_text(&mut image, text, size * SCALE as f32, y * SCALE as f32);
    }
    let code = encode(payload).map_err(|e| e.to_string())?;
    let modules = code.width() as u32;
    let side = modules + 2 * QUIET_ZONE as u32;
    let module_px = QR_SIDE * SCALE / side;
    let left = (WIDTH * SCALE - module_px * side) / 2 + QUIET_ZONE as u32 * module_px;
    let top = QR_TOP * SCALE + QUIET_ZONE as u32 * module_px;
    for (i, color) in code.to_colors().iter().enumerate() {
        if *color != qrcode::Color::Dark {
            continue;
        }
        let (mx, my) = (i as u32 % modules, i as u32 / modules);
        for dy in 0..module_px {
            for dx in 0..module_px {
                image.put_pixel(
                    left + mx * module_px + dx,
                    top + my * module_px + dy,
                    Luma([0]),
                );
            }
        }
    }
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(
            image.as_raw(),
            image.width(),
            image.height(),
            image::ExtendedColorType::L8,
        )
        .map_err(|e| e.to_string())?;
    Ok(out)
}

/// The link and what its poster says, or the answer instead: 404 for no such link, 410 for
/// one that sells nothing now.
async fn poster_of(
    ctx: &Context,
    req: &HttpRequest,
    raw: &str,
) -> Result<(Poster, String), HttpResponse> {
    let failed = |status: StatusCode| HttpResponse::build(status).finish();
    let Ok(id) = Uuid::parse_str(raw) else {
        return Err(failed(StatusCode::NOT_FOUND));
    };
    let link = match payment_links::public(ctx, id).await {
        Ok(Some(link)) => link,
        Ok(None) => return Err(failed(StatusCode::NOT_FOUND)),
        Err(_) => return Err(failed(StatusCode::SERVICE_UNAVAILABLE)),
    };
    if !link.is_open(time::now()) {
        return Err(failed(StatusCode::GONE));
    }
    let offer: Offer = match payment_links::offer(ctx, &link).await {
        Ok(Some(offer)) => offer,
        Ok(None) => return Err(failed(StatusCode::GONE)),
        Err(_) => return Err(failed(StatusCode::SERVICE_UNAVAILABLE)),
    };
    let Ok(org) = organizations::get(ctx, link.organization_id).await else {
        return Err(failed(StatusCode::SERVICE_UNAVAILABLE));
    };
    let page = PageRequest::from_request(req, Some(offer.currency));
    let t = page.t();
    let fmt = |amount: i64| money::format(amount, offer.currency, page.lang.locale());
    let amount = match (offer.amount, offer.bounds) {
        (Some(amount), _) => fmt(amount),
        (None, Some((min, max))) => crate::web::i18n::fill(
            &t.link_amount_hint,
            &[("min", &fmt(min)), ("max", &fmt(max))],
        ),
        (None, None) => String::new(),
    };
    let url = link.url(&ctx.public_url);
    Ok((
        Poster {
            shop: org.name.clone(),
            title: wrap(&offer.title),
            amount,
            scan: t.link_poster_scan.to_string(),
            url: url.clone(),
        },
        url,
    ))
}

fn image(content_type: &'static str, body: Vec<u8>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        // What the link sells can change: a preview or a printer fetches it again.
        .insert_header(("Cache-Control", "no-cache"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .body(body)
}

#[get("/l/{id}/poster.svg")]
async fn poster_svg(ctx: Data<Context>, req: HttpRequest, id: Path<String>) -> HttpResponse {
    let (poster, url) = match poster_of(&ctx, &req, &id).await {
        Ok(found) => found,
        Err(res) => return res,
    };
    match ctx.qr.svg(&url, &poster.scan) {
        Ok(qr) => image("image/svg+xml", svg(&poster, &qr).into_bytes()),
        Err(e) => {
            tracing::error!(error = %e, "rendering a poster's QR code failed");
            HttpResponse::InternalServerError().finish()
        }
    }
}

#[get("/l/{id}/poster.png")]
async fn poster_png(ctx: Data<Context>, req: HttpRequest, id: Path<String>) -> HttpResponse {
    let (poster, url) = match poster_of(&ctx, &req, &id).await {
        Ok(found) => found,
        Err(res) => return res,
    };
    let key = [
        poster.shop.as_str(),
        &poster.title.join("\n"),
        &poster.amount,
        &poster.scan,
        &url,
    ]
    .join("\0");
    let cached = DRAWN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .get(&key);
    if let Some(png) = cached {
        return image("image/png", png.to_vec());
    }
    // Drawing text and a QR code into a 2-megapixel image is CPU work: off the server's threads.
    match web::block(move || png(&poster, &url)).await {
        Ok(Ok(png)) => {
            let png: std::sync::Arc<[u8]> = png.into();
            DRAWN
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(&key, png.clone(), png.len());
            image("image/png", png.to_vec())
        }
        Ok(Err(e)) => {
            tracing::error!(error = %e, "rendering a poster failed");
            HttpResponse::InternalServerError().finish()
        }
        Err(e) => {
            tracing::error!(error = %e, "rendering a poster failed");
            HttpResponse::InternalServerError().finish()
        }
    }
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(poster_svg).service(poster_png);
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn titles_wrap_at_spaces_in_two_lines_at_most() {
        assert_eq!(wrap("Pagne wax"), ["Pagne wax"]);
        assert_eq!(
            wrap("Pagne wax bleu indigo six yards, coton de Côte d'Ivoire"),
            ["Pagne wax bleu indigo six", "yards, coton de Côte …"]
        );
        assert_eq!(wrap(&"x".repeat(40)), [format!("{} …", "x".repeat(26))]);
    }
}
